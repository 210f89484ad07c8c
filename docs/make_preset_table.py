"""Print the README's preset table (calibrated: drop --calibrated for the developers' defaults) from a `socialsim compare` summary (median [2.5%, 97.5%]).

Usage (from the repository root)::

    .venv/bin/socialsim compare provide_and_pray marketing_only early_adopters_only command_and_control \\
        inside_out two_track purpose_led_big_bang purpose_led_stepwise purpose_led_under_shocks \\
        --replicates 30 --seed 0 --calibrated --out-dir compare-presets
    .venv/bin/python docs/make_preset_table.py compare-presets/summary.csv
"""

from __future__ import annotations

import argparse

import pandas as pd

#: (summary key, column heading, as a percentage?)
COLUMNS = (
    ("active_share", "eligible staff who posted in the last 4 weeks (%)", True),
    ("peak_active_share", "peak (%)", True),
    ("ever_used_share", "ever used (%)", True),
    ("only_read_share", "only read (%)", True),
    ("top1_share", "content by the top 1% of users (%)", True),
    ("productivity_gain", "productivity gain (%)", True),
    ("members_share", "customers in the community (%)", True),
    ("net_value", "net value", False),
)


def cell(values: pd.Series, percent: bool) -> str:
    q = values.quantile([0.5, 0.025, 0.975]).to_numpy() * (100 if percent else 1)
    fmt = "{:.1f}" if percent else "{:,.0f}"
    return f"{fmt.format(q[0])} [{fmt.format(q[1])}, {fmt.format(q[2])}]"


def table(summary: pd.DataFrame) -> str:
    lines = ["| preset | " + " | ".join(h for _, h, _ in COLUMNS) + " | verdicts (success / fizzle / collapse) |",
             "|---" * (len(COLUMNS) + 2) + "|"]
    for name, runs in summary.groupby("scenario", sort=True):
        counts = runs["verdict"].value_counts()
        verdicts = " / ".join(str(int(counts.get(v, 0))) for v in ("success", "fizzle", "peak_then_collapse"))
        lines.append(f"| `{name}` | " + " | ".join(cell(runs[k], p) for k, _, p in COLUMNS) + f" | {verdicts} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summary", help="summary.csv written by socialsim compare")
    print(table(pd.read_csv(parser.parse_args().summary)))


if __name__ == "__main__":
    main()
