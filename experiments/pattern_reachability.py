"""Pattern-oriented modelling, first pass: which behavioural parameters reproduce the published
patterns together? (model v2, item 10; Grimm et al. 2005, "Pattern-oriented modeling of
agent-based complex systems", Science 310.)

The sweep ``experiments/pattern_reachability.toml`` runs, for each of 500 Latin-hypercube
points over the behavioural parameters (the prior box ``experiments/calibration/priors.toml``),
three strategies (provide-and-pray, two-track, purpose-led stepwise) in a panel of ten small
organisations (workforce effort 0.7 to 1.3 times a typical one, psychological safety 0.6 or
0.8): 30 runs per point. A
point *passes* a pattern when its 30 runs, taken as a small survey of firms, look like the
published figure:

=========  ==================================================  =======================================
pattern    published figure                                    test on the point's runs
=========  ==================================================  =======================================
dachis     Dachis Group 2012: in 57% of 56 large firms only    40% to 75% of the runs have 10-20% of
           10-20% of eligible staff were active                eligible staff active (``active_share``)
swoop      SWOOP 2022: almost 60% of staff only read           median ``only_read_share`` in [0.50, 0.70]
vanmierlo  van Mierlo 2014: the top 1% wrote 74.7% of content  median ``top1_share`` in [0.60, 0.90]
gartner    Gartner 2013: provide-and-pray succeeds in ~10%     1 to 3 of the 10 provide-and-pray runs
                                                               succeed (5% to 30%)
=========  ==================================================  =======================================

A *diagnostic*, not the test: the same four tests on the provide-and-pray runs alone
(``pp_only_*`` columns and the ``diagnostic_pp_only`` counts), for the reading that the surveyed
firms of 2012 mostly handed out tools (Dachis: only 16% had opened access to the whole
organisation) rather than running purpose-led rollouts. It informs the survey population that
calibration needs; it does not replace the pre-specified pooled test, whose counts are the
result.

The tolerances are wide on purpose (this is a rejection filter, not a likelihood; calibration
with measurement models is a later step). They were fixed before the sweep was
run and are not moved to let points pass.

Usage::

    python experiments/pattern_reachability.py                    # analyse the stored results
    python experiments/pattern_reachability.py --write-experiment # regenerate the .toml from priors.toml

Writes ``experiments/results/pattern_reachability/analysis/patterns.csv`` (one row per point:
its parameters, the four statistics and pass flags) and ``reachability.json`` (counts).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "pattern_reachability"
PRIORS = HERE / "calibration" / "priors.toml"
EXPERIMENT = HERE / "pattern_reachability.toml"
PATTERNS = ("dachis", "swoop", "vanmierlo", "gartner")
ORGANISATION_FACTORS = ("scenario", "workforce_effort", "initial_safety")


def pattern_table(runs: pd.DataFrame, factors: list[str], samples: int) -> pd.DataFrame:
    """One row per behavioural point: its parameters, the pattern statistics and pass flags.

    The design crosses every sampled point with every (strategy, workforce effort, safety)
    combination, so
    ``point_id % samples`` is the sampled point (sim/experiments/design.py).
    """
    ok = runs[runs["status"] == "ok"].assign(theta=lambda r: r["point_id"] % samples)
    behavioural = [f for f in factors if f not in ORGANISATION_FACTORS]
    rows = []
    for theta, group in ok.groupby("theta", sort=True):
        pp = group[group["scenario"] == "provide_and_pray"]
        in_band = group["active_share"].between(0.10, 0.20)
        row = {"point": int(theta), **group.iloc[0][behavioural].to_dict()}
        row.update(
            runs=len(group),
            dachis_share_in_band=float(in_band.mean()),
            median_active_share=float(group["active_share"].median()),
            median_only_read=float(group["only_read_share"].median()),
            median_top1=float(group["top1_share"].median()),
            pp_success_rate=float(pp["success"].mean()) if len(pp) else np.nan,
            pp_runs=len(pp),
        )
        row["dachis"] = 0.40 <= row["dachis_share_in_band"] <= 0.75
        row["swoop"] = 0.50 <= row["median_only_read"] <= 0.70
        row["vanmierlo"] = 0.60 <= row["median_top1"] <= 0.90
        row["gartner"] = 0.05 <= row["pp_success_rate"] <= 0.30
        row["all_four"] = row["dachis"] and row["swoop"] and row["vanmierlo"] and row["gartner"]
        # diagnostic: the same tests on the provide-and-pray runs alone
        row["pp_only_dachis"] = 0.40 <= float(pp["active_share"].between(0.10, 0.20).mean()) <= 0.75
        row["pp_only_swoop"] = 0.50 <= float(pp["only_read_share"].median()) <= 0.70
        row["pp_only_vanmierlo"] = 0.60 <= float(pp["top1_share"].median()) <= 0.90
        row["pp_only_gartner"] = row["gartner"]
        row["pp_only_all_four"] = all(row[f"pp_only_{p}"] for p in PATTERNS)
        rows.append(row)
    return pd.DataFrame(rows)


def counts(table: pd.DataFrame) -> dict:
    """How many points pass each pattern, each pair, and all four."""
    out = {"points": len(table), "each": {p: int(table[p].sum()) for p in PATTERNS},
           "pairs": {f"{a}+{b}": int((table[a] & table[b]).sum()) for a, b in itertools.combinations(PATTERNS, 2)},
           "three": {"+".join(c): int(table[list(c)].all(axis=1).sum()) for c in itertools.combinations(PATTERNS, 3)},
           "all_four": int(table["all_four"].sum())}
    out["diagnostic_pp_only"] = {**{p: int(table[f"pp_only_{p}"].sum()) for p in PATTERNS},
                                 "all_four": int(table["pp_only_all_four"].sum())}
    return out


def write_experiment() -> None:
    """Regenerate pattern_reachability.toml's factors from priors.toml (header kept)."""
    priors = tomllib.loads(PRIORS.read_text())
    text = EXPERIMENT.read_text()
    head = text[: text.index("[factors.scenario]")]
    lines = [head, '[factors.scenario]\nvalues = ["provide_and_pray", "two_track", "purpose_led_stepwise"]\n',
             "[factors.workforce_effort]\nvalues = [0.7, 0.85, 1.0, 1.15, 1.3]\n",
             "[factors.initial_safety]\nvalues = [0.6, 0.8]\n"]
    for name, prior in priors.items():
        low, high = prior["range"]
        lines.append(f"[factors.{name}]\nrange = [{low}, {high}]\n")
    EXPERIMENT.write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--write-experiment", action="store_true", help="regenerate the .toml from priors.toml")
    args = parser.parse_args()
    if args.write_experiment:
        write_experiment()
        print(f"wrote {EXPERIMENT}")
        return
    import sim.experiments as ex

    runs = ex.load_results(args.results)
    manifest = ex.load_manifest(args.results)
    factors = list(manifest["factors"])
    table = pattern_table(runs, factors, int(manifest["spec"]["design"]["samples"]))
    summary = counts(table)
    summary["runs"] = int((runs["status"] == "ok").sum())
    folder = args.results / "analysis"
    folder.mkdir(exist_ok=True)
    table.to_csv(folder / "patterns.csv", index=False)
    (folder / "reachability.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    stats = ["median_active_share", "dachis_share_in_band", "median_only_read", "median_top1", "pp_success_rate"]
    print(table[stats].describe().round(3).to_string())


if __name__ == "__main__":
    main()
