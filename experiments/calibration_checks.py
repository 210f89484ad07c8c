"""Checks of the shipped calibration, written to ``experiments/results/calibration/``:
posterior predictive checks of every target (fitted and held out), what the data pins down,
the hierarchy hypotheses' probabilities and, with ``--recovery``, parameter recovery from
synthetic targets. See sim/calibration/checks.py and docs/MODEL.md section 9.

Usage::

    python experiments/calibration_checks.py                 # predictive checks + report (a few minutes)
    python experiments/calibration_checks.py --recovery      # also the recovery study (about 15 minutes)
    python experiments/calibration_checks.py --mix-sensitivity   # also the checks under other strategy mixes
    python experiments/calibration_checks.py --recovery --recovery-truth median   # only a recovery, truth inside the box

Writes ``report.html``, ``checks.json``, ``summary.md`` (the markdown of docs/MODEL.md section 9),
``predictive.csv``, with --recovery ``recovery/`` (its own calibration) and ``recovery.csv``, and
with --mix-sensitivity ``mix_sensitivity.csv``: the predictive check of every target when the
survey population's assumed share of provide-and-pray firms (60%) is 45% or 75% instead (the
other strategies keep their proportions), with the same posterior: how much the calibrated
model's agreement with the record rests on that assumption. ``--recovery --recovery-truth median``
runs only a second recovery study, from the posterior's weighted medians (a truth inside the prior
box), into ``recovery_median/`` and ``recovery_median.csv``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "calibration"


#: Shares of provide-and-pray firms for the mix sensitivity (the assumed mix has 60%).
MIX_SHARES = (0.45, 0.75)


def other_mix(provide_and_pray_share: float) -> dict[str, float]:
    """The survey population's strategy mix with another share of provide-and-pray firms; the
    other strategies keep their proportions to each other."""
    from sim.calibration.population import STRATEGY_MIX

    rest = {k: v for k, v in STRATEGY_MIX.items() if k != "provide_and_pray"}
    scale = (1.0 - provide_and_pray_share) / sum(rest.values())
    return {"provide_and_pray": provide_and_pray_share, **{k: v * scale for k, v in rest.items()}}


def main(argv: list[str] | None = None) -> int:
    from sim.calibration import checks
    from sim.calibration.posterior import load
    from sim.calibration.targets import load_targets
    from sim.experiments.cluster import DaskExecutor

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posterior", type=Path, default=RESULTS / "posterior.csv")
    parser.add_argument("--targets", type=Path, default=None)
    parser.add_argument("--draws", type=int, default=120, help="simulated surveys from the posterior")
    parser.add_argument("--recovery", action="store_true", help="also run the parameter-recovery calibration")
    parser.add_argument("--recovery-population", type=int, default=100)
    parser.add_argument("--recovery-generations", type=int, default=6)
    parser.add_argument("--recovery-truth", choices=("heaviest", "median"), default="heaviest",
                        help="the known parameters: the posterior's heaviest particle (default; written to recovery/ "
                             "and recovery.csv) or its weighted medians under its most probable hypothesis, a truth "
                             "inside the prior box (written to recovery_median/ and recovery_median.csv, beside)")
    parser.add_argument("--mix-sensitivity", action="store_true",
                        help="also the predictive checks with 45%% and 75%% provide-and-pray firms")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    posterior = load(args.posterior)
    targets = load_targets(args.targets)
    out = args.posterior.parent
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    if args.recovery and args.recovery_truth == "median":  # only the second recovery study
        recovery, _ = run_recovery(posterior, targets, out, args, say)
        print(recovery[["parameter", "truth", "median", "q05", "q95", "covered"]].to_string(index=False))
        print(f"recovery (weighted medians): {int(recovery['covered'].sum())} of {len(recovery)} parameters covered "
              f"by the 90% interval")
        return 0
    with DaskExecutor(workers=args.workers) as executor:
        say(f"posterior predictive: {args.draws} surveys from {posterior.describe()}")
        calibrated = checks.predictive_draws(posterior, args.draws, seed=1, client=executor.client)
        say("the same with the developers' defaults")
        defaults = checks.predictive_draws(None, max(20, args.draws // 2), seed=2, client=executor.client)
        mixes = {}
        if args.mix_sensitivity:
            for share in MIX_SHARES:
                mix = other_mix(share)
                say(f"posterior predictive with {share:.0%} provide-and-pray firms")
                mixes[share] = checks.predictive_draws(posterior, max(20, args.draws // 2), seed=3,
                                                       client=executor.client, strategy_mix=mix)
    check = checks.predictive_check(calibrated, targets, posterior)
    default_check = checks.predictive_check(defaults, targets, None)
    table = checks.identification(posterior)
    recovery = recovery_meta = None
    if args.recovery:
        recovery, recovery_meta = run_recovery(posterior, targets, out, args, say)
    elif (out / "recovery.csv").is_file():
        recovery = pd.read_csv(out / "recovery.csv")
    page = checks.report_html(posterior, targets, check, table, {"calibrated": calibrated, "defaults": defaults},
                              recovery, recovery_meta, default_check)
    from sim.report import write_text_atomic

    write_text_atomic(out / "report.html", page)
    calibrated.to_csv(out / "predictive.csv", index=False)
    checks.write_json(out / "checks.json", {
        "posterior": posterior.id, "draws": args.draws,
        "predictive_check": check.to_dict("records"), "defaults_check": default_check.to_dict("records"),
        "identification": table.to_dict("records"),
        "recovery": None if recovery is None else recovery.to_dict("records"),
        "recovery_meta": recovery_meta})
    if mixes:
        rows = [checks.predictive_check(frame, targets, posterior).assign(provide_and_pray_share=share)
                for share, frame in mixes.items()]
        sensitivity = pd.concat([check.assign(provide_and_pray_share=0.60), *rows], ignore_index=True)
        sensitivity = sensitivity[["provide_and_pray_share", "target", "role", "published", "median", "low", "high",
                                   "share_in_band", "met"]]
        sensitivity.to_csv(out / "mix_sensitivity.csv", index=False)
        print(sensitivity.to_string(index=False))
    summary = checks.markdown_summary(posterior, check, table, default_check, recovery)
    write_text_atomic(out / "summary.md", summary + "\n")
    print(check[["target", "role", "published", "median", "low", "high", "share_in_band", "met"]].to_string(index=False))
    print(table[["parameter", "median", "q05", "q95", "width_vs_prior", "identified"]].to_string(index=False))
    if recovery is not None:
        print(f"recovery: {int(recovery['covered'].sum())} of {len(recovery)} parameters covered by the 90% interval")
    print(f"wrote {out / 'report.html'}")
    return 0


def run_recovery(posterior, targets, out: Path, args: argparse.Namespace, say) -> tuple[pd.DataFrame, dict]:
    """Parameter recovery from a known truth; writes its calibration and table beside the posterior.

    The truth (``--recovery-truth``) is the posterior's heaviest particle (``recovery/``,
    ``recovery.csv``) or its weighted median of each parameter under its most probable hypothesis
    (``recovery_median/``, ``recovery_median.csv``). The heaviest particle of a posterior over many
    parameters often sits near a bound of some prior, where a central 90% interval (which leaves
    out 5% on each side) misses a truth even when the data identify it; the medians are a truth
    inside the prior box, which tells that apart from a parameter the data cannot pin down.
    """
    from sim.calibration import checks
    from sim.calibration.fit import FITTED

    particles = posterior.particles
    names = [name for name in FITTED if name in posterior.parameters]
    if args.recovery_truth == "heaviest":
        best = particles.sort_values("weight", ascending=False).iloc[0]
        truth = {name: float(best[name]) for name in names}
        hierarchy, label, suffix = str(best["hierarchy_influence"]), "the heaviest particle", ""
    else:
        weights = particles["weight"].to_numpy()
        truth = {name: checks.weighted_quantile(particles[name].to_numpy(), weights, 0.5) for name in names}
        hierarchy = str(particles.groupby("hierarchy_influence")["weight"].sum().idxmax())
        label, suffix = "the weighted medians", "_median"
    say(f"parameter recovery: truth = {label} of the posterior ({hierarchy})")
    recovery, _, synthetic = checks.parameter_recovery(
        truth, hierarchy, targets, out=out / f"recovery{suffix}", population_size=args.recovery_population,
        generations=args.recovery_generations, workers=args.workers, progress=lambda m: say(f"recovery: {m}"))
    recovery.to_csv(out / f"recovery{suffix}.csv", index=False)
    meta = {"description": f"truth: {label} of {posterior.id}, hierarchy {hierarchy}; "
                           f"{args.recovery_population} particles, {args.recovery_generations} generations",
            "synthetic_targets": [t.__dict__ for t in synthetic]}
    return recovery, meta


if __name__ == "__main__":
    raise SystemExit(main())
