"""Scenario discovery with PRIM: which lever ranges make success likely?

PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999, "Bump hunting in
high-dimensional data", Statistics and Computing 9:123-143) looks for a box - a range per
factor - inside which the share of "interesting" runs (here: successes) is high. Bryant &
Lempert (2010, "Thinking inside the box: a participatory, computer-assisted approach to scenario
discovery", Technological Forecasting and Social Change 77:34-49) use it for *scenario
discovery* and judge a box by three numbers, reported for every step:

* **coverage**: share of all successes that fall in the box;
* **density**: share of the runs in the box that are successes;
* **support** (mass): share of all runs that fall in the box.

How :func:`prim` works:

1. **Peeling.** Starting from the box that holds every run, each step tries to cut off the
   ``peel_alpha`` share of the runs in the box at the low or the high end of one factor (a
   discrete factor loses all the runs at its lowest/highest value, the smallest possible cut),
   and keeps the cut with the largest gain in density per run removed (Friedman & Fisher's
   criterion). Steps continue while the box keeps at least ``min_support`` of the runs. The
   steps form the *peeling trajectory*: a trade-off between coverage and density.
2. **Choosing the box** (documented rule). Peeling on the same runs it is judged on always
   raises density, even on pure noise, so the trajectory is peeled on a random ``1 -
   test_fraction`` of the runs and every step is also scored on the held-out rest (Friedman &
   Fisher's test-sample choice of box size). Without ``threshold``, the chosen box is the step
   whose held-out density has the highest lower 95% Wilson bound, and only if that bound
   exceeds the held-out base rate - otherwise there is **no box** (nothing beats luck). With
   ``threshold`` (Bryant & Lempert's density requirement), the chosen box is the step with the
   highest coverage whose held-out density reaches ``threshold``. Small data sets (fewer than
   ``2 * MIN_TEST`` runs) are not split; the choice then uses the same runs and is optimistic.
3. **Pasting** (optional, ``paste=True``): the chosen box is widened again, one ``peel_alpha``
   slice at a time, while that raises its density on the peeling runs.
4. **Pruning.** Greedy peeling also trims factors that do not matter. Each restriction gets
   Bryant & Lempert's quasi-p-value (one-sided binomial test: could the box's successes come
   from the box without that restriction?); the worst restriction above ``max_qp`` (0.05) is
   dropped and the test repeated, so the box lists only the levers that matter.
5. **Covering** (``max_boxes > 1``): the runs in the chosen box are removed and the search
   repeats on the rest, as in Friedman & Fisher's covering strategy.

Categorical factors (text or category columns, e.g. a ``scenario`` preset name) are one-hot
encoded, one 0/1 column ``factor=value`` per category, so a box can say "scenario is X" (low
bound 1) or "scenario is not X" (high bound 0); booleans become 0/1. One-hot keeps every run
in one search (a per-category PRIM would split the data and could not find boxes that hold
across categories).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import UserInputError
from ..report import Z95, wilson_interval

MIN_TEST = 30  # held-out runs needed before the data are split into peeling and test runs

BOX_COLUMNS = ["box", "factor", "low", "high", "data_low", "data_high", "range", "qp_value", "coverage",
               "density", "support", "n", "successes", "base_rate", "test_density", "test_low", "test_n"]


@dataclass
class PrimResult:
    """What :func:`prim` found.

    Attributes:
        trajectory: one row per peeling step (and box, when covering): ``box, step, n, successes,
            coverage, density, support`` on all runs, ``test_n, test_density, test_low`` on the
            held-out runs, ``chosen`` (bool), then ``<column>_low``/``<column>_high`` bounds.
        boxes: one row per chosen box and restricted factor (see :data:`BOX_COLUMNS`); empty when
            no box beats the base rate. ``range`` reads e.g. ``0.2 <= purpose_strength <= 0.6``.
        base_rate: share of successes among all runs.
        n: number of runs.
        split: whether a held-out test share was used to choose the box.
        limits: per chosen box, ``{column: (low, high)}`` for every encoded column.
    """

    trajectory: pd.DataFrame
    boxes: pd.DataFrame
    base_rate: float
    n: int
    split: bool
    limits: list[dict[str, tuple[float, float]]] = field(default_factory=list)


def encode(X: pd.DataFrame) -> pd.DataFrame:
    """Numeric matrix for PRIM: numbers kept, booleans as 0/1, categories one-hot (``name=value``)."""
    columns = {}
    for name in X.columns:
        col = X[name]
        if pd.api.types.is_bool_dtype(col):
            columns[name] = col.astype(np.float64)
        elif pd.api.types.is_numeric_dtype(col):
            columns[name] = col.astype(np.float64)
        else:
            for value in sorted(col.dropna().astype(str).unique()):
                columns[f"{name}={value}"] = (col.astype(str) == value).astype(np.float64)
    return pd.DataFrame(columns, index=X.index)


def _inside(X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return np.all((X >= lo) & (X <= hi), axis=1)


def _peel_once(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float,
               min_count: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The best single peel of the box (new lo, hi), or None if every peel leaves too few runs."""
    inside = _inside(X, lo, hi)
    Xb, yb = X[inside], y[inside]
    n_old, mean_old = len(yb), yb.mean()
    best, best_gain = None, -math.inf
    for j in range(X.shape[1]):
        x = Xb[:, j]
        values = np.unique(x)
        if values.size < 2:
            continue
        for side in ("low", "high"):
            if side == "low":
                cut = np.quantile(x, alpha)
                cut = cut if cut > values[0] else values[1]  # discrete: drop the lowest value
                keep = x >= cut
            else:
                cut = np.quantile(x, 1 - alpha)
                cut = cut if cut < values[-1] else values[-2]
                keep = x <= cut
            n_new = int(keep.sum())
            if n_new < max(min_count, 1) or n_new == n_old:
                continue
            gain = (yb[keep].mean() - mean_old) / (n_old - n_new)
            if gain > best_gain:
                best_gain = gain
                new_lo, new_hi = lo.copy(), hi.copy()
                if side == "low":
                    new_lo[j] = cut
                else:
                    new_hi[j] = cut
                best = (new_lo, new_hi)
    return best


def _paste(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float,
           data_lo: np.ndarray, data_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Widen the box one ``alpha`` slice at a time while its density rises."""
    while True:
        inside = _inside(X, lo, hi)
        n_box, density = int(inside.sum()), y[inside].mean() if inside.any() else 0.0
        step = max(1, int(math.ceil(alpha * n_box)))
        best, best_density = None, density
        for j in range(X.shape[1]):
            others = np.all((X >= lo) & (X <= hi) | (np.arange(X.shape[1]) == j), axis=1)
            for side in ("low", "high"):
                if side == "low":
                    outside = np.sort(X[others & (X[:, j] < lo[j]), j])[::-1]
                else:
                    outside = np.sort(X[others & (X[:, j] > hi[j]), j])
                if outside.size == 0:
                    continue
                bound = outside[min(step, outside.size) - 1]
                new_lo, new_hi = lo.copy(), hi.copy()
                if side == "low":
                    new_lo[j] = bound if outside.size > step else data_lo[j]
                else:
                    new_hi[j] = bound if outside.size > step else data_hi[j]
                mask = _inside(X, new_lo, new_hi)
                d = y[mask].mean()
                if d > best_density:
                    best, best_density = (new_lo, new_hi), d
        if best is None:
            return lo, hi
        lo, hi = best


def _qp_values(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, data_lo: np.ndarray,
               data_hi: np.ndarray) -> dict[int, float]:
    """Quasi-p-value of each restriction: P(density >= the box's | the box without that restriction).

    One-sided binomial test of the box's successes against the density of the box with the
    restriction removed (Bryant & Lempert 2010): a large value means the restriction does not
    select successes better than chance.
    """
    inside = _inside(X, lo, hi)
    n1, k1 = int(inside.sum()), int(y[inside].sum())
    result = {}
    for j in np.flatnonzero((lo > data_lo) | (hi < data_hi)):
        relaxed_lo, relaxed_hi = lo.copy(), hi.copy()
        relaxed_lo[j], relaxed_hi[j] = data_lo[j], data_hi[j]
        relaxed = _inside(X, relaxed_lo, relaxed_hi)
        p0 = y[relaxed].mean() if relaxed.any() else 0.0
        result[int(j)] = float(stats.binom.sf(k1 - 1, n1, p0)) if n1 else 1.0
    return result


def _prune(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, data_lo: np.ndarray,
           data_hi: np.ndarray, max_qp: float) -> tuple[np.ndarray, np.ndarray, dict[int, float]]:
    """Drop, worst first, restrictions whose quasi-p-value exceeds ``max_qp``; their final values."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        qp = _qp_values(X, y, lo, hi, data_lo, data_hi)
        if not qp:
            return lo, hi, qp
        worst = max(qp, key=qp.get)
        if qp[worst] <= max_qp:
            return lo, hi, qp
        lo[worst], hi[worst] = data_lo[worst], data_hi[worst]


def _trajectory(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float,
                min_count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    boxes = [(lo, hi)]
    while True:
        nxt = _peel_once(X, y, *boxes[-1], alpha, min_count)
        if nxt is None:
            return boxes
        boxes.append(nxt)


def _stats(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, total_successes: int,
           total_runs: int) -> dict[str, float]:
    inside = _inside(X, lo, hi)
    n, k = int(inside.sum()), int(y[inside].sum())
    return {"n": n, "successes": k, "coverage": k / total_successes if total_successes else math.nan,
            "density": k / n if n else math.nan, "support": n / total_runs if total_runs else math.nan}


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _range_text(name: str, low: float, high: float, data_low: float, data_high: float) -> str:
    if "=" in name and data_low == 0.0 and data_high == 1.0:  # a one-hot category column
        factor, value = name.split("=", 1)
        return f"{factor} is {value}" if low > 0 else f"{factor} is not {value}"
    if low > data_low and high < data_high:
        return f"{_fmt(low)} <= {name} <= {_fmt(high)}"
    return f"{name} >= {_fmt(low)}" if low > data_low else f"{name} <= {_fmt(high)}"


def prim(X: pd.DataFrame, y, peel_alpha: float = 0.05, paste: bool = False, min_support: float = 0.05,
         threshold: float | None = None, *, max_boxes: int = 1, test_fraction: float = 0.3,
         seed: int = 0, z: float = Z95, max_qp: float = 0.05) -> PrimResult:
    """Find lever ranges (boxes) where success is likely; see the module docstring for the rules.

    Args:
        X: one row per run, one column per factor (numeric, boolean or categorical).
        y: one bool per run (True: the run is a success, e.g. ``verdict == "success"``).
        peel_alpha: share of the box's runs cut off per peeling step.
        paste: widen the chosen box again while its density rises.
        min_support: smallest share of the runs a box may hold.
        threshold: density the chosen box must reach on held-out runs (highest coverage wins);
            None: the step with the best lower 95% Wilson bound of held-out density, if that
            bound beats the base rate.
        max_boxes: boxes to look for (covering: each search removes the runs of the box before).
        test_fraction: share of runs held out to choose the box (when there are enough runs).
        seed: seed of the held-out split.
        z: normal quantile of the Wilson bound (1.96: 95%).
        max_qp: restrictions of the chosen box with a larger quasi-p-value are dropped (1: keep all).
    """
    if not 0 < peel_alpha < 0.5:
        raise UserInputError(f"peel_alpha={peel_alpha} must be between 0 and 0.5", key="peel_alpha")
    if not 0 < min_support < 1:
        raise UserInputError(f"min_support={min_support} must be between 0 and 1", key="min_support")
    enc = encode(X.reset_index(drop=True))
    y = np.asarray(y, dtype=bool)
    if len(enc) != len(y):
        raise UserInputError(f"X has {len(enc)} rows but y has {len(y)}", key="y")
    keep = np.isfinite(enc.to_numpy(dtype=np.float64)).all(axis=1)
    A, y = enc.to_numpy(dtype=np.float64)[keep], y[keep]
    names = list(enc.columns)
    n_all, k_all = len(y), int(y.sum())
    base_rate = k_all / n_all if n_all else math.nan
    data_lo = A.min(axis=0) if n_all else np.zeros(len(names))
    data_hi = A.max(axis=0) if n_all else np.zeros(len(names))

    rng = np.random.default_rng(seed)
    split = n_all * test_fraction >= MIN_TEST and 0 < test_fraction < 1
    is_test = np.zeros(n_all, dtype=bool)
    if split:
        is_test[rng.choice(n_all, size=int(round(n_all * test_fraction)), replace=False)] = True
    else:
        is_test[:] = True  # no split: choose on the same runs (optimistic)
    is_train = ~is_test if split else np.ones(n_all, dtype=bool)

    rows, box_rows, limits = [], [], []
    remaining = np.ones(n_all, dtype=bool)
    for b in range(max_boxes):
        train, test = remaining & is_train, remaining & is_test
        if not y[train].any() or y[train].all() or test.sum() == 0:
            break
        Xt, yt = A[train], y[train]
        min_count = int(math.ceil(min_support * train.sum()))
        steps = _trajectory(Xt, yt, data_lo.copy(), data_hi.copy(), peel_alpha, min_count)
        test_base = y[test].mean()
        scores = []
        for s, (lo, hi) in enumerate(steps):
            row = {"box": b, "step": s,
                   **_stats(A[remaining], y[remaining], lo, hi, k_all, n_all)}
            mask = _inside(A[test], lo, hi)
            tn, tk = int(mask.sum()), int(y[test][mask].sum())
            row.update(test_n=tn, test_density=tk / tn if tn else math.nan,
                       test_low=wilson_interval(tk, tn, z)[0] if tn else math.nan, chosen=False)
            row.update({f"{name}_low": lo[j] for j, name in enumerate(names)})
            row.update({f"{name}_high": hi[j] for j, name in enumerate(names)})
            rows.append(row)
            scores.append(row)
        if threshold is None:
            valid = [r for r in scores if r["test_n"] and r["test_low"] > test_base]
            pick = max(valid, key=lambda r: r["test_low"]) if valid else None
        else:
            valid = [r for r in scores if r["test_n"] and r["test_density"] >= threshold and r["step"] > 0]
            pick = valid[0] if valid else None  # nested boxes: the first has the highest coverage
        if pick is None:
            break
        pick["chosen"] = True
        lo, hi = steps[pick["step"]]
        if paste:
            lo, hi = _paste(Xt, yt, lo.copy(), hi.copy(), peel_alpha, data_lo, data_hi)
        lo, hi, qp = _prune(A[remaining], y[remaining], lo, hi, data_lo, data_hi, max_qp)
        if not qp:  # nothing left restricted
            break
        box_stats = _stats(A[remaining], y[remaining], lo, hi, k_all, n_all)
        mask = _inside(A[test], lo, hi)
        tn, tk = int(mask.sum()), int(y[test][mask].sum())
        held_out = {"test_density": tk / tn if tn else math.nan,
                    "test_low": wilson_interval(tk, tn, z)[0] if tn else math.nan, "test_n": tn}
        limits.append({name: (float(lo[j]), float(hi[j])) for j, name in enumerate(names)})
        for j, p_value in qp.items():
            box_rows.append({"box": b, "factor": names[j], "low": lo[j], "high": hi[j],
                             "data_low": data_lo[j], "data_high": data_hi[j],
                             "range": _range_text(names[j], lo[j], hi[j], data_lo[j], data_hi[j]),
                             "qp_value": p_value, **box_stats, "base_rate": base_rate, **held_out})
        remaining &= ~_inside(A, lo, hi)

    trajectory = pd.DataFrame(rows)
    boxes = pd.DataFrame(box_rows, columns=BOX_COLUMNS)
    return PrimResult(trajectory=trajectory, boxes=boxes, base_rate=base_rate, n=n_all, split=split,
                      limits=limits)
