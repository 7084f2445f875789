"""Plots draw what they claim and fail clearly without matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

import psyscreen.research as pr

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")


def data():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(int)
    s = np.clip(np.round(rng.normal(5 + 6 * y, 3)), 0, 27)
    return s, y


def test_plot_roc_band_and_pointwise():
    import matplotlib.pyplot as plt

    s, y = data()
    r = pr.roc(s, y, n_boot=200)
    ax = pr.plot_roc(r)
    assert "AUC" in ax.get_legend().get_texts()[0].get_text()
    assert len(ax.collections) >= 1  # the confidence band
    ax2 = pr.plot_roc(pr.roc(s, y, n_boot=0))
    assert "pointwise" in ax2.get_title()
    plt.close("all")


def test_plot_cutoffs_and_distributions():
    import matplotlib.pyplot as plt

    s, y = data()
    c = pr.cutpoint(s, y, n_boot=0)
    ax = pr.plot_cutoffs(c)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["sensitivity", "specificity"] and f"cutoff {c.cutoff:g}" in labels
    df = pd.DataFrame({"score": s, "dx": y})
    df.loc[0, "score"] = np.nan
    ax = pr.plot_distributions(df, "score", "dx", cutoff=c.cutoff)
    assert "1 rows without score" in ax.get_title()
    assert len(ax.patches) == 2  # one step histogram per group
    plt.close("all")


def test_clear_error_without_matplotlib(monkeypatch):
    s, y = data()
    r = pr.roc(s, y, n_boot=0)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"psyscreen\[plot\]"):
        pr.plot_roc(r)
