"""The advisor's acceptance run (issue 10): advise a real organisation, then check its top plan.

On the AUCS department (61 real people, 353 real ties; scenarios/orgs/README.md), starting from
provide-and-pray, under the calibrated posterior: `advise` searches a few dozen plans, then the
top plan (highest confirmed P(success), then cheapest; the advisor states its number from a third
set of seeds) is rerun on 1,000 fresh calibrated seeds that neither the search, the advisor's
confirmation nor its verification used, and the rate is compared with the interval the advisor
stated. (1,000, so the rate is near the plan's P(success): an honest interval from 100 runs misses
another 100-run rate about one time in six. One request is one check: the test suite's version
and experiments/advisor_coverage.py run ten.) Writes ``experiments/results/advisor_aucs/`` (the
advisor's own files and ``acceptance.json``) and prints the comparison and the run times.

    python experiments/advisor_acceptance.py [--trials 32] [--replicates 8] [--workers 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.advisor import advise  # noqa: E402
from sim.report import wilson_interval  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

LEVERS = ("purpose_strength", "leader_participation", "posting_friction", "open_by_default", "rollout")
#: A university department's "customers" are its students and visitors: a few hundred, not the
#: presets' 30,000 (the advisor's answer is for this market size).
CUSTOMERS = 600
FRESH_SEED = 20_261_202


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=32)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--confirm", type=int, default=100)
    parser.add_argument("--fresh", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "experiments" / "results" / "advisor_aucs")
    args = parser.parse_args()

    current = load_scenario("provide_and_pray", organisation="aucs", customers=CUSTOMERS)
    started = time.perf_counter()
    advice = advise(current, out_dir=args.out_dir, levers=LEVERS, trials=args.trials, replicates=args.replicates,
                    confirm=args.confirm, calibrated=True, seed=2026, workers=args.workers, target=0.5,
                    source="provide_and_pray on aucs", progress=lambda m: print(m, file=sys.stderr))
    searched = time.perf_counter() - started
    plans = advice.plans
    if advice.best is None:
        sys.exit("the advisor found no plan other than the current one; nothing to check")
    top = pd.Series(advice.best)
    plan = load_scenario(args.out_dir / "plans" / f"{top.plan}.toml")
    started = time.perf_counter()
    fresh = [sim.run(plan, seed=s, calibrated=True).summary["success"]
             for s in sim.replicate_seeds(FRESH_SEED, args.fresh)]
    rerun = time.perf_counter() - started
    k = int(sum(bool(x) for x in fresh))
    rate = k / len(fresh)
    low, high = wilson_interval(k, len(fresh))
    inside = bool(top.p_success_low <= rate <= top.p_success_high)
    result = {
        "organisation": "aucs", "employees": current.employees, "departments": current.departments,
        "scenario_hash": current.scenario_hash(), "plan_scenario_hash": plan.scenario_hash(),
        "posterior": advice.meta.get("posterior"), "trials": args.trials, "replicates": args.replicates,
        "confirm": args.confirm, "current_p_success": advice.current["p_success"],
        "current_interval": [advice.current["p_success_low"], advice.current["p_success_high"]],
        "top_plan": str(top.plan), "top_cost": float(top.cost), "top_p_success": float(top.p_success),
        "top_interval": [float(top.p_success_low), float(top.p_success_high)],
        "top_p_success_confirm": float(top.p_success_confirm),
        "top_levers": {name: (top[name] if isinstance(top[name], str) else float(top[name])) for name in LEVERS},
        "fresh_seed": FRESH_SEED, "fresh_runs": len(fresh), "fresh_successes": k, "fresh_rate": rate,
        "fresh_interval": [low, high], "inside_stated_interval": inside,
        "search_seconds": round(searched, 1), "rerun_seconds": round(rerun, 1), "plans": len(plans),
    }
    (args.out_dir / "acceptance.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"current scenario: P(success) {advice.current['p_success']:.2f} "
          f"[{advice.current['p_success_low']:.2f}, {advice.current['p_success_high']:.2f}]")
    print(f"top plan {top.plan} (cost {top.cost:.1f}): ranked first at {top.p_success_confirm:.2f} on the "
          f"confirmation seeds; stated {top.p_success:.2f} [{top.p_success_low:.2f}, {top.p_success_high:.2f}] "
          f"on {args.confirm} verification seeds; "
          f"rerun on {len(fresh)} fresh calibrated seeds: {rate:.2f} -> {'inside' if inside else 'OUTSIDE'}")
    print(f"advise: {searched:.0f} s ({len(plans)} Pareto plans); rerun: {rerun:.0f} s")


if __name__ == "__main__":
    main()
