"""Confidence intervals for proportions and likelihood ratios.

* Wilson score interval (Wilson 1927; recommended by Newcombe 1998, method 3)
  - the default everywhere in :mod:`psyscreen.research`;
* Clopper-Pearson "exact" interval (Clopper & Pearson 1934; Newcombe method 5),
  from beta quantiles - conservative (coverage at least the nominal level);
* likelihood ratios with the log method of Simel, Samsa & Matchar (1991);
* the normal-approximation interval of an estimate with a standard error
  (:func:`normal_ci`, e.g. DeLong's AUC) and the bootstrap percentile interval
  (:func:`percentile_ci`) used by the ROC, cutpoint and reliability tools.

All functions are vectorised over numpy arrays. A proportion with ``n == 0``
has no estimate: estimate and bounds are NaN.

Example:
    >>> lo, hi = proportion_ci(81, 263, method="wilson")
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.2553, 0.3662)
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats

CIMethod = Literal["wilson", "clopper-pearson"]
CI_METHODS = ("wilson", "clopper-pearson")


def z_value(conf_level: float) -> float:
    """The standard normal quantile of a two-sided ``conf_level`` interval.

    Example:
        >>> round(z_value(0.95), 4)
        1.96
    """
    if not 0 < conf_level < 1:
        raise ValueError(f"conf_level must be between 0 and 1, not {conf_level}")
    return float(stats.norm.ppf(0.5 + conf_level / 2))


def normal_ci(
    est: float, se: float, conf_level: float, lo: float = 0.0, hi: float = 1.0
) -> tuple[float, float]:
    """``est`` -/+ z * ``se``, truncated to ``[lo, hi]`` (as pROC does for the AUC).

    Example:
        >>> lo, hi = normal_ci(0.9, 0.1, 0.95)  # 0.9 -/+ 1.95996 * 0.1, capped at 1
        >>> round(lo, 5), hi
        (0.704, 1.0)
    """
    if not np.isfinite(se):
        return (np.nan, np.nan)
    z = z_value(conf_level)
    return (max(lo, est - z * se), min(hi, est + z * se))


def percentile_ci(
    x: np.ndarray, conf_level: float, method: Literal["linear", "inverted_cdf"] = "linear"
) -> tuple[float, float]:
    """Bootstrap percentile interval of the finite values of ``x`` (NaN, NaN if none).

    ``method`` is numpy's quantile method: ``"linear"`` (numpy's default, as R's
    type 7) for continuous statistics such as the AUC or alpha, ``"inverted_cdf"``
    (R's type 1) where the interval must consist of observed values (cutpoints).

    Example:
        >>> x = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
        >>> percentile_ci(x, 0.5), percentile_ci(x, 0.5, method="inverted_cdf")
        ((1.75, 3.25), (1.0, 3.0))
    """
    x = x[np.isfinite(x)]
    if x.size == 0:
        return (np.nan, np.nan)
    lo, hi = percentile_limits(x, conf_level, method)
    return (float(lo), float(hi))


def percentile_limits(
    x: np.ndarray,
    conf_level: float,
    method: Literal["linear", "inverted_cdf"] = "linear",
    axis: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bootstrap percentile limits of ``x`` (along ``axis``), as arrays;
    the one place the ``(1 - conf_level) / 2`` tails are cut (:func:`percentile_ci` is
    the scalar form for finite values).

    Example:
        >>> lo, hi = percentile_limits(np.array([[1.0, 10.0], [3.0, 30.0]]), 0.5, axis=0)
        >>> lo.tolist(), hi.tolist()
        ([1.5, 15.0], [2.5, 25.0])
    """
    a = (1 - conf_level) / 2
    lo, hi = np.quantile(x, [a, 1 - a], axis=axis, method=method)
    return lo, hi


def proportion_ci(
    k: np.ndarray | float,
    n: np.ndarray | float,
    conf_level: float = 0.95,
    method: CIMethod = "wilson",
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided confidence interval of the proportion ``k / n``.

    Args:
        k: successes (e.g. true positives).
        n: trials (e.g. children with the condition).
        conf_level: e.g. 0.95.
        method: ``"wilson"`` (score interval) or ``"clopper-pearson"`` (exact).

    Returns:
        (lower, upper) arrays; NaN where ``n == 0``.

    Example:
        >>> lo, hi = proportion_ci(0, 20, method="clopper-pearson")
        >>> float(lo), round(float(hi), 4)
        (0.0, 0.1684)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= k <= n")
    z = z_value(conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "wilson":
            p = k / n
            denom = 1 + z * z / n
            centre = (p + z * z / (2 * n)) / denom
            half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
            lo, hi = centre - half, centre + half
            # exact 0 / 1 at the edges (rounding could leave -1e-17)
            lo = np.where(k == 0, 0.0, np.clip(lo, 0, 1))
            hi = np.where(k == n, 1.0, np.clip(hi, 0, 1))
        elif method == "clopper-pearson":
            a = 1 - conf_level
            lo = np.where(k == 0, 0.0, stats.beta.ppf(a / 2, k, n - k + 1))
            hi = np.where(k == n, 1.0, stats.beta.ppf(1 - a / 2, k + 1, n - k))
        else:
            raise ValueError(f"method must be one of {CI_METHODS}, not {method!r}")
    bad = n <= 0
    lo = np.where(bad, np.nan, lo)
    hi = np.where(bad, np.nan, hi)
    return lo, hi


def likelihood_ratio_ci(
    a: np.ndarray | float,
    n1: np.ndarray | float,
    b: np.ndarray | float,
    n2: np.ndarray | float,
    conf_level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio ``(a/n1) / (b/n2)`` with the log-method interval (Simel et al. 1991).

    For LR+ use ``a = TP, n1 = cases, b = FP, n2 = non-cases``; for LR- use
    ``a = FN, n1 = cases, b = TN, n2 = non-cases``. Undefined (NaN) when a
    count is 0 (the log method needs both proportions above 0).

    Example:
        >>> lr, lo, hi = likelihood_ratio_ci(40, 50, 10, 100)
        >>> round(float(lr), 2)
        8.0
    """
    a, n1, b, n2 = (np.asarray(x, dtype=float) for x in (a, n1, b, n2))
    z = z_value(conf_level)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (a / n1) / (b / n2)
        se = np.sqrt(1 / a - 1 / n1 + 1 / b - 1 / n2)
        lo = np.exp(np.log(ratio) - z * se)
        hi = np.exp(np.log(ratio) + z * se)
    ok = (a > 0) & (b > 0) & (n1 > 0) & (n2 > 0)
    return (
        np.where((n1 > 0) & (n2 > 0) & (b > 0), ratio, np.nan),
        np.where(ok, lo, np.nan),
        np.where(ok, hi, np.nan),
    )
