"""Your organisation (issue 10, items 1-3): an HR export and real ties imported, checked and run.

The shipped examples (the AUCS department network from uunet and a generated 2,000-person chart),
what the file decides (hierarchy, departments, customer-facing staff, executives), the ties,
department names in the tables, waves by department name, hashes by content, bitwise
reproducibility, and one clear line with exit 2 for every kind of bad file.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import sim
from sim import orgchart
from sim.cli import app
from sim.errors import UserInputError
from sim.model import SocialBusinessModel
from sim.scenario import load_scenario, make_scenario
from tests.conftest import one_line_error

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
ORGS = ROOT / "scenarios" / "orgs"
HEADER = "employee_id,department,manager_id,customer_facing"
SMALL_MARKET = dict(customers=300, weeks=30)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def org(tmp_path) -> Path:
    """A tiny chart whose rows are out of order: a report comes before its manager."""
    return write(tmp_path / "org.csv", f"""{HEADER},role
s2,Sales,s1,true,
ceo,Board,,false,CEO
s1,Sales,ceo,true,Head of sales
e1,Engineering,ceo,0,
e2,Engineering,e1,false,
e3,Engineering,e1,FALSE,
s3,Sales,s1,1,
e4,Engineering,e2,false,
""")


def file_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["employee_id"]: row for row in csv.DictReader(handle)}


# ------------------------------------------------------------------ what the file decides
def test_the_hierarchy_departments_and_customer_facing_staff_are_the_files(org):
    model = SocialBusinessModel(make_scenario({"organisation": str(org), **SMALL_MARKET}), seed=1)
    o, rows = model.org, file_rows(org)
    ids = o.employee_id.tolist()
    assert sorted(ids) == sorted(rows) and ids[0] == "ceo" and o.manager[0] == -1
    for i, eid in enumerate(ids):
        boss = rows[eid]["manager_id"]
        assert (ids[o.manager[i]] if o.manager[i] >= 0 else "") == boss
        assert o.department_names[o.department[i]] == rows[eid]["department"]
        assert bool(o.customer_facing[i]) == (rows[eid]["customer_facing"].lower() in ("true", "1"))
    assert np.all(np.diff(o.department) >= 0) and o.dept_start.tolist() == [0, 1, 4, 8]
    # the board first, then the department with customer-facing staff, then the rest
    assert o.department_names == ("Board", "Sales", "Engineering")
    assert [ids[i] for i in np.flatnonzero(o.is_executive)] == ["ceo", "s1", "e1"]
    assert [ids[i] for i in np.flatnonzero(o.is_manager)] == ["ceo", "s1", "e1", "e2"]
    # every manager-report pair is a tie
    for i in np.flatnonzero(o.manager >= 0):
        assert o.manager[i] in o.indices[o.indptr[i]:o.indptr[i + 1]]


def test_the_scenario_takes_its_size_from_the_file_and_names_its_departments(org):
    scenario = load_scenario("purpose_led_stepwise", organisation=str(org), **SMALL_MARKET)
    assert (scenario.employees, scenario.departments) == (8, 3)
    assert scenario.department_names() == ("Board", "Sales", "Engineering")
    result = sim.run(scenario, seed=2)
    last = result.departments[result.departments.week == result.departments.week.max()]
    assert last.department_name.tolist() == ["Board", "Sales", "Engineering"]
    assert last.employees.tolist() == [1, 3, 4]
    people = result.participation
    assert set(people.employee_id) == set(file_rows(org)) and people.department_name.iloc[0] == "Board"


def test_an_organisation_file_is_found_beside_its_scenario_from_any_folder(org, tmp_path, monkeypatch):
    (tmp_path / "plan.toml").write_text('organisation = "org.csv"\ncustomers = 300\nweeks = 30\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    scenario = load_scenario(tmp_path / "plan.toml")
    assert Path(scenario.organisation) == org.resolve() and scenario.employees == 8


def test_a_hash_follows_the_files_contents_not_their_path(org, tmp_path):
    copy = tmp_path / "copy" / "same.csv"
    copy.parent.mkdir()
    shutil.copy(org, copy)
    first = make_scenario({"organisation": str(org)}).scenario_hash()
    assert make_scenario({"organisation": str(copy)}).scenario_hash() == first
    write(copy, org.read_text(encoding="utf-8").replace("e3,Engineering,e1,FALSE", "e3,Engineering,e1,true"))
    os.utime(copy, ns=(1, 1))  # a new stamp even on a coarse clock: the cache must not serve the old file
    assert make_scenario({"organisation": str(copy)}).scenario_hash() != first
    assert make_scenario({"organisation": str(org)}).scenario_hash() != make_scenario({}).scenario_hash()


def test_a_wave_can_name_the_departments_of_the_file(org):
    scenario = make_scenario({"organisation": str(org), "waves": [{"week": 0, "departments": ["Sales"]},
                                                                   {"week": 5, "departments": ["Engineering", 0]}],
                              **SMALL_MARKET})
    model = SocialBusinessModel(scenario, seed=3)
    model.step()
    sales = model.org.department == 1
    assert np.array_equal(model.state.has_access, sales)
    with pytest.raises(UserInputError) as err:
        make_scenario({"organisation": str(org), "waves": [{"week": 0, "departments": ["Marketing"]}]})
    assert "no department is called 'Marketing'" in str(err.value) and "'Sales'" in str(err.value)


def test_real_ties_are_the_contacts_with_the_reporting_pairs(org, tmp_path):
    ties = write(tmp_path / "ties.csv", "source,target,weight\ns2,e4,3\ns3,s2,\ne3,e3,1\ne1,s3,0\n")
    model = SocialBusinessModel(make_scenario({"organisation": str(org), "ties": str(ties), **SMALL_MARKET}), seed=1)
    o = model.org
    ids = o.employee_id.tolist()
    pairs = {frozenset((ids[i], ids[j])) for i in range(o.n) for j in o.indices[o.indptr[i]:o.indptr[i + 1]]}
    reporting = {frozenset((eid, row["manager_id"])) for eid, row in file_rows(org).items() if row["manager_id"]}
    # the self tie and the zero-weight tie are dropped; the rest are exactly the file's plus the chart's
    assert pairs == reporting | {frozenset(("s2", "e4")), frozenset(("s3", "s2"))}


def test_without_ties_they_are_generated_inside_the_real_departments(org):
    scenario = make_scenario({"organisation": str(org), "cross_silo_ties": 0.0, **SMALL_MARKET})
    o = SocialBusinessModel(scenario, seed=4).org
    src = np.repeat(np.arange(o.n), np.diff(o.indptr))
    across = o.department[src] != o.department[o.indices]
    # with no cross-silo ties, the only ties between departments are reporting lines
    for i, j in zip(src[across], o.indices[across]):
        assert o.manager[i] == j or o.manager[j] == i
    assert (~across).sum() > 2 * (o.n - o.n_departments - 0)  # teams are knit, not only the chain


# ------------------------------------------------------------------ the shipped examples
def test_the_aucs_example_brings_its_departments_roles_and_real_ties():
    scenario = load_scenario("provide_and_pray", organisation="aucs", **SMALL_MARKET)
    assert (scenario.employees, scenario.departments, scenario.real_ties()) == (61, 9, "aucs")
    assert scenario.ties == ""  # the example's own ties are found when read, not stored
    chart = orgchart.read_org_chart("aucs")
    ties = orgchart.read_ties("aucs", chart)
    assert ties.src.size == 353 and set(np.unique(ties.weight)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert chart.employee_id[0] == "U86" and chart.role[0] == "Professor"
    assert "Department office" in chart.department_names and "Group 2" in chart.department_names


def test_the_aucs_conversion_script_rebuilds_the_shipped_files(tmp_path):
    """The documented conversion reproduces what ships (needs the uunet package's data file)."""
    convert = pytest.importorskip("examples.convert_aucs", reason="examples/ is not importable")
    try:
        from importlib import resources

        mpx = Path(str(resources.files("uunet") / "data" / "aucs.mpx"))
    except ModuleNotFoundError:
        pytest.skip("uunet is not installed (pip install uunet)")
    chart, ties = convert.convert(*convert.read_mpx(mpx))
    convert.write(tmp_path / "aucs.csv", chart, list(chart[0]))
    convert.write(tmp_path / "aucs_ties.csv", ties, list(ties[0]))
    assert (tmp_path / "aucs.csv").read_bytes() == (ORGS / "aucs.csv").read_bytes()
    assert (tmp_path / "aucs_ties.csv").read_bytes() == (ORGS / "aucs_ties.csv").read_bytes()


def test_the_generated_chart_script_rebuilds_the_shipped_file(tmp_path):
    make = pytest.importorskip("examples.make_org_chart", reason="examples/ is not importable")
    rows = make.org_chart(2026)
    with open(tmp_path / "g.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert (tmp_path / "g.csv").read_bytes() == (ORGS / "generated_2000.csv").read_bytes()


def test_the_2000_person_chart_runs_bitwise_reproducibly():
    scenario = load_scenario("purpose_led_stepwise", organisation="generated_2000", customers=2000, weeks=40)
    assert (scenario.employees, scenario.departments) == (2000, 12)
    a, b = sim.run(scenario, seed=11), sim.run(scenario, seed=11)
    pd.testing.assert_frame_equal(a.series, b.series, check_exact=True)
    pd.testing.assert_frame_equal(a.departments, b.departments, check_exact=True)
    assert a.scenario_hash == b.scenario_hash == scenario.scenario_hash()
    assert not a.series.equals(sim.run(scenario, seed=12).series)
    sizes = a.departments[a.departments.week == 0].set_index("department_name").employees
    assert sizes["Customer Service"] == 380 and sizes["Legal"] == 40


def test_the_cli_runs_compares_and_sweeps_an_imported_organisation(tmp_path):
    out = tmp_path / "people.csv"
    result = runner.invoke(app, ["run", "provide_and_pray", "--organisation", "aucs", "--weeks", "20",
                                 "--set", "customers=300", "--out", str(out), "--table", "participation"])
    assert result.exit_code == 0, result.output
    assert set(pd.read_csv(out).employee_id) == set(file_rows(ORGS / "aucs.csv"))
    compare = runner.invoke(app, ["compare", "provide_and_pray", "purpose_led_stepwise", "--organisation", "aucs",
                                  "--replicates", "2", "--weeks", "30", "--set", "customers=300",
                                  "--out-dir", str(tmp_path / "cmp")])
    assert compare.exit_code == 0, compare.output
    experiment = write(tmp_path / "exp.toml", 'name = "org"\nbase = "provide_and_pray"\nweeks = 20\n'
                       'replicates = 2\noutputs = "final"\n[set]\ncustomers = 300\n[design]\n'
                       'kind = "full_factorial"\n[factors.purpose_strength]\nvalues = [0.2, 0.8]\n')
    sweep = runner.invoke(app, ["sweep", str(experiment), "--workers", "0", "--organisation",
                                str(ORGS / "generated_2000.csv"), "--out", str(tmp_path / "sweep")])
    assert sweep.exit_code == 0, sweep.output
    assert "4 runs, 4 ok" in sweep.stdout


# ------------------------------------------------------------------ bad files
BAD_CHARTS = {
    "duplicate id": (f"{HEADER}\na,X,,true\nb,X,a,true\nb,Y,a,false\n", "row 4: employee_id 'b' is already on row 3"),
    "unknown manager": (f"{HEADER}\na,X,,true\nb,X,zz,true\n", "row 3: manager_id 'zz' is not an employee_id"),
    "cycle": (f"{HEADER}\na,X,,true\nb,X,c,true\nc,X,d,false\nd,X,b,false\n",
              "row 3: the reporting chain loops ('b' -> 'c' -> 'd' -> 'b')"),
    "self manager": (f"{HEADER}\na,X,,true\nb,X,b,true\n", "row 3: the reporting chain loops ('b' -> 'b')"),
    "two tops": (f"{HEADER}\na,X,,true\nb,X,,true\n", "row 3: 'b' has no manager_id, and neither has 'a'"),
    "missing column": ("employee_id,department,customer_facing\na,X,true\n", "row 1: missing column manager_id"),
    "unknown boolean": (f"{HEADER}\na,X,,maybe\nb,X,a,true\n", "row 2: customer_facing 'maybe' is not a yes/no"),
    "short row": (f"{HEADER}\na,X,,true\nb,X,a\n", "row 3: 3 fields; allowed: 4"),
    "empty department": (f"{HEADER}\na,X,,true\nb,,a,true\n", "row 3: department is empty"),
    "one person": (f"{HEADER}\na,X,,true\n", "has 1 employee; allowed: at least 2"),
    "empty": ("", "is empty"),
    "header only": (f"{HEADER}\n", "has 0 employees"),
    "record over two lines": (f'{HEADER}\na,X,,true\n"b\nc",X,zz,true\nd,X,a,true\n', "row 3: manager_id 'zz'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CHARTS))
def test_a_bad_org_chart_gets_one_line_naming_the_file_and_row_and_exit_2(case, tmp_path):
    text, expected = BAD_CHARTS[case]
    path = write(tmp_path / "bad org.csv", text)
    out = tmp_path / "series.csv"
    result = runner.invoke(app, ["run", "provide_and_pray", "--organisation", str(path), "--out", str(out)])
    one_line_error(result, str(path), expected)
    assert not out.exists()


def test_a_binary_or_non_utf8_or_non_regular_file_is_refused(tmp_path):
    binary = tmp_path / "org.csv"
    binary.write_bytes(b"employee_id,department\x00\x01\x02")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\na,Caf\xe9,,true\nb,X,a,true\n".encode("latin-1"))
    for path, expected in ((binary, "is a binary file"), (latin, "is not UTF-8 text"),
                           (tmp_path, "is not a regular file"), (tmp_path / "none.csv", "cannot be read")):
        with pytest.raises(UserInputError) as err:
            make_scenario({"organisation": str(path)})
        assert str(path) in str(err.value) and expected in str(err.value)
    with pytest.raises(UserInputError, match="not a shipped example organisation; allowed: a path to a .csv file or "
                                             "one of aucs, generated_2000"):
        make_scenario({"organisation": "acme"})


def test_an_organisation_over_the_limits_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path / "big.csv", HEADER + "\n" + "a,X,,true\n" + "".join(f"p{i},X,a,false\n" for i in range(20)))
    monkeypatch.setattr(orgchart, "MAX_ORG_EMPLOYEES", 10)
    with pytest.raises(UserInputError, match="has more than 10 employees; allowed: at most 10"):
        make_scenario({"organisation": str(path)})
    monkeypatch.setattr(orgchart, "MAX_ORG_BYTES", 50)
    with pytest.raises(UserInputError, match=r"bytes; allowed: .* of at most 50 bytes"):
        make_scenario({"organisation": str(path)})


BAD_TIES = {
    "unknown employee": ("source,target\ns2,zz\n", "row 2: target 'zz' is not an employee_id of org.csv"),
    "negative weight": ("source,target,weight\ns2,s3,-1\n", "row 2: weight '-1' is not a number >= 0"),
    "text weight": ("source,target,weight\ns2,s3,heavy\n", "row 2: weight 'heavy' is not a number >= 0"),
    "missing column": ("from,to\ns2,s3\n", "row 1: missing columns source, target"),
}


@pytest.mark.parametrize("case", sorted(BAD_TIES))
def test_bad_ties_get_one_line_and_exit_2(case, org, tmp_path):
    text, expected = BAD_TIES[case]
    ties = write(tmp_path / "ties.csv", text)
    result = runner.invoke(app, ["run", "provide_and_pray", "--organisation", str(org), "--ties", str(ties)])
    one_line_error(result, str(ties), expected)


def test_ties_without_an_organisation_are_refused(tmp_path, org):
    with pytest.raises(UserInputError, match="ties: real ties need the organisation"):
        make_scenario({"ties": str(org)})


def test_a_semicolon_export_reads_like_a_comma_one(org, tmp_path):
    semi = write(tmp_path / "semi.csv", org.read_text(encoding="utf-8").replace(",", ";"))
    a = make_scenario({"organisation": str(org), **SMALL_MARKET})
    b = make_scenario({"organisation": str(semi), **SMALL_MARKET})
    assert a.scenario_hash() != b.scenario_hash()  # other bytes: another file
    assert sim.run(a, seed=5).series.equals(sim.run(b, seed=5).series)


@pytest.mark.parametrize("hypothesis", ["top_down", "bottom_up", "middle_out"])
def test_both_engines_agree_bit_for_bit_on_a_real_organisation(hypothesis):
    """The reference engine and the kernels on AUCS (real hierarchy, real ties, a head reporting to
    another department), with a wave that names departments."""
    scenario = load_scenario("purpose_led_stepwise", organisation="aucs", customers=400, weeks=30,
                             hierarchy_influence=hypothesis,
                             waves=[{"week": 0, "departments": ["Group 2", "Department office"]},
                                    {"week": 6, "departments": "all"}])
    fast = SocialBusinessModel(scenario, rng=7, engine="numba")
    slow = SocialBusinessModel(scenario, rng=7, engine="python")
    a, b = fast.run().series, slow.run().series
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert fast.state.reputation.tobytes() == slow.state.reputation.tobytes()
    np.testing.assert_array_equal(fast.state.stage, slow.state.stage)
    assert a["posts"].sum() > 0  # something happened to agree on


# ------------------------------------------------------------------ review findings
def test_another_organisation_drops_the_old_ones_ties_and_none_generates_an_examples(org):
    aucs = make_scenario({"organisation": "aucs", **SMALL_MARKET})
    assert aucs.ties == "" and aucs.real_ties() == "aucs"
    moved = aucs.with_levers(organisation=str(org))
    assert moved.employees == 8 and moved.real_ties() == ""
    assert aucs.with_levers(organisation="").employees == 61  # a generated firm of the last size
    generated = aucs.with_levers(ties="none")
    assert generated.real_ties() == "" and generated.scenario_hash() != aucs.scenario_hash()
    assert SocialBusinessModel(generated, seed=1).org.n_edges != SocialBusinessModel(aucs, seed=1).org.n_edges


def test_the_cli_organisation_comes_before_set_so_a_wave_may_name_its_departments(org, tmp_path):
    out = tmp_path / "series.csv"
    result = runner.invoke(app, ["run", "provide_and_pray", "--organisation", str(org), "--weeks", "10",
                                 "--set", "customers=50", "--set", 'waves=[{week=0, departments=["Engineering"]}]',
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(app, ["run", "provide_and_pray", "--organisation", str(org), "--set", "employees=500"])
    one_line_error(refused, "--set: employees: employees is decided by the organisation file")


def test_a_path_with_a_nul_or_an_unknown_home_is_one_line(tmp_path):
    for value, expected in (("org\x00.csv", "holds a NUL character"), ("~nosuchuser4242/org.csv", "no such home")):
        result = runner.invoke(app, ["run", "provide_and_pray", "--organisation", value])
        one_line_error(result, expected)
    scenario = tmp_path / "nul.toml"
    scenario.write_text('organisation = "org\\u0000.csv"\n', encoding="utf-8")
    one_line_error(runner.invoke(app, ["run", str(scenario)]), "holds a NUL character")


def test_a_rewrite_with_the_old_size_and_time_is_read_again(org):
    first = make_scenario({"organisation": str(org)}).scenario_hash()
    before = os.stat(org)
    text = org.read_text(encoding="utf-8").replace("Engineering", "Engineerinh")
    org.write_text(text, encoding="utf-8")
    os.utime(org, ns=(before.st_atime_ns, before.st_mtime_ns))  # as cp -p, rsync -a or unzip leave it
    assert os.stat(org).st_size == before.st_size
    again = make_scenario({"organisation": str(org)})
    assert "Engineerinh" in again.department_names() and again.scenario_hash() != first


def test_an_experiment_on_an_organisation_refuses_factors_the_file_decides(org, tmp_path):
    def experiment(factor: str, values: str, extra: str = "") -> Path:
        return write(tmp_path / f"{factor}.toml", f'name = "x"\nbase = "provide_and_pray"\nweeks = 10\nreplicates = 1\n'
                     f'outputs = "final"\n[set]\ncustomers = 50\norganisation = "org.csv"\n{extra}[design]\n'
                     f'kind = "full_factorial"\n[factors.{factor}]\nvalues = {values}\n')

    one_line_error(runner.invoke(app, ["sweep", str(experiment("employees", "[100, 200]")), "--workers", "0"]),
                   "factors.employees: employees is decided by the organisation file")
    one_line_error(runner.invoke(app, ["sweep", str(experiment("organisation", '["a.csv", "b.csv"]')),
                                       "--workers", "0"]), "'organisation' cannot be a factor (one organisation per")
    # [set] waves naming the file's departments, with the organisation from --organisation
    named = write(tmp_path / "named.toml", 'name = "named"\nbase = "provide_and_pray"\nweeks = 10\nreplicates = 1\n'
                  'outputs = "final"\n[set]\ncustomers = 50\nwaves = [{week = 0, departments = ["Sales"]}]\n'
                  '[design]\nkind = "full_factorial"\n[factors.purpose_strength]\nvalues = [0.1, 0.9]\n')
    result = runner.invoke(app, ["sweep", str(named), "--workers", "0", "--organisation", str(org),
                                 "--out", str(tmp_path / "named-out")])
    assert result.exit_code == 0, result.output
    assert "2 runs, 2 ok" in result.stdout


def test_a_link_or_an_uploaded_scenario_cannot_make_the_dashboard_read_a_server_file(org):
    pytest.importorskip("streamlit")
    from dashboard import scenarios

    for value in ("/etc/passwd", str(org), "../../etc/passwd.csv"):
        asked = scenarios.from_query({"preset": "provide_and_pray", "organisation": value})
        assert asked.error and "is not an organisation this page can open" in asked.error
        assert not asked.scenario.organisation
        with pytest.raises(UserInputError, match="is not an organisation this page can open"):
            scenarios.parse_upload("s.toml", f'organisation = "{value}"\n'.encode())
    assert scenarios.from_query({"preset": "provide_and_pray", "organisation": "aucs"}).scenario.employees == 61
