"""Issue 11 on the dashboard, through AppTest: bad links and paths give a short message, Compare
does not run what it refused, colours follow the strategy, labels say median or replicate, and
the HTML report holds every replicate, the seed entered and the levers."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit (pip install -e .)")

import sim
from dashboard import charts, story
from sim import report
from tests.test_dashboard_apptest import SMALL, _dashboard_env, charts as chart_specs, errors, start  # noqa: F401


def test_a_10000_character_preset_is_not_echoed():
    at = start({"preset": "x" * 10_000, **SMALL, "weeks": "10"})
    message = errors(at)
    assert "is not" in message or "unknown preset" in message
    assert len(message) < 600 and "x" * 100 not in message


def test_a_3000_character_path_on_experiments_is_a_short_message():
    at = start(page="views/experiments.py")
    at.text_input(key="exp_path").set_value("/" + "a" * 3000).run()
    assert not at.exception, [e.value for e in at.exception]
    message = errors(at)
    assert "3,001 characters" in message and len(message) < 300


@pytest.mark.parametrize("bad", [{"population": "huge"}, {"replicates": "0"}, {"replicates": "lots"}])
def test_compare_refuses_a_bad_link_instead_of_running(bad):
    at = start({"strategies": "provide_and_pray,purpose_led_big_bang", **bad}, page="views/compare.py")
    message = errors(at)
    assert list(bad)[0] in message and "not allowed" in message
    assert not chart_specs(at), "it ran anyway"
    assert any("Press **Run comparison**" in i.value for i in at.info)


def test_a_strategy_keeps_its_colour_whatever_is_beside_it():
    def runs(name):
        return [sim.run(name, seed=1, population="small", weeks=4)]

    pray = runs("provide_and_pray")
    one = charts.share_bands({"command_and_control": runs("command_and_control"), "provide_and_pray": pray})
    two = charts.share_bands({"provide_and_pray": pray, "two_track": runs("two_track")})

    def colour(fig, name):
        return next(t.line.color for t in fig.data if t.name == name)

    assert colour(one, "provide_and_pray") == colour(two, "provide_and_pray")
    assert colour(one, "command_and_control") != colour(one, "provide_and_pray")


def test_the_heading_names_what_the_charts_show():
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "10"})
    assert any("provide_and_pray" in h.value for h in at.subheader)
    at.selectbox(key="ex_choice").set_value("purpose_led_big_bang").run()
    headings = [h.value for h in at.subheader if "seed" in h.value]
    assert headings and all("provide_and_pray" in h for h in headings), headings
    assert any("press **Run**" in i.value for i in at.info)


def test_metrics_say_median_with_several_replicates():
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "10", "replicates": "3"})
    labels = [m.label for m in at.metric]
    numeric = [label for label in labels if not label.startswith("Verdict")]
    assert numeric and all("(median)" in label for label in numeric), labels


def test_reports_hold_every_replicate_the_entered_seed_and_the_levers():
    scenario = sim.load_scenario("provide_and_pray").with_population("small").with_levers(weeks=6)
    runs = sim.run_replicates(scenario, 3, seed=1234)
    page = report.compare_report_html({"provide_and_pray": runs}, root_seed=1234,
                                      scenarios={"provide_and_pray": scenario})
    assert "1234" in page and "Lever values" in page and "posting_friction" in page
    for run in runs:
        assert str(run.seed) in page
    assert "across 3 replicates" in page


def test_workshop_step_6_credits_the_clampdown_not_the_crisis():
    step = next(s for s in story.STEPS if s.title.startswith("6."))
    assert "clampdown (week 70)" in step.mechanism and "not the crisis" in step.mechanism
