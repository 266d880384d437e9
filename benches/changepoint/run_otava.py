#!/usr/bin/env python3
"""Runs the benchmark series through Apache Otava (PyPI `apache-otava`).

Calls the same functions `otava analyze` uses (otava.series.AnalyzedSeries):
  - default mode: otava.analysis.compute_change_points(values, window_len,
    max_pvalue, min_magnitude) -- Hunter's windowed split/merge with a
    Student t-test; CLI defaults --window 50, -P 0.001, -M 0.0
    (otava/main.py, otava/series.py AnalysisOptions).
  - --orig-edivisive mode: otava.analysis.compute_change_points_orig(values,
    max_pvalue) -- Matteson & James e-divisive with a 100-permutation test.

Index convention: Otava's ChangePoint.index is the first index of the right
segment (the t-test compares series[start:index] with series[index:stop]),
i.e. already the benchmark's convention; checked on a clean step in run.sh.

Usage: run_otava.py SERIES.json OUT_DIR [--only SETTING] [--limit N]
"""
from importlib.metadata import version

from otava.analysis import compute_change_points, compute_change_points_orig

import common

SETTINGS = [
    # Defaults of `otava analyze`.
    ("default", {"mode": "split-merge", "window_len": 50, "max_pvalue": 0.001, "min_magnitude": 0.0}),
    # Documented -P option set to the benchmark's nominal p = 0.01.
    ("p0.01", {"mode": "split-merge", "window_len": 50, "max_pvalue": 0.01, "min_magnitude": 0.0}),
    # Documented --orig-edivisive option, at its default -P 0.001.
    ("orig-edivisive", {"mode": "orig", "max_pvalue": 0.001}),
    ("orig-edivisive-p0.01", {"mode": "orig", "max_pvalue": 0.01}),
]


def detect(params, values, seed):
    values = list(values)
    if params["mode"] == "orig":
        # The CLI passes no seed (seed=None, fresh entropy); a per-series seed
        # keeps the benchmark reproducible without changing the algorithm.
        cps, _ = compute_change_points_orig(values, max_pvalue=params["max_pvalue"], seed=seed)
    else:
        cps, _ = compute_change_points(values, window_len=params["window_len"],
                                       max_pvalue=params["max_pvalue"],
                                       min_magnitude=params["min_magnitude"])
    return [c.index for c in cps]


if __name__ == "__main__":
    import numpy
    import scipy
    common.run("otava", SETTINGS, detect, {
        "apache-otava": version("apache-otava"),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
    })
