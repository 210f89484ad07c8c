"""The dashboard's pages through Streamlit's AppTest (no browser): controls, runs, charts, bad input.

Small populations and short horizons keep every run well under a second; replicates run in the
test process (``SOCIALSIM_DASHBOARD_WORKERS=0``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit", reason="the dashboard needs streamlit (pip install -e .)")
from streamlit.testing.v1 import AppTest

from dashboard import scenarios
from sim.outputs import SUMMARY_COLUMNS
from sim.scenario import load_scenario

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
SMALL = {"employees": "600", "departments": "6", "customers": "6000"}


@pytest.fixture(autouse=True)
def _dashboard_env(monkeypatch):
    monkeypatch.setenv("SOCIALSIM_DASHBOARD_WORKERS", "0")
    monkeypatch.setenv("SOCIALSIM_DASHBOARD_POPULATION", "small")


def start(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if query:
        at.query_params.update(query)
    if page:  # open that page directly, as a link to it would
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def titles(at: AppTest) -> list[str]:
    out = []
    for spec in charts(at):
        title = spec.get("layout", {}).get("title", {})
        out.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return out


def array(value) -> np.ndarray:
    """A plotly array from a figure's JSON (a list, or plotly's base64 typed array)."""
    if isinstance(value, dict) and "bdata" in value:
        import base64

        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value)


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def errors(at: AppTest) -> str:
    return " | ".join(e.value for e in at.error)


# ------------------------------------------------------------------ Explore
def test_explore_change_a_lever_run_and_see_every_chart():
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "30"})
    assert metric(at, "Posted in the last 4 weeks").endswith("%")  # a cheap first visit runs at once
    at.slider(key="lv_posting_friction").set_value(0.05).run()
    assert "press **Run**" in " ".join(i.value for i in at.info)
    assert at.query_params["posting_friction"] == ["0.05"] or at.query_params["posting_friction"] == "0.05"
    at.slider(key="ex_reps").set_value(2)
    at.button(key="ex_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, errors(at)
    shown = titles(at)
    for expected in ("Eligible staff who posted in the last 4 weeks", "Participation stages", "Contributors by department",
                     "Lorenz", "90-9-1", "network by stage", "Customer funnel", "Customer trust", "Value against cost"):
        assert any(expected in t for t in shown), (expected, shown)
    assert metric(at, "Posted in the last 4 weeks").endswith("%")
    assert "2 replicates" in " ".join(c.value for c in at.caption)
    assert {b.label for b in at.get("download_button")} >= {"Scenario file (.toml)", "Weekly results (.csv)",
                                                           "Report (.html)"}
    network = next(s for s in charts(at) if "network by stage" in str(s["layout"].get("title")))
    assert len(network["frames"]) >= 2 and array(network["data"][1]["x"]).size <= 400


def test_explore_link_reproduces_the_view():
    at = start({"preset": "purpose_led_stepwise", "posting_friction": "0.25", "use_culture": "false", **SMALL,
                "weeks": "30", "seed": "3", "replicates": "1"})
    assert not at.error, errors(at)
    assert at.selectbox(key="ex_choice").value == "purpose_led_stepwise"
    assert at.slider(key="lv_posting_friction").value == pytest.approx(0.25)
    assert at.toggle(key="lv_use_culture").value is False
    assert at.number_input(key="ex_seed").value == 3
    assert metric(at, "Verdict")


def test_explore_query_round_trip():
    base = load_scenario("purpose_led_stepwise")
    changed = base.with_levers(posting_friction=0.25, use_culture=False, access_scope="early_adopters",
                               shocks=[{"week": 3, "kind": "crisis", "severity": 0.5}])
    params = scenarios.to_query("purpose_led_stepwise", changed, seed=4)
    assert params["preset"] == "purpose_led_stepwise" and params["posting_friction"] == "0.25"
    back = scenarios.from_query(params)
    assert back.error is None and back.seed == 4
    assert back.scenario.scenario_hash() == changed.scenario_hash()


@pytest.mark.parametrize(("query", "message"), [
    ({"preset": "provide_and_pray", "posting_friction": "7"}, "posting_friction: 7 is out of range; allowed: 0.0 to 1.0"),
    ({"preset": "no_such_preset"}, "unknown preset 'no_such_preset'"),
    ({"preset": "provide_and_pray", "warp_speed": "9"}, "warp_speed: unknown key"),
    ({"preset": "provide_and_pray", "blame_culture": "NaN"}, "is not a finite number"),
    ({"preset": "provide_and_pray", "seed": "-1"}, "seed: -1 is out of range"),
    ({"preset": "provide_and_pray", "employees": "4000000", "customers": "0"}, "too many for the dashboard"),
])
def test_explore_bad_address_shows_an_error_and_the_page_still_works(query, message):
    at = start({**query, **SMALL} if "employees" not in query else query)
    assert message in errors(at), errors(at)
    assert at.title[0].value == "Explore a strategy"
    preset = "provide_and_pray"
    assert at.slider(key="lv_posting_friction").value == pytest.approx(load_scenario(preset).posting_friction)
    at.slider(key="lv_posting_friction").set_value(0.2).run()  # still usable
    assert not at.exception


@pytest.mark.parametrize(("content", "message"), [
    (b"\x00\xff\xfe binary", "is not UTF-8 text"),
    (b"posting_friction = [", "is not valid TOML"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, "TOML"),
    (b"posting_friction = 2.0", "posting_friction: 2.0 is out of range"),
    (b"employees = 3000000\ncustomers = 0", "too many for the dashboard"),
    (b"# " + b"x" * 200_000, "allowed: a scenario file of at most 100,000 bytes"),
])
def test_explore_hostile_upload_is_refused_with_a_message(content, message):
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "10"})
    at.file_uploader(key="ex_upload").set_value(("evil.toml", content, "application/toml")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert message in errors(at), errors(at)
    assert at.selectbox(key="ex_choice").value == "provide_and_pray"


def test_explore_upload_a_scenario_file():
    text = b'name = "my_org"\nposting_friction = 0.15\nemployees = 300\ndepartments = 3\ncustomers = 1000\nweeks = 12\n'
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "10"})
    at.file_uploader(key="ex_upload").set_value(("my_org.toml", text, "application/toml")).run()
    assert not at.error, errors(at)
    assert at.selectbox(key="ex_choice").value == "(uploaded file)"
    assert at.slider(key="lv_posting_friction").value == pytest.approx(0.15)
    at.button(key="ex_run").click().run()
    assert "preset" not in at.query_params and "name" in at.query_params
    assert any("my_org" in s.value for s in at.subheader)


def test_explore_runs_an_example_organisation_with_its_department_names():
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "20"})
    at.selectbox(key="ex_org").set_value("aucs").run()
    assert not at.error, errors(at)
    assert at.number_input(key="lv_employees").value == 61
    assert any("aucs: 61 employees in 9 departments, its real ties" in c.value for c in at.caption)
    at.button(key="ex_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    heatmap = next(s for s in charts(at) if "Contributors by department" in str(s["layout"].get("title")))
    labels = array(heatmap["data"][0]["y"]).tolist()
    assert labels[0] == "Department office (customer-facing)" and labels[-1] == "Group 3"  # Group 3 has no teacher
    network = next(s for s in charts(at) if "network by stage" in str(s["layout"].get("title")))
    assert any("Department office" in label for label in network["data"][1]["text"])


def test_explore_keeps_the_organisation_through_a_preset_or_population_change():
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "20"})
    at.selectbox(key="ex_org").set_value("generated_2000").run()
    at.selectbox(key="ex_choice").set_value("purpose_led_stepwise").run()
    assert not at.error, errors(at)
    assert any("generated_2000: 2,000 employees in 12 departments" in c.value for c in at.caption)
    at.selectbox(key="ex_pop").set_value("small").run()
    assert at.number_input(key="lv_employees").value == 2000 and at.number_input(key="lv_employees").disabled
    assert any("generated_2000: 2,000 employees in 12 departments" in c.value for c in at.caption)
    assert at.number_input(key="lv_customers").value == 6000  # the market follows the population


def test_explore_uploaded_hr_export_sets_the_organisation_and_a_bad_one_is_one_line():
    at = start({"preset": "provide_and_pray", **SMALL, "weeks": "20"})
    good = b"employee_id,department,manager_id,customer_facing\nboss,Sales,,true\n" + b"".join(
        f"p{i},{'Sales' if i % 2 else 'Support'},boss,{i % 2}\n".encode() for i in range(30))
    at.file_uploader(key="ex_org_upload").set_value(("hr.csv", good, "text/csv")).run()
    assert not at.error, errors(at)
    assert at.selectbox(key="ex_org").value == "(uploaded HR export)"
    assert at.number_input(key="lv_employees").value == 31
    at.button(key="ex_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    bad = b"employee_id,department,manager_id,customer_facing\nboss,Sales,,true\nx,Sales,nobody,true\n"
    at.file_uploader(key="ex_org_upload").set_value(("bad.csv", bad, "text/csv")).run()
    assert "row 3: manager_id 'nobody' is not an employee_id" in errors(at) and len(at.error) == 1
    assert at.number_input(key="lv_employees").value == 31  # the last good organisation stays


# ------------------------------------------------------------------ Compare
def test_compare_two_presets_over_replicates():
    at = start(page="views/compare.py")
    at.multiselect(key="cmp_presets").set_value(["provide_and_pray", "purpose_led_big_bang"])
    at.slider(key="cmp_replicates").set_value(3)
    at.button(key="cmp_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, errors(at)
    rates = [m for m in at.metric if m.label.endswith("success rate")]
    assert len(rates) == 2 and all(m.value.endswith("%") for m in rates)
    outcomes = next(d.value for d in at.dataframe if "provide_and_pray" in d.value.columns and
                    "success rate" in d.value.index)
    assert set(outcomes.columns) == {"provide_and_pray", "purpose_led_big_bang"}
    assert "[" in outcomes.loc["active_share", "provide_and_pray"]  # median [low, high]
    differs = next(d.value for d in at.dataframe if "lever" in d.value.columns)
    assert "purpose_strength" in set(differs["lever"]) and "employees" not in set(differs["lever"])
    shown = titles(at)
    assert any("Success rate" in t for t in shown) and len(shown) >= 6
    assert at.query_params["strategies"] in ("provide_and_pray,purpose_led_big_bang",
                                             ["provide_and_pray,purpose_led_big_bang"])


def test_compare_bad_link_falls_back():
    at = start({"strategies": "provide_and_pray,not_a_preset"}, page="views/compare.py")
    assert "'not_a_preset' is not a preset" in errors(at)
    assert at.multiselect(key="cmp_presets").value == ["provide_and_pray", "purpose_led_stepwise"]


def test_pages_ignore_each_others_address():
    at = start({"strategies": "provide_and_pray,two_track", "population": "small", "replicates": "2"},
               page="views/compare.py")
    assert at.multiselect(key="cmp_presets").value == ["provide_and_pray", "two_track"]
    at.switch_page("views/explore.py").run()
    assert not at.exception and not at.error, errors(at)
    assert at.selectbox(key="ex_choice").value == "provide_and_pray"
    assert at.slider(key="ex_reps").value == 1


# ------------------------------------------------------------------ Workshop
def test_workshop_steps_question_reveal():
    at = start(page="views/workshop.py")
    at.slider(key="ws_replicates").set_value(2).run()
    assert at.title[0].value.startswith("1. Provide and pray")
    assert any(s.value.startswith("Question to the room") for s in at.subheader)
    assert not at.get("plotly_chart")  # nothing before the reveal
    at.slider(key="ws_guess_0").set_value(35)
    at.button(key="ws_reveal_0").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 1
    assert metric(at, "provide and pray: contributing at week").endswith("%")
    assert any("The room guessed 35%" in m.value for m in at.markdown)
    at.button(key="ws_next").click().run()
    assert at.title[0].value.startswith("2. Add a purpose")
    at.button(key="ws_reveal_1").click().run()
    assert not at.exception, [e.value for e in at.exception]
    labels = [m.label for m in at.metric]
    assert any(label.startswith("+ a purpose") for label in labels)
    assert any(label.startswith("provide and pray") for label in labels)
    assert any("compelling purpose" in m.value for m in at.markdown)  # the article's words
    assert at.query_params["step"] in ("2", ["2"])
    at.button(key="ws_prepare").click().run()  # run every step ahead of a session
    assert not at.exception, [e.value for e in at.exception]
    assert any("Every step is ready" in s.value for s in at.success)


def test_workshop_bad_step_in_address():
    at = start({"step": "99"}, page="views/workshop.py")
    assert "step: '99' is not allowed; allowed: 1 to 8" in errors(at)
    assert at.title[0].value.startswith("1.")


# ------------------------------------------------------------------ Experiments
def synthetic_results(folder: Path) -> Path:
    """A results folder following the on-disk contract of sim/experiments/store.py."""
    rng = np.random.default_rng(0)
    purpose, friction = [0.0, 0.5, 1.0], [0.1, 0.4, 0.7]
    design = pd.DataFrame([{"point_id": i * 3 + j, "purpose_strength": p, "posting_friction": f}
                           for i, p in enumerate(purpose) for j, f in enumerate(friction)])
    rows = []
    for point in design.itertuples():
        for rep in range(2):
            share = float(np.clip(0.1 + 0.5 * point.purpose_strength - 0.4 * point.posting_friction
                                  + rng.normal(0, 0.02), 0, 1))
            summary = {k: float(rng.uniform()) for k in SUMMARY_COLUMNS}
            summary.update(active_share=share, success=int(share >= 0.2), peak_week=10, cross_silo_ties=100)
            rows.append({"run_id": point.point_id * 2 + rep, "point_id": point.point_id, "replicate": rep,
                         "seed": 100 + rep, "scenario": "purpose_led_stepwise", "scenario_hash": "abc",
                         "version": "0.1.0", "status": "ok", "error": None,
                         "purpose_strength": point.purpose_strength, "posting_friction": point.posting_friction,
                         **summary, "verdict": "success" if share >= 0.2 else "fizzle"})
    (folder / "parts").mkdir(parents=True)
    design.to_parquet(folder / "design.parquet", index=False)
    pd.DataFrame(rows).to_parquet(folder / "parts" / "part-00000.parquet", index=False)
    manifest = {"experiment": "synthetic", "design": "full_factorial", "problem": None,
                "factors": {"purpose_strength": {"kind": "values", "values": purpose},
                            "posting_friction": {"kind": "values", "values": friction}},
                "root_seed": 1, "replicates": 2, "weeks": 52, "version": "0.1.0", "n_points": 9, "n_runs": 18,
                "outputs": "final", "runs": []}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_experiments_browse_a_results_folder(tmp_path):
    folder = synthetic_results(tmp_path / "sweep")
    at = start(page="views/experiments.py")
    assert any("Choose or type a results folder" in i.value for i in at.info)
    at.text_input(key="exp_path").set_value(str(folder)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, errors(at)
    assert any(s.value == "Experiment: synthetic" for s in at.subheader) and metric(at, "Runs done") == "18 of 18"
    heat = next(s for s in charts(at) if s["data"][0]["type"] == "heatmap")
    assert array(heat["data"][0]["z"]).size == 9
    assert any("Main effects" in t for t in titles(at))
    table = next(d.value for d in at.dataframe if "point_id" in d.value.columns)
    assert len(table) == 9 and "active_share_mean" in table.columns
    filters = [m for m in at.multiselect if m.label == "purpose_strength"]
    filters[0].set_value([0.5, 1.0]).run()
    table = next(d.value for d in at.dataframe if "point_id" in d.value.columns)
    assert len(table) == 6


def test_experiments_bad_folder(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    at = start(page="views/experiments.py")
    for path in (str(tmp_path / "missing"), str(tmp_path)):
        at.text_input(key="exp_path").set_value(path).run()
        assert not at.exception, [e.value for e in at.exception]
        assert at.error, path


# ------------------------------------------------------------------ the command
def test_dashboard_command_starts_streamlit_on_localhost(monkeypatch):
    import subprocess

    from typer.testing import CliRunner

    from sim import cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda argv: calls.append(argv) or 0)
    result = CliRunner().invoke(cli.app, ["dashboard", "--no-browser", "--port", "8611"])
    assert result.exit_code == 0, result.output
    argv = calls[0]
    assert argv[1:4] == ["-m", "streamlit", "run"] and Path(argv[4]) == Path(APP)
    flags = dict(zip(argv[5::2], argv[6::2]))
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8611"
    assert flags["--server.headless"] == "true"
    assert os.path.isfile(argv[4])
