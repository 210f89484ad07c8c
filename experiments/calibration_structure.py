"""How different the firms of one strategy are under a posterior: the diagnosis that changed the
survey population's structure (docs/MODEL.md section 9).

Under a posterior's heaviest particle, runs each strategy of the survey population in a mid-sized
organisation (500 employees, 5 departments, 104 weeks, half the departments given access under
provide-and-pray, as a surveyed provide-and-pray firm) at several levels of workforce effort, and
prints the share of eligible staff active at the horizon and the share of runs that succeed.
If every level of effort the survey population allows leaves one strategy's firms on the same
side of the take-off point, no parameter set can give that strategy a success rate between 0
and 1 across a survey.

With ``--levers``, which of provide-and-pray's levers keeps its firms low: under the heaviest
particles, the provide-and-pray firms of simulated surveys are run as they are and with groups of
their levers moved to ``purpose_led_stepwise``'s values (access, friction, openness, culture,
leaders, purpose, and bundles of these), and the share of their eligible staff active, their
success rate and the share in Dachis's 10-20% band are printed. It tells which mechanism sets the
gap between provide-and-pray and the other strategies that the survey's figures constrain
together.

With ``--vary NAME=V1,V2,...`` (repeatable), the survey diagnosis instead: under the posterior's
heaviest particles, simulated surveys (as calibration runs them) with one behavioural parameter
(or the survey population's own ``firm_effort_spread`` or ``firm_effort_tail``) set to each given value in turn, the
others at the particle's; it prints each figure's survey
statistic (mean over ``--surveys`` surveys), the distance to the fitted targets, and the means over
the particles. It answers whether freeing a parameter the posterior holds fixed (or letting a new
structure act) could move the survey towards the record, before paying for a calibration.
``--with NAME=V`` (repeatable) holds a behavioural parameter at V in every survey of the diagnosis,
so parameters can be varied together. ``--department-spreads V1,V2`` is
``--vary department_effort_spread=V1,V2``, the diagnosis behind
the third change of structure (a posterior made with departments alike).

Usage::

    python experiments/calibration_structure.py                       # the shipped posterior
    python experiments/calibration_structure.py --posterior experiments/results/calibration/first_posterior/posterior.csv
    python experiments/calibration_structure.py --posterior experiments/results/calibration/second_posterior/posterior.csv \
        --department-spreads 0,0.5,1.0,1.5 --particles 6
    python experiments/calibration_structure.py --vary friction_weight=0.3,1,2 --vary fear_weight=0.1,0.4,0.8
    python experiments/calibration_structure.py --with friction_weight=0.3 --vary friction_slowdown=0.5,0.2
    python experiments/calibration_structure.py --levers --particles 6 --surveys 2
    python experiments/calibration_structure.py --vary posting_budget=20,60,200 --particles 6 --surveys 2
"""

from __future__ import annotations

import argparse

import numpy as np


def main(argv: list[str] | None = None) -> int:
    import sim
    from sim.calibration.population import STRATEGY_MIX, _preset
    from sim.calibration.posterior import load

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posterior", default=None, help="posterior.csv (default: the shipped one)")
    parser.add_argument("--seeds", type=int, default=3, help="replicates per level of effort")
    parser.add_argument("--efforts", default="0.3,0.5,0.7,1.0,1.3,1.5,2.0")
    parser.add_argument("--vary", action="append", default=[], metavar="NAME=V1,V2",
                        help="a behavioural parameter and its values: run the survey diagnosis instead (repeatable)")
    parser.add_argument("--with", dest="held", action="append", default=[], metavar="NAME=V",
                        help="hold a behavioural parameter at V in every survey of the diagnosis (repeatable)")
    parser.add_argument("--department-spreads", default=None,
                        help="the same as --vary department_effort_spread=V1,V2")
    parser.add_argument("--levers", action="store_true",
                        help="which of provide-and-pray's levers keeps its firms low (lever diagnosis)")
    parser.add_argument("--particles", type=int, default=6, help="heaviest particles (survey diagnosis)")
    parser.add_argument("--surveys", type=int, default=4, help="simulated surveys per value (survey diagnosis)")
    args = parser.parse_args(argv)

    posterior = load(args.posterior)
    if args.department_spreads is not None:
        args.vary.append(f"department_effort_spread={args.department_spreads}")
    if args.levers:
        return lever_diagnosis(posterior, args.particles, args.surveys)
    held = {}
    for text in args.held:
        name, values = parse_vary(text, option="--with")
        if len(values) != 1 or not args.vary:
            refuse("--with", text, "one value, beside a --vary")
        held[name] = values[0]
    if args.vary:
        return survey_diagnosis(posterior, [parse_vary(text) for text in args.vary], args.particles, args.surveys,
                                held)
    index = int(np.argmax(posterior.particles["weight"].to_numpy()))
    row = posterior.particles.iloc[index]
    behaviour = {name: float(row[name]) for name in posterior.behavioural}
    hierarchy = str(row.get("hierarchy_influence", "top_down"))
    print(f"{posterior.describe()}; heaviest particle {index} (weight {row['weight']:.3f}, {hierarchy})")
    print(f"{'strategy':<22} {'effort':>6} {'active':>7} {'success':>8}")
    for name in STRATEGY_MIX:
        for effort in (float(e) for e in args.efforts.split(",")):
            changes = dict(employees=500, departments=5, customers=1000, weeks=104, workforce_effort=effort,
                           initial_safety=0.7, hierarchy_influence=hierarchy, **behaviour)
            if name == "provide_and_pray":
                changes["waves"] = [{"week": 0, "share": 0.5}]
            scenario = _preset(name).with_levers(**changes)
            runs = [sim.run(scenario, seed=seed).summary for seed in sim.replicate_seeds(1, args.seeds)]
            print(f"{name:<22} {effort:>6.2f} {np.mean([r['active_share'] for r in runs]):>7.3f} "
                  f"{np.mean([r['success'] for r in runs]):>8.2f}")
    return 0


SHOWN = ("provide_and_pray_success", "share_active_10_to_20", "only_read_share", "top1_share",
         "ever_used_share", "ever_posted_share", "first_year_used_share")


#: Groups of levers moved from provide-and-pray's values to purpose_led_stepwise's (lever diagnosis);
#: "waves" stands for access to every department from week 0 (the surveyed firms gave access to part).
_CULTURE = ("blame_culture", "mistake_candour")
_LEADERS = ("leader_commitment", "leader_participation")
_ALL_BUT_FRICTION = ("purpose_strength", *_LEADERS, "open_by_default", *_CULTURE, "listening", "waves")
LEVER_GROUPS: dict[str, tuple[str, ...]] = {
    "as is": (),
    "access to every department": ("waves",),
    "posting_friction": ("posting_friction",),
    "open_by_default": ("open_by_default",),
    "culture": _CULTURE,
    "leaders": _LEADERS,
    "purpose_strength": ("purpose_strength",),
    "purpose and leaders": ("purpose_strength", *_LEADERS),
    "every lever but friction": _ALL_BUT_FRICTION,
    "every lever": (*_ALL_BUT_FRICTION, "posting_friction"),
}
EVERY_DEPARTMENT = [{"week": 0, "departments": "all"}]


def lever_diagnosis(posterior, particles: int, surveys: int, towards: str = "purpose_led_stepwise") -> int:
    """The provide-and-pray firms of simulated surveys with groups of levers moved (module docstring)."""
    import pandas as pd

    import sim
    from sim.calibration.fit import ORGANISATIONS
    from sim.calibration.population import POPULATION_DEFAULTS, _preset, survey_population

    target = _preset(towards)
    variants = {name: {lever: EVERY_DEPARTMENT if lever == "waves" else getattr(target, lever) for lever in levers}
                for name, levers in LEVER_GROUPS.items()}
    order = np.argsort(-posterior.particles["weight"].to_numpy(), kind="stable")[:particles]
    rows = []
    for index in order:
        row = posterior.particles.iloc[int(index)]
        behaviour = {name: float(row[name]) for name in posterior.behavioural}
        hierarchy = str(row.get("hierarchy_influence", "top_down"))
        firms = {name: float(row.get(name, default)) for name, default in POPULATION_DEFAULTS.items()}
        for survey in range(surveys):
            population = survey_population(ORGANISATIONS, survey, **firms)
            for scenario, seed in zip(population, sim.replicate_seeds(survey, ORGANISATIONS)):
                if scenario.name != "provide_and_pray":
                    continue
                for name, changes in variants.items():
                    summary = sim.run(scenario.with_levers(**behaviour, hierarchy_influence=hierarchy, **changes),
                                      seed=seed).summary
                    rows.append({"variant": name, "active": summary["active_share"], "success": summary["success"],
                                 "in_band": 0.10 <= summary["active_share"] <= 0.20, "top1": summary["top1_share"]})
    frame = pd.DataFrame(rows)
    table = frame.groupby("variant", sort=False).agg(
        firms=("active", "size"), active_median=("active", "median"),
        active_q90=("active", lambda a: float(np.quantile(a, 0.9))), success=("success", "mean"),
        in_10_to_20=("in_band", "mean"), top1_median=("top1", "median"))
    print(f"{posterior.describe()}; {particles} heaviest particles, {surveys} surveys of {ORGANISATIONS}: the "
          f"provide-and-pray firms with groups of levers moved to {towards}'s values")
    print(table.round(3).to_string())
    return 0


def refuse(option: str, text: str, why: str) -> None:
    """One line naming the option, its value and what is allowed; exit 2."""
    import sys

    print(f"{option} {text!r}: {why}", file=sys.stderr)
    raise SystemExit(2)


def parse_vary(text: str, option: str = "--vary") -> tuple[str, list[float]]:
    """``"NAME=V1,V2"`` -> (NAME, [V1, V2]), NAME a behavioural parameter (or one of the survey
    population's own) and each value in its range; anything else ends the script with one line
    and exit 2."""
    from pydantic import ValidationError

    from sim.behaviour import BehaviourParameters
    from sim.calibration.population import POPULATION_PARAMETERS

    name, _, values = text.partition("=")
    name = name.strip()
    if name not in BehaviourParameters.model_fields and name not in POPULATION_PARAMETERS:
        refuse(option, text, f"{name!r} is not a behavioural parameter; allowed: NAME=V1,V2,... (docs/levers.md, "
                             f"group behaviour, or {', '.join(POPULATION_PARAMETERS)})")
    population = POPULATION_PARAMETERS.get(name)  # a parameter of the survey population (firm_effort_spread)
    in_range = f"from {population[0]} to {population[1]}" if population else "in the parameter's range"
    try:
        numbers = [float(v) for v in values.split(",")]
    except ValueError:
        refuse(option, text, f"allowed: {name}=V1,V2,... with every value a number {in_range}")
    if population:
        if not all(population[0] <= v <= population[1] for v in numbers):
            refuse(option, text, f"allowed: {name}=V1,V2,... with every value {in_range}")
        return name, numbers
    try:
        for v in numbers:
            BehaviourParameters(**{name: v})
    except ValidationError as error:
        refuse(option, text, f"allowed: {name}=V1,V2,... with every value {in_range} "
                             f"({error.errors()[0]['msg']})")
    return name, numbers


def survey_diagnosis(posterior, varied: list[tuple[str, list[float]]], particles: int, surveys: int,
                     held: dict[str, float] | None = None) -> int:
    """Surveys under the heaviest particles with each varied parameter at each value, and the
    ``held`` ones at theirs (module docstring)."""
    held = dict(held or {})
    from pathlib import Path

    from sim.calibration.fit import ORGANISATIONS, simulate_survey
    from sim.calibration.targets import distance, load_targets

    targets = load_targets(Path(__file__).resolve().parent / "calibration" / "targets.toml")
    fitted = [t for t in targets if t.role == "fit"]
    order = np.argsort(-posterior.particles["weight"].to_numpy(), kind="stable")[:particles]
    print(f"{posterior.describe()}; {particles} heaviest particles, {surveys} surveys of {ORGANISATIONS} each"
          + "".join(f"; {name} = {value:g} throughout" for name, value in held.items()))
    header = f"{'parameter':<24} {'value':>7} {'particle':>8} {'hypothesis':<10} {'distance':>8} "
    print(header + " ".join(f"{k[:14]:>14}" for k in SHOWN))
    means = []
    for name, values in varied:
        for value in values:
            rows = []
            for index in order:
                row = posterior.particles.iloc[int(index)]
                parameters = {**{p: float(row[p]) for p in posterior.parameters}, **held}
                hierarchy = str(row.get("hierarchy_influence", "top_down"))
                stats = [simulate_survey({**parameters, name: value}, hierarchy, ORGANISATIONS, seed)
                         for seed in range(surveys)]
                mean = {k: float(np.mean([s[k] for s in stats])) for k in SHOWN}
                mean["distance"] = float(np.mean([distance(s, fitted) for s in stats]))
                rows.append(mean)
                print(f"{name:<24} {value:>7.3g} {int(index):>8} {hierarchy:<10} {mean['distance']:>8.2f} "
                      + " ".join(f"{mean[k]:>14.3f}" for k in SHOWN), flush=True)
            means.append((name, value, {k: float(np.mean([r[k] for r in rows])) for k in ("distance", *SHOWN)}))
    print(f"\nmeans over the {particles} particles")
    print(f"{'parameter':<24} {'value':>7} {'distance':>8} " + " ".join(f"{k[:14]:>14}" for k in SHOWN))
    for name, value, mean in means:
        print(f"{name:<24} {value:>7.3g} {mean['distance']:>8.2f} " + " ".join(f"{mean[k]:>14.3f}" for k in SHOWN))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
