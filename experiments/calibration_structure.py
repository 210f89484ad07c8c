"""How different the firms of one strategy are under a posterior: the diagnosis that changed the
survey population's structure (docs/MODEL.md section 9).

Under a posterior's heaviest particle, runs each strategy of the survey population in a mid-sized
organisation (500 employees, 5 departments, 104 weeks, half the departments given access under
provide-and-pray, as a surveyed provide-and-pray firm) at several levels of workforce effort, and
prints the share of eligible staff active at the horizon and the share of runs that succeed.
If every level of effort the survey population allows leaves one strategy's firms on the same
side of the take-off point, no parameter set can give that strategy a success rate between 0
and 1 across a survey.

Usage::

    python experiments/calibration_structure.py                       # the shipped posterior
    python experiments/calibration_structure.py --posterior experiments/results/calibration/first_posterior/posterior.csv
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
    args = parser.parse_args(argv)

    posterior = load(args.posterior)
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


if __name__ == "__main__":
    raise SystemExit(main())
