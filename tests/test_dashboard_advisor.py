"""The dashboard's Advisor page (issue 10, item 6) through Streamlit's AppTest, and once in a browser.

A small organisation (150 employees, 40 weeks) and a small search keep every run to seconds;
runs go in the test process (``SOCIALSIM_DASHBOARD_WORKERS=0``). The page's answer is checked
against :func:`sim.advisor.advise` called directly with the same request.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit (pip install -e .)")
from streamlit.testing.v1 import AppTest

from sim.advisor import advise
from sim.calibration import posterior as posteriors
from sim.scenario import Scenario, load_scenario
from tests.test_dashboard_apptest import APP, _dashboard_env, array, charts, errors  # noqa: F401
from tests.test_dashboard_browser import browser, server  # noqa: F401 - the browser test's fixtures

PAGE = "views/advisor.py"


@pytest.fixture(autouse=True)
def _session_folders_in_tmp_path(tmp_path, monkeypatch):
    """The page's per-session folders (tempfile.mkdtemp, in this process) go to the test's tmp_path."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

LEVERS = ["purpose_strength", "leader_participation", "posting_friction", "rollout"]
SIZE = {"ad_employees": 150, "ad_departments": 3, "ad_customers": 300, "ad_weeks": 40}
SEARCH = {"ad_trials": 8, "ad_replicates": 3, "ad_confirm": 10, "ad_seed": 5}


def open_advisor(at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Strategy advisor"
    assert not at.error, errors(at)  # the first visit's request is one the dashboard runs
    return at


def small_request(at: AppTest, **search) -> AppTest:
    """The custom small organisation and a small search, set in the sidebar (not run)."""
    at.selectbox(key="ad_pop").set_value("custom").run()
    for key, value in {**SIZE, **SEARCH, **search}.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def press_run(at: AppTest) -> AppTest:
    at.button(key="ad_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def plans(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "p_success_low" in d.value.columns)


def front(at: AppTest) -> dict:
    return next(s for s in charts(at) if "Pareto front" in str(s["layout"].get("title")))


def folders(at: AppTest) -> list[Path]:
    root = at.session_state["ad_root"] if "ad_root" in at.session_state else None
    return sorted(Path(root).glob("advice-*")) if root else []


def expected_plans(seed: int = SEARCH["ad_seed"], **search) -> pd.DataFrame:
    """The library's plans for the page's request (calibrated, as the page by default, when a posterior exists)."""
    base = load_scenario("provide_and_pray").with_levers(employees=150, departments=3, customers=300, weeks=40)
    calibrated = str(posteriors.load().path) if posteriors.available() else False
    with tempfile.TemporaryDirectory() as out:
        return advise(base, out_dir=out, levers=LEVERS, trials=SEARCH["ad_trials"], replicates=SEARCH["ad_replicates"],
                      confirm=SEARCH["ad_confirm"], seed=seed, target=0.5, workers=0, calibrated=calibrated,
                      **search).plans


# ------------------------------------------------------------------ a run
def test_a_small_run_shows_the_front_the_plans_the_verdict_and_the_downloads():
    at = small_request(open_advisor())
    assert set(at.multiselect(key="ad_levers").value) == set(LEVERS)  # the default levers
    assert any("Press **Run advisor**" in i.value for i in at.info) and not charts(at)
    press_run(at)
    assert not at.error, errors(at)
    assert any(s.label.startswith("Done:") for s in at.status)  # the progress box, finished
    table = plans(at)
    assert len(table) >= 1 and set(LEVERS) <= set(table.columns)
    assert (table["p_success_low"] <= table["p_success"]).all() and (table["p_success"] <= table["p_success_high"]).all()
    assert (table["cost"] >= 0).all() and table["cost"].is_monotonic_increasing  # the cheapest first
    # the chart: the plans with their intervals as error bars, and the current scenario marked
    spec = front(at)
    assert spec["layout"]["xaxis"]["title"]["text"].startswith("cost")
    traces = {t["name"]: t for t in spec["data"]}
    plotted = traces["Pareto plans (fresh seeds)"]
    assert list(array(plotted["y"])) == pytest.approx(list(table["p_success"]))
    assert list(array(plotted["error_y"]["array"])) == pytest.approx(list(table["p_success_high"] - table["p_success"]))
    assert list(array(plotted["error_y"]["arrayminus"])) == pytest.approx(list(table["p_success"] - table["p_success_low"]))
    assert array(traces["your current scenario"]["x"])[0] == 0.0
    # the verdict, read from the advisor's answer
    out = folders(at)[0]
    advice = json.loads((out / "advice.json").read_text())
    current = advice["current"]
    reached = current["p_success"] >= 0.5
    assert next(m.value for m in at.metric if m.label.startswith("Target")) == ("reached" if reached else "missed")
    assert any(f"on {SEARCH['ad_confirm']} fresh seeds; it {'reaches' if reached else 'misses'} the target 50%" in c.value
               for c in at.caption)
    shown = " ".join(x.value for x in [*at.success, *at.warning, *at.info])
    if advice["flip"] is None:
        assert "No plan found flips" in shown
    else:
        assert f"Smallest change that flips the verdict: **{advice['flip']['plan']}**" in shown
    labels = {b.label for b in at.get("download_button")}
    assert {"Report (.html)", "Every plan (.zip of .toml)"} <= labels
    assert any(label.endswith("as a scenario file (.toml)") for label in labels)
    box = at.selectbox(key="ad_plan")
    assert box.value == table["plan"].iloc[0] and len(box.options) == len(table)
    assert box.options[0].startswith(f"{table['plan'].iloc[0]}: P(success) ")
    assert "Pareto front" in (out / "report.html").read_text()


def test_the_same_request_gives_the_same_table_and_the_librarys_plans():
    at = press_run(small_request(open_advisor()))
    first = plans(at)
    out = folders(at)
    journal = (out[0] / "study.journal").stat().st_mtime_ns
    press_run(at)  # the same request again: the finished answer, not a new search
    assert folders(at) == out and (out[0] / "study.journal").stat().st_mtime_ns == journal
    pd.testing.assert_frame_equal(plans(at), first)
    other = press_run(small_request(open_advisor()))  # another session, its own folder: a new search
    assert folders(other)[0].parent != out[0].parent
    pd.testing.assert_frame_equal(plans(other), first)
    library = expected_plans()
    pd.testing.assert_frame_equal(first, library.reindex(columns=first.columns), check_dtype=False)
    # another seed is another request: another folder, and the page says the answer shown is stale until run
    at.number_input(key="ad_seed").set_value(6).run()
    assert any("settings changed" in i.value for i in at.info)
    press_run(at)
    assert len(folders(at)) == 2


def test_no_lever_ticked_is_one_line_and_no_run():
    at = small_request(open_advisor())
    at.multiselect(key="ad_levers").set_value([]).run()
    press_run(at)
    message = errors(at)
    assert "levers the advisor may move: none ticked; allowed: at least one of purpose_strength" in message
    assert len(at.error) == 1 and "\n" not in message
    assert not charts(at) and not folders(at)


def test_a_request_too_large_for_the_dashboard_is_refused():
    at = small_request(open_advisor(), ad_trials=500, ad_confirm=500)
    at.number_input(key="ad_employees").set_value(400_000)
    at.number_input(key="ad_customers").set_value(1_000_000).run()
    press_run(at)
    assert "too long for the dashboard" in errors(at) and not folders(at)


# ------------------------------------------------------------------ Explore
def test_open_a_plan_in_explore_shows_its_levers():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()  # the visitor starts on Explore, as the dashboard opens
    assert at.title and at.title[0].value == "Explore a strategy", [e.value for e in at.exception]
    at = press_run(small_request(open_advisor(at)))
    table = plans(at)
    moved = table[table["changes"] > 0]
    assert len(moved), table  # the small search finds a plan that changes something
    plan = moved.iloc[-1]
    at.selectbox(key="ad_plan").set_value(plan["plan"]).run()
    at.button(key="ad_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Explore a strategy"
    scenario = load_scenario(folders(at)[0] / "plans" / f"{plan['plan']}.toml")
    for lever in ("purpose_strength", "leader_participation", "posting_friction"):
        assert at.slider(key=f"lv_{lever}").value == pytest.approx(plan[lever]), lever
        assert getattr(scenario, lever) == pytest.approx(plan[lever])
    assert at.selectbox(key="ex_choice").value == "provide_and_pray"
    assert int(at.number_input(key="lv_employees").value) == 150
    # Explore ran the plan (cheap) and wrote it into the address: a link reproduces it
    assert any(scenario.name in s.value for s in at.subheader)
    assert at.query_params["posting_friction"] in ([json.dumps(plan["posting_friction"])],
                                                   json.dumps(plan["posting_friction"]))


# ------------------------------------------------------------------ your organisation
ORG_CSV = ("employee_id,department,manager_id,customer_facing\n"
           "boss,Board,,false\n"
           + "".join(f"s{i},Sales,boss,true\n" for i in range(12))
           + "".join(f"e{i},Engineering,boss,false\n" for i in range(12)))


@pytest.mark.skipif("organisation" not in Scenario.model_fields, reason="the simulator has no imported organisations")
def test_an_uploaded_organisation_sets_the_head_count_and_a_bad_one_is_one_line():
    at = small_request(open_advisor(), ad_trials=4, ad_replicates=2, ad_confirm=6)
    options = at.selectbox(key="ad_org").options
    assert options[0].startswith("generated") and options[-1] == "upload a CSV" and any("aucs" in o for o in options)
    at.selectbox(key="ad_org").set_value("upload a CSV").run()
    assert any("Upload your HR export" in i.value for i in at.info)
    at.file_uploader(key="ad_org_upload").set_value(("hr.csv", b"employee_id,department\nx,y\n", "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "uploaded file 'hr.csv'" in errors(at) and "missing columns" in errors(at)
    assert "socialsim-" not in errors(at) and "hr-" not in errors(at)  # the visitor's file, not the server's copy
    at.file_uploader(key="ad_org_upload").set_value(("hr.csv", ORG_CSV.encode(), "text/csv")).run()
    assert not at.error, errors(at)
    assert any("25 employees in 3 departments" in c.value for c in at.caption)
    ties = b"source,target\ns0,nobody\n"  # a tie to someone not in the chart
    at.file_uploader(key="ad_ties_upload").set_value(("ties.csv", ties, "text/csv")).run()
    assert "uploaded file 'ties.csv'" in errors(at) and "'nobody' is not an employee_id" in errors(at), errors(at)
    ties = b"source,target\n" + b"".join(f"s{i},e{i}\n".encode() for i in range(12))
    at.file_uploader(key="ad_ties_upload").set_value(("ties.csv", ties, "text/csv")).run()
    assert not at.error, errors(at)
    assert any("25 employees in 3 departments, its real ties" in c.value for c in at.caption)
    press_run(at)
    assert not at.error, errors(at)
    assert len(plans(at)) >= 1
    written = load_scenario(next(folders(at)[0].glob("plans/*.toml")))
    assert written.employees == 25 and Path(written.organisation).read_text() == ORG_CSV
    assert Path(written.ties).read_bytes() == ties


# ------------------------------------------------------------------ in a browser
def test_the_advisor_in_a_browser(advisor_tab, server):
    """The page in Chromium (skipped without it, as tests/test_dashboard_browser.py): reached from the
    navigation, a small search on the server's Dask worker, the front drawn, no error logged."""
    from tests.test_dashboard_browser import RUN_TIMEOUT

    tab = advisor_tab
    tab.open(server)
    tab.page.get_by_role("link", name="Advisor").click()  # the page, reached as a visitor does
    tab.page.get_by_text("Press Run advisor", exact=False).wait_for(timeout=60_000)
    sidebar = tab.page.locator("[data-testid='stSidebar']")
    sidebar.get_by_role("combobox", name="Population").click()
    tab.page.get_by_role("option", name="custom").click()
    for label, value in (("employees", 150), ("departments", 3), ("customers", 300), ("weeks (horizon)", 40),
                         ("Candidate plans (trials)", 4), ("Runs per candidate (replicates)", 2),
                         ("Fresh-seed runs per plan (confirm)", 6)):
        box = sidebar.get_by_role("spinbutton", name=label, exact=True)
        box.wait_for(timeout=60_000)
        box.fill(str(value))
        box.press("Enter")
        tab.idle()
    tab.page.get_by_role("button", name="Run advisor").click()
    tab.page.get_by_text("Use a plan").wait_for(timeout=RUN_TIMEOUT)
    assert tab.wait_charts(1) >= 1
    assert tab.page.locator(".js-plotly-plot").filter(has_text="Pareto front").count() == 1
    assert tab.page.locator("[data-testid='stDataFrame']").count() >= 1
    tab.shot("advisor")
    tab.check_clean()


@pytest.fixture
def advisor_tab(browser):
    from tests.test_dashboard_browser import Page

    page = Page(browser)
    yield page
    page.close()
