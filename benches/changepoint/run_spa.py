#!/usr/bin/env python3
"""Runs the benchmark series through MongoDB's e-divisive
(PyPI `signal-processing-algorithms`,
signal_processing_algorithms.energy_statistics.energy_statistics.e_divisive).

Settings:
  - default: e_divisive(series) with the function's defaults,
    pvalue=0.05, permutations=100.
  - p0.01: e_divisive(series, pvalue=0.01, permutations=100), the call shown
    in the package README.

The permutation test shuffles with numpy's global RNG; it is seeded with the
series' seed before each call so runs are reproducible.

Index convention: e_divisive returns tau where X = series[:tau] and
Y = series[tau:], i.e. the first index of the new segment, already the
benchmark's convention; checked on a clean step in run.sh.

Usage: run_spa.py SERIES.json OUT_DIR [--only SETTING] [--limit N]
"""
from importlib.metadata import version

import numpy as np
from signal_processing_algorithms.energy_statistics import cext_calculator, energy_statistics

import common

SETTINGS = [
    ("default", {"pvalue": 0.05, "permutations": 100}),
    ("p0.01", {"pvalue": 0.01, "permutations": 100}),
]


def detect(params, values, seed):
    np.random.seed(seed)
    return energy_statistics.e_divisive(np.asarray(values, dtype=np.float64),
                                        pvalue=params["pvalue"],
                                        permutations=params["permutations"])


if __name__ == "__main__":
    import scipy
    common.run("spa", SETTINGS, detect, {
        "signal-processing-algorithms": version("signal-processing-algorithms"),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "c_extension": bool(cext_calculator.C_EXTENSION_LOADED),
    })
