"""Research tools: validate scales and cutoffs on your own data (import explicitly).

``import psyscreen.research as pr`` (it is not loaded by ``import psyscreen``).

Reliability (:mod:`~psyscreen.research.reliability`)
    :func:`reliability` - Cronbach's alpha with CI (Feldt / Duhachek-Iacobucci /
    bootstrap), McDonald's omega total (one-factor minres or ML), corrected
    item-total correlations, alpha if item deleted, stated missing-data handling;
    :func:`reliability_table` - every scale of an instrument.
ROC (:mod:`~psyscreen.research.roc`, :mod:`~psyscreen.research.accuracy`)
    :func:`roc` - AUC with DeLong (fast, O(N log N)) and bootstrap CIs, curve, band;
    :func:`accuracy` - sensitivity / specificity / PPV / NPV / LRs with CIs at a cutoff;
    :func:`compare_auc` - paired DeLong comparison of two scales on the same children.
Cutpoints (:mod:`~psyscreen.research.cutpoints`, :mod:`~psyscreen.research.criteria`)
    :func:`cutpoint` - Youden, min specificity / min sensitivity, cost; bootstrap CI;
    :func:`band_cutpoints` - several cutoffs for bands; :func:`cutpoints_by_group`
    - per age band x sex; :func:`age_band` - explicit ``[a, b)`` age bands.
Write-back (:mod:`~psyscreen.research.writeback`)
    :func:`bandset_from_cutoffs`, :func:`add_bandset`, :func:`bandset_yaml`,
    :func:`instrument_yaml`, :func:`norm_table_from_groups`.
Plots (:mod:`~psyscreen.research.plots`, needs matplotlib)
    :func:`plot_roc`, :func:`plot_cutoffs`, :func:`plot_distributions`.
Intervals (:mod:`~psyscreen.research.intervals`)
    :func:`proportion_ci`, :func:`likelihood_ratio_ci`; the normal and bootstrap
    percentile intervals the tools share.

Every function takes pandas Series / DataFrames and returns a result object
that prints as a table (text and notebook HTML) stating its methods and N.

Example:
    >>> import numpy as np
    >>> import psyscreen.research as pr
    >>> r = pr.roc(np.array([1, 2, 3, 4, 5, 6]), np.array([0, 0, 1, 0, 1, 1]), n_boot=0)
    >>> round(r.auc, 3)
    0.889
"""

from .cutpoints import (
    BandCutpoints,
    Criterion,
    CutpointResult,
    GroupCutpoints,
    age_band,
    band_cutpoints,
    cutpoint,
    cutpoints_by_group,
)
from .intervals import likelihood_ratio_ci, proportion_ci
from .plots import plot_cutoffs, plot_distributions, plot_roc
from .reliability import ReliabilityResult, reliability, reliability_table
from .roc import AUCComparison, DiagnosticAccuracy, ROCResult, accuracy, compare_auc, delong, roc
from .writeback import (
    add_bandset,
    bandset_from_cutoffs,
    bandset_yaml,
    instrument_yaml,
    norm_table_from_groups,
)

__all__ = [
    "AUCComparison",
    "BandCutpoints",
    "Criterion",
    "CutpointResult",
    "DiagnosticAccuracy",
    "GroupCutpoints",
    "ROCResult",
    "ReliabilityResult",
    "accuracy",
    "add_bandset",
    "age_band",
    "band_cutpoints",
    "bandset_from_cutoffs",
    "bandset_yaml",
    "compare_auc",
    "cutpoint",
    "cutpoints_by_group",
    "delong",
    "instrument_yaml",
    "likelihood_ratio_ci",
    "norm_table_from_groups",
    "plot_cutoffs",
    "plot_distributions",
    "plot_roc",
    "proportion_ci",
    "reliability",
    "reliability_table",
    "roc",
]
