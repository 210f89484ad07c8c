"""How often the advisor's stated interval for its top plan covers that plan's P(success).

On the AUCS department (the acceptance run's search: provide-and-pray, five levers with the
rollout, 32 trials of 8 replicates; 60 confirmation seeds, as the test suite's check, where the
acceptance run has 100), calibrated, for ten request seeds:
the top plan's P(success) as the confirmation ranked it and as the advisor states it (from its
verification seeds), against that plan's rate on 1,000 fresh calibrated seeds no stage used.
The test suite runs the same check (tests/test_advisor.py); this prints and stores each request.

    python experiments/advisor_coverage.py [--posterior FILE] [--out CSV] [--requests 10]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

import sim  # noqa: E402
from sim.advisor import advise  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402

LEVERS = ("purpose_strength", "leader_participation", "posting_friction", "open_by_default", "rollout")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posterior", type=Path, default=None, help="default: the shipped posterior")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--confirm", type=int, default=60)
    parser.add_argument("--fresh", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=ROOT / "experiments" / "results" / "advisor_aucs" / "coverage.csv")
    args = parser.parse_args()
    calibrated = args.posterior if args.posterior is not None else True
    current = load_scenario("provide_and_pray", organisation="aucs", customers=600)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for k in range(args.requests):
            out = Path(scratch) / f"request-{k}"
            advice = advise(current, out_dir=out, levers=LEVERS, trials=32, replicates=8, confirm=args.confirm,
                            calibrated=calibrated, seed=2026 + k, workers=0)
            top = advice.best
            if top is None:
                rows.append({"request_seed": 2026 + k, "plan": None})
                print(f"request {2026 + k}: no plan but the current one")
                continue
            plan = load_scenario(out / "plans" / f"{top['plan']}.toml")
            fresh = [sim.run(plan, seed=s, calibrated=calibrated).summary["success"]
                     for s in sim.replicate_seeds(424_242 + k, args.fresh)]
            rate = sum(bool(x) for x in fresh) / len(fresh)
            ranked = advice.plans.set_index("plan").loc[top["plan"]]  # the confirmation's own row
            confirm_low, confirm_high = float(ranked["p_success_low"]), float(ranked["p_success_high"])
            row = {"request_seed": 2026 + k, "plan": top["plan"], "posterior": advice.meta["posterior"],
                   "confirmed": top["p_success_confirm"], "confirmed_low": confirm_low, "confirmed_high": confirm_high,
                   "stated": top["p_success"], "stated_low": top["p_success_low"], "stated_high": top["p_success_high"],
                   "fresh_rate": rate, "fresh_runs": len(fresh),
                   "stated_covers": top["p_success_low"] <= rate <= top["p_success_high"],
                   "confirmed_covers": confirm_low <= rate <= confirm_high}
            rows.append(row)
            print(f"request {2026 + k}: {top['plan']} ranked at {row['confirmed']:.2f}, stated {row['stated']:.2f} "
                  f"[{row['stated_low']:.2f}, {row['stated_high']:.2f}], fresh {rate:.3f} -> "
                  f"{'covered' if row['stated_covers'] else 'MISSED'}", flush=True)
    frame = pd.DataFrame(rows, columns=["request_seed", "plan", "posterior", "confirmed", "confirmed_low",
                                        "confirmed_high", "stated", "stated_low", "stated_high", "fresh_rate",
                                        "fresh_runs", "stated_covers", "confirmed_covers"])
    checked = frame.dropna(subset=["plan"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"{len(checked)} of {len(frame)} requests found a plan; the stated interval covers the fresh rate in "
          f"{int(checked['stated_covers'].sum())}, the confirmation's in {int(checked['confirmed_covers'].sum())}; "
          f"wrote {args.out}")


if __name__ == "__main__":
    main()
