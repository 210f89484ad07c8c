"""Make the README's tour figure: provide-and-pray vs purpose-led stepwise, 20 replicates each.

Usage: python docs/make_tour_figure.py [--help] [OUT.png]   (default docs/img/tour.png;
needs matplotlib: pip install -e ".[docs]")
Uses only the public API (sim.run_replicates), seeds 0..19 derived from root seed 0.
"""

from __future__ import annotations

import argparse

PRESETS = {"provide_and_pray": "#c0392b", "purpose_led_stepwise": "#2471a3"}
REPLICATES = 20


def main(path: str = "docs/img/tour.png") -> None:
    import matplotlib  # here, so that --help works without matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    import sim

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, colour in PRESETS.items():
        runs = sim.run_replicates(name, REPLICATES, seed=0)
        weeks = runs[0].series["week"].to_numpy()
        for ax, column, scale in ((axes[0], "active_share", 100), (axes[1], "viewers_4w", None),
                                  (axes[2], "net_value", None)):
            values = np.array([r.series[column].to_numpy() for r in runs], dtype=float)
            if column == "viewers_4w":  # a share of the staff with access
                eligible = np.array([r.series["eligible"].to_numpy() for r in runs], dtype=float)
                values = 100 * np.divide(values, eligible, out=np.zeros_like(values), where=eligible > 0)
            elif scale:
                values = scale * values
            lo, mid, hi = np.percentile(values, [2.5, 50, 97.5], axis=0)
            ax.fill_between(weeks, lo, hi, color=colour, alpha=0.2, linewidth=0)
            ax.plot(weeks, mid, color=colour, label=name.replace("_", " "))
    axes[0].set_title("Eligible staff who posted in the last 4 weeks (%)")
    axes[1].set_title("Eligible staff who read or posted in the last 4 weeks (%)")
    axes[2].set_title("Cumulative value - cost")
    for ax in axes:
        ax.set_xlabel("week")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper left")
    fig.suptitle(f"Median and 95% band over {REPLICATES} replicates (default organisation: 3,000 employees, "
                 "30,000 customers)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line: one optional output path (``--help`` prints help, never a file)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default="docs/img/tour.png", help="PNG file to write")
    args = parser.parse_args(argv)
    if not args.path.lower().endswith(".png") or args.path.startswith("-"):
        parser.error(f"{args.path}: allowed: a .png file path")
    return args


if __name__ == "__main__":
    main(parse_args().path)
