"""Scenario validation: one layer, one clear message naming file, key and what is allowed."""

from __future__ import annotations

import pytest

from sim import ScenarioError, SocialBusinessModel, load_scenario, make_scenario
from sim.scenario import Scenario, lever_info, to_toml


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, key, fragment", [
    ("employees = 300\nfoo = 1\n", "foo", "unknown key"),
    ("employess = 300\n", "employess", "did you mean employees"),
    ("employees = \"many\"\n", "employees", "'many'"),
    ("posting_friction = 2\n", "posting_friction", "allowed: 0.0 to 1.0"),
    ("employees = 5\ndepartments = 10\n", "departments", "at most one department per employee"),
    ("departments = 0\n", "departments", "allowed: 1 to"),
    ("access_scope = \"some\"\n", "access_scope", "'everyone'"),
    ("[[shocks]]\nweek = 3\nkind = \"alien_invasion\"\n", "shocks[0].kind", "'crisis'"),
    ("[[waves]]\nweek = 0\ndepartments = [99]\n", "waves[0].departments", "department 99 does not exist"),
    ("waves = []\n", "waves", "at least one wave"),
])
def test_bad_values_name_the_file_and_key(tmp_path, text, key, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert str(path) in message
    assert err.value.key == key
    assert fragment in message
    assert "\n" not in message


def test_malformed_toml(tmp_path):
    path = write(tmp_path, "employees = = 3\n")
    with pytest.raises(ScenarioError, match="is not valid TOML"):
        load_scenario(path)


def test_missing_file_and_unknown_preset():
    with pytest.raises(ScenarioError, match="no such file or preset; allowed presets: .*provide_and_pray"):
        load_scenario("no_such_preset")
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario("/nonexistent/dir/x.toml")


def test_keyword_levers_are_validated_too():
    with pytest.raises(ScenarioError) as err:
        SocialBusinessModel(employees=100, posting_friction=-1)
    assert err.value.key == "posting_friction"
    with pytest.raises(ScenarioError, match="not a finite number"):
        make_scenario({"purpose_strength": float("nan")})


@pytest.mark.parametrize("preset", ["purpose_led_stepwise", "provide_and_pray", "purpose_led_under_shocks"])
def test_round_trip_through_toml(tmp_path, preset):
    scenario = load_scenario(preset)
    path = write(tmp_path, to_toml(scenario), "copy.toml")
    again = load_scenario(path)
    assert again == scenario
    assert again.scenario_hash() == scenario.scenario_hash()


def test_defaults_round_trip_through_toml(tmp_path):
    assert load_scenario(write(tmp_path, to_toml(Scenario()), "d.toml")) == Scenario()


def test_every_lever_is_documented():
    rows = lever_info()
    assert {r["name"] for r in rows} == set(Scenario.model_fields)
    for row in rows:
        assert row["doc"], row["name"]
    for name in ("posting_friction", "purpose_strength", "leader_participation", "blame_culture"):
        row = next(r for r in rows if r["name"] == name)
        assert row["source"] and row["mechanism"]


def test_every_mechanism_has_a_switch():
    switches = {name for name in Scenario.model_fields if name.startswith("use_")}
    assert switches == {"use_barriers", "use_network_effect", "use_purpose", "use_role_models",
                        "use_peer_influence", "use_culture", "use_customers", "use_productivity",
                        "use_listening", "use_rollout", "use_shocks", "use_customer_feedback", "use_turnover"}


def test_every_key_has_a_group_and_behavioural_parameters_say_why():
    """Keys are grouped (strategy levers apart from behavioural parameters); every behavioural
    parameter documents why its default is what it is."""
    from sim.parameters import GROUPS

    rows = lever_info()
    assert {r["group"] for r in rows} <= set(GROUPS)
    assert all(r["group"] for r in rows)
    behaviour = [r for r in rows if r["group"] == "behaviour"]
    assert len(behaviour) > 60
    for row in behaviour:
        assert row["why"], row["name"]
    strategy = {r["name"] for r in rows if r["group"] == "strategy"}
    assert {"posting_friction", "purpose_strength", "leader_participation", "open_by_default", "waves",
            "shocks"} <= strategy
    assert not strategy & {r["name"] for r in behaviour}


def test_former_hard_coded_constants_are_parameters():
    """The response constants of v1 (ANSWER_TRUST_GAIN, CONNECTIVE_TIES, ...) are parameters now."""
    from sim import kernels

    for name in ("answer_trust_gain", "public_answer_bonus", "waiting_trust_loss", "give_up_factor",
                 "advocate_pull", "contact_pull", "connective_ties", "mistake_trust_step", "viral_trust_step",
                 "trust_spread", "threshold_cap", "final_window", "min_peak_for_collapse", "crisis_hit_chance",
                 "crisis_trust_loss", "friction_slowdown", "purpose_transmission", "receptiveness_min",
                 "value_people_share"):
        assert name in Scenario.model_fields, name
    leftovers = [n for n in dir(kernels) if n.isupper() and n not in (
        "NON_USER", "READER", "CONTRIBUTOR", "CHAMPION", "LAPSED", "STAGE_NAMES", "DETRACTOR", "NEUTRAL", "ADVOCATE")]
    assert leftovers == []


def test_presets_are_strategy_levers_only():
    """A preset is a bundle of strategy levers and a schedule: calibration never touches it."""
    import tomllib

    from sim.scenario import SCENARIO_DIR, keys_in_group, preset_names

    allowed = set(keys_in_group("strategy")) | {"name", "description"}
    for name in preset_names():
        data = tomllib.loads((SCENARIO_DIR / f"{name}.toml").read_text())
        assert set(data) <= allowed, (name, set(data) - allowed)


def test_wave_spread_is_clustered_or_scattered():
    wave = Scenario(waves=[{"week": 0, "share": 0.5, "spread": "scattered"}]).waves[0]
    assert wave.spread == "scattered"
    assert Scenario().waves[0].spread == "clustered"
    with pytest.raises(ScenarioError):
        make_scenario({"waves": [{"week": 0, "spread": "thin"}]})
