#!/usr/bin/env python3
"""Writes the change-point benchmark series to one JSON file.

Every tool reads the exact same numbers from this file (floats are written
with repr(), which round-trips exactly, and parsed as IEEE doubles by Python
and by serde_json alike).

Series (200 points each, one per kind and seed, seeds 0..SEEDS-1):
  step15  N(100, 5) with the mean raised to 115 (+15 %, 3 sigma) from index 120
  none    N(100, 5), no change
  step5   N(100, 5) with the mean raised to 105 (+5 %, 1 sigma) from index 120

The file also holds `convention_check`: a clean +15 % step at 120 with noise
sd 0.05, on which every runner must report exactly [120] before it times
anything (this pins each tool's index convention).

Index convention: the change point of a step series is the index of the FIRST
point of the new segment, i.e. 120 (points 0..119 have mean 100, 120..199 the
new mean).

The noise is drawn with Python's stdlib `random` (Mersenne Twister +
`gauss`), so the data does not depend on any numpy version. For one seed the
three kinds share the same noise draw (a paired design): `none` is exactly the
noise, the step series add the step to it.

Usage: generate.py OUT.json [--seeds 100] [--length 200] [--step-at 120]
"""
import argparse
import json
import random

MEAN = 100.0
SIGMA = 5.0
KINDS = {"step15": 0.15, "none": 0.0, "step5": 0.05}


def series(seed: int, length: int, step_at: int, rel_step: float) -> list:
    rng = random.Random(seed)
    noise = [rng.gauss(0.0, SIGMA) for _ in range(length)]
    after = MEAN * (1.0 + rel_step)
    return [(after if i >= step_at else MEAN) + e for i, e in enumerate(noise)]


def clean_step(length: int, step_at: int) -> list:
    rng = random.Random(12345)
    return [(MEAN * 1.15 if i >= step_at else MEAN) + rng.gauss(0.0, 0.05) for i in range(length)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--step-at", type=int, default=120)
    a = p.parse_args()
    doc = {
        "length": a.length,
        "step_at": a.step_at,
        "mean": MEAN,
        "sigma": SIGMA,
        "index_convention": "first index of the new segment",
        # A clean step (noise sd 0.05): every runner checks that it reports
        # exactly [step_at] here before timing anything.
        "convention_check": {
            "step_at": a.step_at,
            "values": clean_step(a.length, a.step_at),
        },
        "series": [
            {
                "kind": kind,
                "seed": seed,
                "step_at": a.step_at if rel else None,
                "relative_step": rel,
                "values": series(seed, a.length, a.step_at, rel),
            }
            for kind, rel in KINDS.items()
            for seed in range(a.seeds)
        ],
    }
    with open(a.out, "w") as f:
        json.dump(doc, f)
    print(f"wrote {len(doc['series'])} series to {a.out}")


if __name__ == "__main__":
    main()
