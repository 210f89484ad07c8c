"""How different the firms of one strategy are under a posterior: the diagnosis that changed the
survey population's structure (docs/MODEL.md section 9).

Under a posterior's heaviest particle, runs each strategy of the survey population in a mid-sized
organisation (500 employees, 5 departments, 104 weeks, half the departments given access under
provide-and-pray, as a surveyed provide-and-pray firm) at several levels of workforce effort, and
prints the share of eligible staff active at the horizon and the share of runs that succeed.
If every level of effort the survey population allows leaves one strategy's firms on the same
side of the take-off point, no parameter set can give that strategy a success rate between 0
and 1 across a survey.

With ``--department-spreads``, the diagnosis behind the third change of structure instead: under
the posterior's heaviest particles, simulated surveys (as calibration runs them) with the
departments of each firm differing in effort by each given ``department_effort_spread``; it
prints each figure's survey statistic (mean over ``--surveys`` surveys) and the distance to the
fitted targets. A posterior made with departments alike answers whether letting them differ
moves the survey towards the record.

Usage::

    python experiments/calibration_structure.py                       # the shipped posterior
    python experiments/calibration_structure.py --posterior experiments/results/calibration/first_posterior/posterior.csv
    python experiments/calibration_structure.py --posterior experiments/results/calibration/posterior.csv \
        --department-spreads 0,0.5,1.0,1.5 --particles 6
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
    parser.add_argument("--department-spreads", default=None,
                        help="comma-separated department_effort_spread values: run the survey diagnosis instead")
    parser.add_argument("--particles", type=int, default=6, help="heaviest particles (survey diagnosis)")
    parser.add_argument("--surveys", type=int, default=4, help="simulated surveys per value (survey diagnosis)")
    args = parser.parse_args(argv)

    posterior = load(args.posterior)
    if args.department_spreads is not None:
        return survey_diagnosis(posterior, [float(v) for v in args.department_spreads.split(",")],
                                args.particles, args.surveys)
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


def survey_diagnosis(posterior, spreads: list[float], particles: int, surveys: int) -> int:
    """Surveys under the heaviest particles at each department_effort_spread (module docstring)."""
    from pathlib import Path

    from sim.calibration.fit import ORGANISATIONS, simulate_survey
    from sim.calibration.targets import distance, load_targets

    targets = load_targets(Path(__file__).resolve().parent / "calibration" / "targets.toml")
    fitted = [t for t in targets if t.role == "fit"]
    order = np.argsort(-posterior.particles["weight"].to_numpy(), kind="stable")[:particles]
    print(posterior.describe())
    print(f"{'particle':>8} {'hypothesis':<10} {'spread':>6} {'distance':>8} " + " ".join(f"{k[:14]:>14}" for k in SHOWN))
    for index in order:
        row = posterior.particles.iloc[int(index)]
        values = {name: float(row[name]) for name in posterior.parameters if name != "department_effort_spread"}
        hierarchy = str(row.get("hierarchy_influence", "top_down"))
        for spread in spreads:
            stats = [simulate_survey({**values, "department_effort_spread": spread}, hierarchy, ORGANISATIONS, seed)
                     for seed in range(surveys)]
            mean = {k: float(np.mean([s[k] for s in stats])) for k in SHOWN}
            d = float(np.mean([distance(s, fitted) for s in stats]))
            print(f"{int(index):>8} {hierarchy:<10} {spread:>6.2f} {d:>8.2f} " + " ".join(f"{mean[k]:>14.3f}" for k in SHOWN),
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
