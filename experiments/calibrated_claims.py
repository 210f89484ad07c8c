"""The seed articles' claims under the calibrated model (issue 9, item 7), beside the uncalibrated
developers' defaults.

Reads the stored results of four canonical experiments:

- ``population_of_organisations`` and ``population_of_organisations_calibrated``: 80 organisations x
  8 strategies x 2 replicates; P(success) per strategy with a 95% Wilson interval;
- ``strategy_comparison`` and ``strategy_comparison_calibrated``: every preset, 30 replicates on the
  default organisation, common random numbers (replicate k has the same seed, and under the
  calibrated model the same posterior draw, in every preset), so strategies compare in pairs.

and writes ``experiments/results/calibrated_claims.json`` and ``calibrated_claims.md``:
P(success) per strategy, P(purpose-led stepwise beats provide-and-pray) in paired replicates
(more of the eligible staff posting at the horizon), the inside-out against two-track comparison,
and where the articles' claims fail.

Usage::

    python experiments/calibrated_claims.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
Z95 = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return float(centre - half), float(centre + half)


def runs(name: str) -> pd.DataFrame | None:
    parts = RESULTS / name / "parts"
    if not parts.is_dir():
        return None
    frame = pd.read_parquet(parts)
    return frame[frame["status"] == "ok"]


def success_rates(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    out = {}
    for scenario, group in frame.groupby("scenario"):
        k, n = int(group["success"].sum()), len(group)
        low, high = wilson(k, n)
        out[str(scenario)] = {"successes": k, "runs": n, "rate": k / n, "low": low, "high": high}
    return out


def paired(frame: pd.DataFrame, a: str, b: str, outcome: str) -> dict[str, float]:
    """a against b in runs with the same seed (replicate): P(a > b) and the median difference."""
    left = frame[frame["scenario"] == a].set_index("seed")[outcome]
    right = frame[frame["scenario"] == b].set_index("seed")[outcome]
    common = left.index.intersection(right.index)
    diff = (left.loc[common] - right.loc[common]).to_numpy()
    k = int((diff > 0).sum())
    low, high = wilson(k, len(diff))
    return {"pairs": int(len(diff)), "p_a_greater": k / max(1, len(diff)), "p_low": low, "p_high": high,
            "median_difference": float(np.median(diff)) if len(diff) else float("nan"),
            "difference_2.5": float(np.quantile(diff, 0.025)) if len(diff) else float("nan"),
            "difference_97.5": float(np.quantile(diff, 0.975)) if len(diff) else float("nan")}


def failures(frame: pd.DataFrame) -> dict[str, float]:
    """Where the claims fail across organisations: purpose-led that does not succeed, provide-and-pray that does."""
    pl = frame[frame["scenario"] == "purpose_led_stepwise"]
    pp = frame[frame["scenario"] == "provide_and_pray"]
    out = {"purpose_led_stepwise_not_success": float(1 - pl["success"].mean()),
           "provide_and_pray_success": float(pp["success"].mean())}
    for name, group in (("purpose_led_fails", pl[pl["success"] == 0]), ("purpose_led_succeeds", pl[pl["success"] == 1])):
        if len(group):
            out[f"{name}_median_workforce_effort"] = float(group["workforce_effort"].median())
            out[f"{name}_median_initial_safety"] = float(group["initial_safety"].median())
    return out


def main() -> int:
    report: dict[str, object] = {}
    lines = ["| strategy | P(success), defaults | P(success), calibrated |", "|---|---|---|"]
    pops = {label: runs(name) for label, name in (("defaults", "population_of_organisations"),
                                                   ("calibrated", "population_of_organisations_calibrated"))}
    rates = {label: success_rates(f) for label, f in pops.items() if f is not None}
    report["success_rates"] = rates
    for scenario in sorted(set().union(*(r.keys() for r in rates.values()))):
        cells = []
        for label in ("defaults", "calibrated"):
            r = rates.get(label, {}).get(scenario)
            cells.append("n/a" if r is None else f"{r['rate']:.1%} [{r['low']:.1%}, {r['high']:.1%}] ({r['successes']}/{r['runs']})")
        lines.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    report["failures"] = {label: failures(f) for label, f in pops.items() if f is not None}
    comparisons = {}
    for label, name in (("defaults", "strategy_comparison"), ("calibrated", "strategy_comparison_calibrated")):
        frame = runs(name)
        if frame is None:
            continue
        comparisons[label] = {
            "purpose_led_stepwise_vs_provide_and_pray": paired(frame, "purpose_led_stepwise", "provide_and_pray",
                                                               "active_share"),
            "two_track_vs_inside_out_active_share": paired(frame, "two_track", "inside_out", "active_share"),
            "two_track_vs_inside_out_net_value": paired(frame, "two_track", "inside_out", "net_value"),
            "two_track_vs_inside_out_members": paired(frame, "two_track", "inside_out", "members_share"),
            "success_rates": success_rates(frame),
        }
    report["paired"] = comparisons
    lines += ["", "| paired comparison (30 replicates, default organisation) | defaults | calibrated |", "|---|---|---|"]
    for key, text in (("purpose_led_stepwise_vs_provide_and_pray", "P(purpose-led stepwise has more staff posting than provide-and-pray)"),
                      ("two_track_vs_inside_out_active_share", "P(two-track has more staff posting than inside-out)"),
                      ("two_track_vs_inside_out_net_value", "P(two-track has more net value than inside-out)"),
                      ("two_track_vs_inside_out_members", "P(two-track has more customers in the community)")):
        cells = []
        for label in ("defaults", "calibrated"):
            c = comparisons.get(label, {}).get(key)
            cells.append("n/a" if c is None else f"{c['p_a_greater']:.0%} [{c['p_low']:.0%}, {c['p_high']:.0%}]; median "
                         f"difference {c['median_difference']:.3g} [{c['difference_2.5']:.3g}, {c['difference_97.5']:.3g}]")
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    (RESULTS / "calibrated_claims.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (RESULTS / "calibrated_claims.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(json.dumps(report["failures"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
