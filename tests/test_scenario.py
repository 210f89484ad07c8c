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
                        "use_listening", "use_rollout", "use_shocks"}
