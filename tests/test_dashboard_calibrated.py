"""Calibrated answers in the dashboard (issue 9, item 5), through AppTest and the compute layer.

Explore, Compare and Workshop draw every replicate's behavioural parameters from the default
posterior when one is available (the switch defaults on), say which posterior and how many draws,
give the developers' defaults when switched off, and are off and disabled without a posterior.
Each test writes its own small posterior and points ``SOCIALSIM_POSTERIOR`` at it (or at a
missing file), so nothing depends on whether a shipped posterior exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit (pip install -e .)")

import sim
from dashboard import charts as dashboard_charts
from dashboard import compute, scenarios
from sim.calibration import posterior as posteriors
from sim.errors import UserInputError
from tests.test_dashboard_apptest import SMALL, _dashboard_env, array, charts, errors, start  # noqa: F401

#: A cheap Explore view (a first visit this small runs at once).
EXPLORE = {"preset": "provide_and_pray", **SMALL, "weeks": "30", "seed": "3"}
TOGGLES = {"views/explore.py": "ex_calibrated", "views/compare.py": "cmp_calibrated",
           "views/workshop.py": "ws_calibrated"}


def write_posterior(path, threshold_mean=(0.55, 0.6, 0.65)):
    """A three-particle posterior inside every parameter's range, far enough from the defaults
    (threshold_mean 0.8) that calibrated runs visibly differ from uncalibrated ones."""
    frame = pd.DataFrame({"threshold_mean": list(threshold_mean), "contribution_rate": [0.27, 0.3, 0.33],
                          "hierarchy_influence": ["top_down", "bottom_up", "middle_out"],
                          "weight": [0.5, 0.3, 0.2]})
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def posterior(tmp_path, monkeypatch):
    """The default posterior for this test (``SOCIALSIM_POSTERIOR``), loaded."""
    monkeypatch.setenv(posteriors.POSTERIOR_ENV, str(write_posterior(tmp_path / "posterior.csv")))
    assert posteriors.available()
    return posteriors.load()


@pytest.fixture
def no_posterior(tmp_path, monkeypatch):
    monkeypatch.setenv(posteriors.POSTERIOR_ENV, str(tmp_path / "none" / "posterior.csv"))
    assert not posteriors.available()


def captions(at) -> str:
    return " | ".join(c.value for c in at.caption)


def stage_traces(at) -> list[np.ndarray]:
    """The y values of Explore's 'Participation stages' chart (replicate 1), trace by trace."""
    spec = next(s for s in charts(at) if "Participation stages" in str(s["layout"].get("title")))
    return [array(trace["y"]) for trace in spec["data"]]


def expected_stages(calibrated) -> list[np.ndarray]:
    """The same chart drawn from sim.run itself for Explore's scenario and replicate 1's seed."""
    asked = scenarios.from_query({k: v for k, v in EXPLORE.items() if k != "seed"})
    assert asked.error is None, asked.error
    scenario = asked.scenario
    run = sim.run(scenario, seed=sim.replicate_seeds(3, 1)[0], calibrated=calibrated)
    return [np.asarray(trace.y) for trace in dashboard_charts.stage_area(run).data]


def same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


# ------------------------------------------------------------------ Explore
def test_explore_defaults_to_calibrated_and_switching_off_gives_the_defaults(posterior):
    calibrated, uncalibrated = expected_stages(True), expected_stages(False)
    assert not same(calibrated, uncalibrated)  # else this test could not tell them apart
    at = start(EXPLORE)
    assert not at.error, errors(at)
    toggle = at.toggle(key="ex_calibrated")
    assert toggle.value is True and not toggle.proto.disabled
    assert f"posterior {posterior.id}: 1 draw (1 distinct particle)" in captions(at)
    assert "band combines" not in captions(at)  # one run: no band to speak of
    assert same(stage_traces(at), calibrated)  # the charts show the calibrated run, exactly
    assert "calibrated" not in at.query_params  # on is the default: links stay as they were
    assert any("threshold_mean" in i.value and "not used" in i.value for i in at.info)  # which levers it replaces

    at.toggle(key="ex_calibrated").set_value(False).run()
    assert any("calibration switch changed" in i.value for i in at.info)  # not rerun behind the visitor's back
    at.button(key="ex_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle(key="ex_calibrated").value is False
    assert "developers' defaults (uncalibrated)" in captions(at) and posterior.id not in captions(at)
    assert same(stage_traces(at), uncalibrated)
    assert at.query_params["calibrated"] in ("false", ["false"])


def test_explore_replicates_each_draw_and_a_link_can_ask_for_uncalibrated(posterior):
    at = start({**EXPLORE, "replicates": "4"})
    shown = captions(at)
    assert f"posterior {posterior.id}: 4 draws" in shown and "parameter and stochastic uncertainty" in shown
    link = start({**EXPLORE, "calibrated": "false"})
    assert not link.error, errors(link)
    assert link.toggle(key="ex_calibrated").value is False
    assert "developers' defaults (uncalibrated)" in captions(link)
    assert link.slider(key="lv_posting_friction").value == pytest.approx(
        sim.load_scenario("provide_and_pray").posting_friction)  # the parameter is not a lever
    bad = start({**EXPLORE, "calibrated": "maybe"})
    assert "calibrated: 'maybe' is not allowed; allowed: true or false" in errors(bad)
    assert bad.toggle(key="ex_calibrated").value is True


def test_without_a_posterior_the_switch_is_off_disabled_and_says_why(no_posterior):
    at = start(EXPLORE)
    toggle = at.toggle(key="ex_calibrated")
    assert toggle.value is False and toggle.proto.disabled
    assert "No calibrated posterior on this server yet" in captions(at)
    assert "developers' defaults (uncalibrated)" in captions(at)
    assert same(stage_traces(at), expected_stages(False))
    for page, key in list(TOGGLES.items())[1:]:
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.toggle(key=key).value is False and at.toggle(key=key).proto.disabled, page


def test_a_posterior_the_model_refuses_disables_the_switch_with_its_reason(tmp_path, monkeypatch):
    bad = tmp_path / "posterior.csv"
    pd.DataFrame({"warp_speed": [1.0], "weight": [1.0]}).to_csv(bad, index=False)
    monkeypatch.setenv(posteriors.POSTERIOR_ENV, str(bad))
    at = start(EXPLORE)
    assert not at.exception, [e.value for e in at.exception]
    toggle = at.toggle(key="ex_calibrated")
    assert toggle.value is False and toggle.proto.disabled
    assert "cannot be used" in captions(at) and "'warp_speed' is not a behavioural parameter" in captions(at)


# ------------------------------------------------------------------ Compare and Workshop
def test_compare_is_calibrated_by_default_and_the_choice_holds_on_every_page(posterior):
    at = start(page="views/compare.py")
    assert at.toggle(key="cmp_calibrated").value is True
    at.multiselect(key="cmp_presets").set_value(["provide_and_pray", "purpose_led_big_bang"])
    at.slider(key="cmp_replicates").set_value(3)
    at.button(key="cmp_run").click().run()
    assert not at.exception and not at.error, errors(at)
    assert f"posterior {posterior.id}: 3 draws" in captions(at) and "the same draws for every strategy" in captions(at)
    table = next(d.value for d in at.dataframe if "provide_and_pray" in d.value.columns and
                 "success rate" in d.value.index)
    calibrated = table.copy()

    at.toggle(key="cmp_calibrated").set_value(False).run()
    assert any("press **Run comparison** to update" in i.value for i in at.info)
    at.button(key="cmp_run").click().run()
    assert "developers' defaults (uncalibrated)" in captions(at) and posterior.id not in captions(at)
    table = next(d.value for d in at.dataframe if "provide_and_pray" in d.value.columns and
                 "success rate" in d.value.index)
    assert not table.equals(calibrated)  # other runs, not the cached calibrated ones
    assert at.query_params["calibrated"] in ("false", ["false"])
    for page, key in TOGGLES.items():  # one choice for the whole dashboard
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.toggle(key=key).value is False, page


def test_workshop_reveal_names_the_posterior_and_switching_off_recomputes(posterior):
    at = start(page="views/workshop.py")
    assert at.toggle(key="ws_calibrated").value is True
    at.slider(key="ws_replicates").set_value(2).run()
    at.button(key="ws_reveal_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"posterior {posterior.id}: 2 draws" in captions(at)
    at.toggle(key="ws_calibrated").set_value(False).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "developers' defaults (uncalibrated)" in captions(at) and posterior.id not in captions(at)


# ------------------------------------------------------------------ the compute layer
def small_key() -> str:
    scenario = sim.load_scenario("provide_and_pray").with_levers(employees=300, departments=3, customers=1000,
                                                                 weeks=10)
    return compute.scenario_key(scenario)


def test_calibrated_and_uncalibrated_results_have_their_own_cache_entries(posterior):
    key = small_key()
    calibrated = compute.run_set(key, 11, 2, posterior.id)
    uncalibrated = compute.run_set(key, 11, 2)
    assert [r.posterior for r in uncalibrated] == [None, None]
    assert all(r.posterior["id"] == posterior.id for r in calibrated)
    assert all(r.provenance["posterior"] == posterior.id for r in calibrated)
    for result, seed in zip(calibrated, sim.replicate_seeds(11, 2)):  # as sim.run(calibrated=True) gives
        direct = sim.run(compute.scenario_from_key(key), seed=seed, calibrated=True)
        assert result.posterior == direct.posterior
        pd.testing.assert_frame_equal(result.series, direct.series)
    # Explore's own stepping of replicate 1 is the same run as sim.run's.
    explored, _ = compute.explore_run(key, 11, 2, posterior.id)
    assert [r.posterior for r in explored] == [r.posterior for r in calibrated]
    pd.testing.assert_frame_equal(explored[0].series, calibrated[0].series)
    assert compute.explore_run(key, 11, 2)[0][0].posterior is None


def test_a_replaced_posterior_is_refused_instead_of_filed_under_the_old_id(posterior, tmp_path, monkeypatch):
    monkeypatch.setenv(posteriors.POSTERIOR_ENV, str(write_posterior(tmp_path / "other.csv", (0.7, 0.75, 0.9))))
    with pytest.raises(UserInputError, match="default posterior changed"):
        compute.run_set(small_key(), 12, 2, posterior.id)


def test_worker_processes_draw_as_the_server_process_does(posterior, monkeypatch):
    monkeypatch.setenv("SOCIALSIM_DASHBOARD_WORKERS", "1")
    scenario = compute.scenario_from_key(small_key())
    seeds = sim.replicate_seeds(13, 3)
    calibrated = compute._calibrated(posterior.id)
    try:
        futures = compute._submit(scenario, seeds, calibrated)
        assert futures is not None, "no worker pool"
        pooled = compute._collect(futures, scenario, seeds, None, 0, len(seeds), calibrated)
    finally:
        pool = compute.worker_pool(1)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        compute.worker_pool.clear()
    here = compute._run_here(scenario, seeds, None, 0, len(seeds), calibrated)
    assert [r.posterior for r in pooled] == [r.posterior for r in here]
    assert all(r.posterior["id"] == posterior.id for r in pooled)
    for a, b in zip(pooled, here):
        pd.testing.assert_frame_equal(a.series, b.series)
