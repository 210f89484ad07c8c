"""Contract: every shipped preset validates, names its source article, is made only of levers,
and runs at small size producing every output."""

from __future__ import annotations

import tomllib

import pytest

from sim import SocialBusinessModel, load_scenario, preset_names
from sim.outputs import SERIES_COLUMNS, VERDICTS
from sim.scenario import LEVER_NAMES, POPULATIONS, SCENARIO_DIR, preset_summary

PRESETS = preset_names()
REQUIRED = {"provide_and_pray", "marketing_only", "early_adopters_only", "purpose_led_stepwise",
            "purpose_led_big_bang", "inside_out", "two_track", "command_and_control"}


def test_all_required_presets_exist():
    assert REQUIRED <= set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_names_its_article_and_uses_only_levers(name):
    text = (SCENARIO_DIR / f"{name}.toml").read_text()
    first = text.splitlines()[0]
    assert first.startswith("# ") and "seeds/00" in first, "first line must say which article describes it"
    assert preset_summary(name)
    data = tomllib.loads(text)
    assert set(data) <= set(LEVER_NAMES)
    assert data["name"] == name


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("population", ["small"])
def test_preset_runs_and_produces_every_output(name, population):
    preset = load_scenario(name)
    # a 30-week horizon keeps the schedule entries within it (later ones would be refused)
    schedule = {key: [item.model_dump(exclude_none=True) for item in getattr(preset, key) if item.week < 30]
                for key in ("waves", "shocks")}
    scenario = preset.with_population(population).with_levers(weeks=30, **schedule)
    assert scenario.employees == POPULATIONS[population]["employees"]
    result = SocialBusinessModel(scenario, rng=1).run()
    assert list(result.series.columns) == list(SERIES_COLUMNS)
    assert len(result.series) == 31
    assert result.verdict in VERDICTS
    assert result.series["week"].tolist() == list(range(31))
    assert not result.series.drop(columns=["response_time", "mean_trust"]).isna().any().any()
    assert result.departments["department"].nunique() == scenario.departments
    assert len(result.participation) == scenario.employees


@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_loadable_by_path_and_by_name(name):
    assert load_scenario(name) == load_scenario(SCENARIO_DIR / f"{name}.toml")
