"""Plots for research results (matplotlib, an optional extra: ``pip install 'psyscreen[plot]'``).

* :func:`plot_roc` - ROC curve(s) with the bootstrap confidence band of
  sensitivity at fixed specificities (or, without bootstrap, pointwise
  Wilson/Clopper-Pearson intervals of sensitivity at each cutoff);
* :func:`plot_cutoffs` - sensitivity and specificity (with CIs) against the cutoff;
* :func:`plot_distributions` - score distributions by group (e.g. cases vs non-cases).

matplotlib is imported only when a plot is drawn. Every function returns the
matplotlib ``Axes`` it drew on.

Example:
    >>> import numpy as np
    >>> from psyscreen.research import roc, plot_roc
    >>> r = roc(np.r_[np.arange(10), np.arange(5, 15)], np.r_[np.zeros(10), np.ones(10)])
    >>> ax = plot_roc(r)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "psyscreen plots need matplotlib: pip install 'psyscreen[plot]'"
        ) from None
    return plt


def _ax(ax: Any):
    if ax is not None:
        return ax
    plt = _plt()
    _, ax = plt.subplots(figsize=(5, 5))
    return ax


def plot_roc(result: Any, ax: Any = None, *, band: bool = True, label: str | None = None) -> Any:
    """ROC curve of a :class:`~psyscreen.research.roc.ROCResult` (or a list of them).

    The shaded band is the bootstrap percentile band of sensitivity at each
    specificity when the result has one (``n_boot > 0``), else the pointwise
    interval of sensitivity at each observed cutoff.
    """
    _plt()
    ax = _ax(ax)
    results = result if isinstance(result, (list, tuple)) else [result]
    for r in results:
        c = r.curve
        fpr = np.r_[0.0, (1 - c["specificity"].to_numpy())[::-1], 1.0]
        tpr = np.r_[0.0, c["sensitivity"].to_numpy()[::-1], 1.0]
        name = label if (label and len(results) == 1) else r.name
        lo, hi = r.ci
        (line,) = ax.step(
            fpr, tpr, where="post", label=f"{name}: AUC {r.auc:.3f} ({lo:.3f}-{hi:.3f})"
        )
        if band:
            if r.band is not None:
                b = r.band
                ax.fill_between(
                    1 - b["specificity"],
                    b["sensitivity_lower"],
                    b["sensitivity_upper"],
                    step="post",
                    alpha=0.2,
                    color=line.get_color(),
                    linewidth=0,
                )
            else:
                ax.vlines(
                    1 - c["specificity"],
                    c["sensitivity_lower"],
                    c["sensitivity_upper"],
                    color=line.get_color(),
                    alpha=0.4,
                )
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize="small")
    pct = f"{results[0].conf_level:.0%}"
    kind = "bootstrap band" if results[0].band is not None else "pointwise CIs"
    ax.set_title(f"ROC with {pct} {kind}", fontsize="medium")
    return ax


def plot_cutoffs(result: Any, ax: Any = None, *, mark: float | None = None) -> Any:
    """Sensitivity and specificity with their CIs against the cutoff.

    ``result`` is an ROC or cutpoint result (anything with a ``curve`` or
    ``candidates`` table); ``mark`` draws a vertical line at a cutoff
    (default: a cutpoint result's own cutoff).
    """
    _plt()
    ax = _ax(ax)
    c = getattr(result, "curve", None)
    if c is None:
        c = result.candidates
    if mark is None:
        mark = getattr(result, "cutoff", None)
    x = c["cutoff"].to_numpy()
    for what in ("sensitivity", "specificity"):
        (line,) = ax.plot(x, c[what], marker="o", ms=3, label=what)
        ax.fill_between(
            x, c[f"{what}_lower"], c[f"{what}_upper"], alpha=0.2, color=line.get_color(), lw=0
        )
    if mark is not None and np.isfinite(mark):
        ax.axvline(mark, color="black", ls="--", lw=1, label=f"cutoff {mark:g}")
    direction = getattr(result, "direction", ">=")
    ax.set_xlabel(f"cutoff (positive when score {direction} cutoff)")
    ax.set_ylabel("proportion")
    ax.set_ylim(0, 1.01)
    ax.legend(fontsize="small")
    return ax


def plot_distributions(
    data: pd.DataFrame,
    score: str,
    by: str,
    ax: Any = None,
    *,
    density: bool = True,
    cutoff: float | None = None,
) -> Any:
    """Distribution of ``score`` in each group of column ``by`` (step histograms).

    Integer-valued scores get one bin per score value. Rows with a missing
    score or group are left out (their number is shown in the title).
    """
    _plt()
    ax = _ax(ax)
    s = pd.to_numeric(data[score], errors="coerce")
    g = data[by]
    keep = s.notna() & g.notna()
    vals = s[keep].to_numpy(dtype=float)
    if vals.size == 0:
        raise ValueError("no rows with both a score and a group")
    if np.all(vals == np.round(vals)):
        bins = np.arange(vals.min() - 0.5, vals.max() + 1.5, 1.0)
    else:
        bins = np.histogram_bin_edges(vals, bins="auto")
    for key, part in s[keep].groupby(g[keep], observed=True, sort=True):
        ax.hist(
            part.to_numpy(dtype=float),
            bins=bins,
            density=density,
            histtype="step",
            lw=1.5,
            label=f"{by} = {key} (n = {part.size})",
        )
    if cutoff is not None:
        ax.axvline(cutoff, color="black", ls="--", lw=1, label=f"cutoff {cutoff:g}")
    ax.set_xlabel(score)
    ax.set_ylabel("density" if density else "count")
    dropped = int((~keep).sum())
    ax.set_title(
        f"{score} by {by}" + (f" ({dropped} rows without score or group)" if dropped else ""),
        fontsize="medium",
    )
    ax.legend(fontsize="small")
    return ax
