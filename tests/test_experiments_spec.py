"""Experiment files, design generation and run seeds (sim.experiments.spec / design); no runs here."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from SALib.sample import latin, morris, sobol
from typer.testing import CliRunner

from sim import replicate_seeds
from sim.cli import app
from sim.experiments import (
    ExperimentError,
    generate_design,
    load_experiment,
    plan_experiment,
    point_seeds,
    run_seed,
)
from sim.experiments.spec import DEFAULT_SERIES_COLUMNS, round_integer

TINY_SET = "[set]\nemployees = 80\ndepartments = 2\ncustomers = 200\nweeks = 10\n"

GOOD = '''
name = "openness_x_purpose"
description = "Does openness pay off only with a purpose?"
population = "small"
weeks = 30
replicates = 3
root_seed = 2026
common_random_numbers = true
outputs = "series"
series_columns = ["active_share", "members", "net_value"]
out = "results/here"
batch_size = 4

[set]
blame_culture = 0.2

[design]
kind = "latin_hypercube"
samples = 6
seed = 11

[factors.open_by_default]
range = [0.2, 1.0]
[factors.employees]
range = [100, 140]
[factors.scenario]
values = ["provide_and_pray", "purpose_led_stepwise"]
'''


def write(folder: Path, text: str, name: str = "exp.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(folder: Path, text: str):
    return load_experiment(write(folder, text))


# ------------------------------------------------------------------ a good file
def test_good_spec_resolves_everything(tmp_path: Path) -> None:
    exp = load_text(tmp_path, GOOD)
    spec = exp.spec
    assert spec.name == "openness_x_purpose" and spec.replicates == 3 and spec.root_seed == 2026
    assert exp.out == tmp_path / "results" / "here"  # relative to the experiment file's folder
    assert exp.factor_names == ["open_by_default", "employees", "scenario"]
    assert exp.factor("employees").integer and exp.factor("employees").dtype == "int"
    assert exp.factor("scenario").kind == "values"
    assert exp.series_columns == ["active_share", "members", "net_value"]
    assert set(exp.bases) == {"provide_and_pray", "purpose_led_stepwise"}
    for label, base in exp.bases.items():
        assert base.name == label
        # population, then [set], then weeks
        assert (base.departments, base.customers, base.weeks, base.blame_culture) == (6, 6000, 30, 0.2)
    assert load_experiment(write(tmp_path, GOOD), out=tmp_path / "x").out == tmp_path / "x"


def test_minimal_spec_defaults(tmp_path: Path) -> None:
    exp = load_text(tmp_path, 'name = "m"\n')
    assert exp.spec.design.kind == "full_factorial" and exp.spec.replicates == 1
    assert exp.out == tmp_path / "results" / "m"
    assert exp.series_columns == list(DEFAULT_SERIES_COLUMNS)
    plan = plan_experiment(exp)
    assert plan.design.n_points == 1 and plan.n_runs == 1  # the defaults, once


def test_scenario_file_relative_to_experiment_folder(tmp_path: Path) -> None:
    (tmp_path / "variants").mkdir()
    write(tmp_path / "variants", 'name = "mine"\npurpose_strength = 0.4\n', "mine.toml")
    exp = load_text(tmp_path, 'name = "x"\n[factors.scenario]\nvalues = ["variants/mine.toml", "provide_and_pray"]\n')
    assert exp.bases["variants/mine.toml"].purpose_strength == 0.4
    assert exp.bases["provide_and_pray"].name == "provide_and_pray"
    plan = plan_experiment(exp)
    assert plan.labels == ["variants/mine.toml", "provide_and_pray"]  # the `scenario` column: as written


# ------------------------------------------------------------------ bad files: one line, file + key + allowed
BAD = [
    ("unknown_key", 'name = "x"\nreplicate = 3\n', "replicate", "unknown key; allowed: name, description"),
    ("bad_design_kind", 'name = "x"\n[design]\nkind = "grid"\n', "design.kind", "'grid' is not allowed; allowed:"),
    ("range_outside_lever", 'name = "x"\n[design]\nkind = "latin_hypercube"\nsamples = 4\n'
     '[factors.open_by_default]\nrange = [0.0, 1.5]\n', "factors.open_by_default.range",
     "outside the lever's range; allowed: 0.0 to 1.0"),
    ("unknown_lever", 'name = "x"\n[factors.openness]\nvalues = [0.1]\n', "factors.openness",
     "unknown lever 'openness'"),
    ("unknown_preset", 'name = "x"\nbase = "no_such_preset"\n', "base", "no such file or preset; allowed presets:"),
    ("unknown_preset_in_factor", 'name = "x"\n[factors.scenario]\nvalues = ["provide_and_pray", "nope"]\n',
     "factors.scenario.values[1]", "no such file or preset"),
    ("zero_replicates", 'name = "x"\nreplicates = 0\n', "replicates", "0 is out of range; allowed: >= 1"),
    ("text_replicates", 'name = "x"\nreplicates = "3"\n', "replicates", "is not an integer"),
    ("explicit_without_points", 'name = "x"\n[design]\nkind = "explicit"\n', "design.points",
     "at least one point; allowed:"),
    ("explicit_bad_point", 'name = "x"\n[design]\nkind = "explicit"\npoints = [{posting_friction = 0.1}, '
     '{posting_friction = 2.0}]\n', "design.points[1].posting_friction", "out of range; allowed: 0.0 to 1.0"),
    ("explicit_ragged", 'name = "x"\n[design]\nkind = "explicit"\npoints = [{posting_friction = 0.1}, '
     '{listening = 0.2}]\n', "design.points[1]", "allowed: every point has the same keys"),
    ("factor_table_typo", 'name = "x"\n[factors.listening]\nvalue = [0.1]\n', "factors.listening.value",
     "unknown key; allowed: values, range, steps"),
    ("integer_lever_float", 'name = "x"\n[factors.employees]\nvalues = [100.5]\n', "factors.employees.values[0]",
     "not an integer"),
    ("bool_lever_range", 'name = "x"\n[factors.use_culture]\nrange = [0, 1]\nsteps = 2\n',
     "factors.use_culture.range", "allowed: values = [true, false]"),
    ("factorial_range_without_steps", 'name = "x"\n[factors.listening]\nrange = [0.0, 1.0]\n',
     "factors.listening.steps", "needs steps"),
    ("sobol_not_power_of_2", 'name = "x"\n[design]\nkind = "sobol"\nsamples = 10\n[factors.listening]\n'
     'range = [0.0, 1.0]\n', "design.samples", "not a power of 2; allowed: a power of 2 such as 8 or 16"),
    ("sampled_without_range", 'name = "x"\n[design]\nkind = "morris"\nsamples = 4\n', "factors",
     "at least one factor with range"),
    ("levels_for_lhs", 'name = "x"\n[design]\nkind = "latin_hypercube"\nsamples = 4\nlevels = 4\n'
     '[factors.listening]\nrange = [0.0, 1.0]\n', "design.levels", "only with morris"),
    ("duplicate_values", 'name = "x"\n[factors.listening]\nvalues = [0.1, 0.1]\n', "factors.listening.values[1]",
     "listed twice"),
    ("factor_also_set", 'name = "x"\n[set]\nlistening = 0.1\n[factors.listening]\nvalues = [0.1, 0.2]\n',
     "set.listening", "both a factor and fixed in [set]"),
    ("set_unknown_lever", 'name = "x"\n[set]\nblame = 0.2\n', "set.blame", "unknown key"),
    ("set_out_of_range", 'name = "x"\n[set]\nblame_culture = 2.0\n', "set.blame_culture", "allowed: 0.0 to 1.0"),
    ("bad_population", 'name = "x"\npopulation = "huge"\n', "population", "allowed: small, default, large"),
    ("bad_series_column", 'name = "x"\noutputs = "series"\nseries_columns = ["activity"]\n', "series_columns[0]",
     "not a weekly output; allowed:"),
    ("bad_name", 'name = "my experiment"\n', "name", "allowed: letters, digits"),
    ("waves_as_factor", 'name = "x"\n[factors.waves]\nvalues = ["a"]\n', "factors.waves",
     "vary schedules through the scenario factor"),
    ("invalid_combination", 'name = "x"\n' + TINY_SET.replace("departments = 2\n", "") +
     '[factors.departments]\nvalues = [2, 90]\n', "factors.departments",
     "design point 1 (departments=90) is not a valid scenario: 90 departments for 80 employees is impossible"),
]


@pytest.mark.parametrize("text,key,message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_experiment_files(tmp_path: Path, text: str, key: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ExperimentError) as info:
        plan_experiment(load_experiment(path))
    line = str(info.value)
    assert "\n" not in line
    assert line.startswith(f"{path}: {key}: "), line
    assert message in line, line
    assert "allowed" in line or "impossible" in line


def test_malformed_and_missing_files(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\nreplicates = \n')
    with pytest.raises(ExperimentError, match=r"exp.toml: is not valid TOML \(") as info:
        load_experiment(path)
    assert "\n" not in str(info.value)
    with pytest.raises(ExperimentError, match="nope.toml: no such file; allowed: an experiment .toml file"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(ExperimentError, match="is a folder"):
        load_experiment(tmp_path)


def test_cli_bad_experiment_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, 'name = "x"\n[design]\nkind = "grid"\n')
    result = CliRunner().invoke(app, ["sweep", str(path), "--workers", "0"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: design.kind: "), result.stderr
    assert not (tmp_path / "results").exists()  # nothing written for a bad file


# ------------------------------------------------------------------ design generation
def design_of(tmp_path: Path, body: str):
    return generate_design(load_text(tmp_path, 'name = "d"\n' + body))


def test_full_factorial_is_the_product_first_factor_slowest(tmp_path: Path) -> None:
    d = design_of(tmp_path, '[factors.listening]\nvalues = [0.1, 0.5]\n[factors.posting_friction]\n'
                            'range = [0.0, 1.0]\nsteps = 3\n[factors.scenario]\nvalues = ["provide_and_pray", '
                            '"two_track"]\n')
    expected = list(itertools.product([0.1, 0.5], [0.0, 0.5, 1.0], ["provide_and_pray", "two_track"]))
    got = list(d.points[["listening", "posting_friction", "scenario"]].itertuples(index=False, name=None))
    assert got == expected and d.n_points == 12
    assert d.points["point_id"].tolist() == list(range(12))
    assert d.problem is None


def test_latin_hypercube_stratified_and_seeded(tmp_path: Path) -> None:
    body = ('[design]\nkind = "latin_hypercube"\nsamples = 10\nseed = {seed}\n[factors.listening]\nrange = [0.2, 0.7]\n'
            '[factors.idea_rate]\nrange = [0.0, 0.1]\n')
    d = design_of(tmp_path, body.format(seed=3))
    assert d.n_points == 10
    for name, (lo, hi) in zip(d.problem["names"], d.problem["bounds"]):
        bins = np.floor((d.points[name].to_numpy() - lo) / (hi - lo) * 10).astype(int)
        assert sorted(bins.tolist()) == list(range(10)), name  # each of the 10 bins hit once
    again = design_of(tmp_path, body.format(seed=3))
    assert d.points.equals(again.points)
    assert not d.points.equals(design_of(tmp_path, body.format(seed=4)).points)
    direct = latin.sample(d.problem, 10, seed=3)
    np.testing.assert_array_equal(d.points[d.problem["names"]].to_numpy(), direct)


def test_sobol_count_and_matches_salib(tmp_path: Path) -> None:
    body = ('root_seed = 5\n[design]\nkind = "sobol"\nsamples = 8\n{extra}[factors.listening]\nrange = [0.0, 1.0]\n'
            '[factors.idea_rate]\nrange = [0.0, 0.1]\n[factors.posting_friction]\nrange = [0.1, 0.9]\n')
    d = design_of(tmp_path, body.format(extra=""))
    assert d.n_points == 8 * (2 * 3 + 2)
    assert d.problem == {"num_vars": 3, "names": ["listening", "idea_rate", "posting_friction"],
                         "bounds": [[0.0, 1.0], [0.0, 0.1], [0.1, 0.9]]}
    direct = sobol.sample(d.problem, 8, calc_second_order=True, seed=5)  # design seed defaults to root_seed
    np.testing.assert_array_equal(d.points[d.problem["names"]].to_numpy(), direct)
    first_only = design_of(tmp_path, body.format(extra="second_order = false\n"))
    assert first_only.n_points == 8 * (3 + 2)


def test_morris_count_and_matches_salib(tmp_path: Path) -> None:
    d = design_of(tmp_path, '[design]\nkind = "morris"\nsamples = 5\nlevels = 6\nseed = 9\n[factors.listening]\n'
                            'range = [0.0, 1.0]\n[factors.idea_rate]\nrange = [0.0, 0.1]\n[factors.join_rate]\n'
                            'range = [0.0, 0.5]\n')
    assert d.n_points == (3 + 1) * 5
    direct = morris.sample(d.problem, 5, num_levels=6, seed=9)
    np.testing.assert_array_equal(d.points[d.problem["names"]].to_numpy(), direct)


def test_integer_levers_are_rounded(tmp_path: Path) -> None:
    d = design_of(tmp_path, '[design]\nkind = "latin_hypercube"\nsamples = 20\n[factors.employees]\n'
                            'range = [100, 110]\n[factors.listening]\nrange = [0.0, 1.0]\n')
    col = d.points["employees"]
    assert col.dtype == np.int64 and col.between(100, 110).all()
    raw = latin.sample(d.problem, 20, seed=0)[:, 0]
    assert col.tolist() == [math.floor(x + 0.5) for x in raw]
    assert (round_integer(2.5), round_integer(2.49), round_integer(3.5)) == (3, 2, 4)
    stepped = design_of(tmp_path, '[factors.weeks]\nrange = [10, 20]\nsteps = 3\n')
    assert stepped.points["weeks"].tolist() == [10, 15, 20]


def test_categorical_factors_are_crossed_with_sampled_points(tmp_path: Path) -> None:
    d = design_of(tmp_path, '[design]\nkind = "latin_hypercube"\nsamples = 4\n[factors.scenario]\n'
                            'values = ["provide_and_pray", "purpose_led_stepwise"]\n[factors.listening]\n'
                            'range = [0.0, 1.0]\n[factors.use_culture]\nvalues = [true, false]\n')
    assert d.crossed == ["scenario", "use_culture"] and d.points_per_combination == 4
    assert d.n_points == 2 * 2 * 4
    assert d.points["use_culture"].dtype == bool and d.points["scenario"].map(type).eq(str).all()
    sampled = latin.sample(d.problem, 4, seed=0)[:, 0]
    combos = list(itertools.product(["provide_and_pray", "purpose_led_stepwise"], [True, False]))
    for c, (scenario, culture) in enumerate(combos):
        block = d.points.iloc[c * 4:(c + 1) * 4]  # point_id = combination * points_per_combination + row
        assert block["point_id"].tolist() == list(range(c * 4, c * 4 + 4))
        assert (block["scenario"] == scenario).all() and (block["use_culture"] == culture).all()
        np.testing.assert_array_equal(block["listening"].to_numpy(), sampled)  # SALib's rows, in order


def test_explicit_points_crossed_with_values(tmp_path: Path) -> None:
    d = design_of(tmp_path, '[design]\nkind = "explicit"\npoints = [{listening = 0.1, employees = 100}, '
                            '{listening = 0.9, employees = 200}]\n[factors.use_culture]\nvalues = [true, false]\n')
    assert d.points[["listening", "employees", "use_culture"]].values.tolist() == [
        [0.1, 100, True], [0.9, 200, True], [0.1, 100, False], [0.9, 200, False]]


# ------------------------------------------------------------------ seeds
def test_seeds_are_stable_distinct_and_reproducible() -> None:
    # Regression values (computed once): a change here changes every published result.
    assert replicate_seeds(2026, 3) == [4739820308868465158, 3233462650124125651, 3436701763741228214]
    assert point_seeds(2026, 2, 5, common_random_numbers=False) == [446776528973720471, 6021857032337309166]
    # common random numbers: replicate r has the same seed at every point
    assert point_seeds(2026, 3, 0) == point_seeds(2026, 3, 17) == replicate_seeds(2026, 3)
    assert run_seed(2026, 3, 4, 2) == replicate_seeds(2026, 3)[2]
    # without: independent per point, all distinct, and reproducible
    table = [point_seeds(2026, 4, p, common_random_numbers=False) for p in range(50)]
    flat = [s for row in table for s in row]
    assert len(set(flat)) == len(flat)
    assert table == [point_seeds(2026, 4, p, common_random_numbers=False) for p in range(50)]
    assert all(0 <= s < 2**63 for s in flat)
    assert len(set(replicate_seeds(1, 1000))) == 1000
    assert point_seeds(2026, 2, 0, False) != replicate_seeds(2026, 2)  # not the CRN stream


def test_plan_numbers_runs_point_major(tmp_path: Path) -> None:
    for crn in ("true", "false"):
        exp = load_text(tmp_path, f'name = "p"\nreplicates = 3\nroot_seed = 4\nbatch_size = 4\n'
                                  f'common_random_numbers = {crn}\n{TINY_SET}[factors.listening]\n'
                                  'values = [0.1, 0.2]\n')
        plan = plan_experiment(exp)
        runs = plan.runs
        assert runs["run_id"].tolist() == list(range(6))
        assert runs["point_id"].tolist() == [0, 0, 0, 1, 1, 1] and runs["replicate"].tolist() == [0, 1, 2] * 2
        assert runs["batch"].tolist() == [0, 0, 0, 0, 1, 1] and plan.n_batches == 2
        for r in runs.itertuples():
            assert r.seed == run_seed(4, 3, r.point_id, r.replicate, crn == "true")
        assert runs["scenario_hash"].nunique() == 2
        again = plan_experiment(load_experiment(exp.source))
        assert again.spec_hash == plan.spec_hash
    assert plan_experiment(load_text(tmp_path, 'name = "p"\nroot_seed = 5\n')).spec_hash != \
        plan_experiment(load_text(tmp_path, 'name = "p"\nroot_seed = 6\n')).spec_hash


def test_documented_example_is_valid(tmp_path: Path) -> None:
    from sim.experiments import spec as spec_module

    doc = spec_module.__doc__
    block = doc[doc.index("::\n") + 3:doc.index("\nOther designs")]
    text = "\n".join(line[4:] for line in block.splitlines())
    (tmp_path / "variants").mkdir()
    write(tmp_path / "variants", 'name = "my_strategy"\npurpose_strength = 0.5\n', "my_strategy.toml")
    exp = load_text(tmp_path, text)
    plan = plan_experiment(exp)
    assert plan.design.n_points == 64 * 3 and plan.n_runs == 64 * 3 * 10
    assert plan.design.points["employees"].between(400, 800).all()
