"""Shared driver for the Python change-point runners (stdlib only).

`run(tool, settings, detect)` reads the series file, calls
`detect(setting_params, values, seed)` once per series per setting, timing
only that call (`time.perf_counter`, no file I/O), and writes one result file
per setting:

  {"tool": ..., "setting": ..., "params": {...}, "versions": {...},
   "results": [{"kind", "seed", "points": [int, ...], "seconds"}, ...]}

Before timing, every setting must report exactly [120] on a clean step at
120 (the series file's `convention_check`), or the runner exits non-zero.

`points` must already be in the benchmark's index convention: the first
index of the new segment.
"""
import argparse
import json
import os
import sys
import time


def check_convention(tool, settings, detect, check):
    """Every setting must report exactly the step index on the series file's
    `convention_check` series (a clean step with tiny noise)."""
    want = [check["step_at"]]
    for name, params in settings:
        points = sorted(int(x) for x in detect(params, check["values"], 0))
        if points != want:
            sys.exit(f"{tool} {name}: clean step at {want[0]} reported as {points}; "
                     "the index conversion in this runner is wrong")
    print(f"  {tool}: clean step at {want[0]} reported as {want} by every setting", file=sys.stderr)


def run(tool, settings, detect, versions):
    p = argparse.ArgumentParser()
    p.add_argument("series")
    p.add_argument("out_dir")
    p.add_argument("--only", help="run only the setting with this name")
    p.add_argument("--limit", type=int, help="only the first N series of each kind (smoke test)")
    a = p.parse_args()
    with open(a.series) as f:
        doc = json.load(f)
    series = doc["series"]
    if a.limit is not None:
        series = [s for s in series if s["seed"] < a.limit]
    os.makedirs(a.out_dir, exist_ok=True)
    if a.only:
        settings = [(n, p) for n, p in settings if n == a.only]
    check_convention(tool, settings, detect, doc["convention_check"])
    for name, params in settings:
        # Warm-up call, not timed: lazy imports, caches, allocator.
        detect(params, series[0]["values"], series[0]["seed"])
        results = []
        t_all = time.perf_counter()
        for s in series:
            t0 = time.perf_counter()
            points = detect(params, s["values"], s["seed"])
            dt = time.perf_counter() - t0
            results.append({
                "kind": s["kind"],
                "seed": s["seed"],
                "points": sorted(int(x) for x in points),
                "seconds": dt,
            })
        out = os.path.join(a.out_dir, f"results-{tool}-{name}.json")
        with open(out, "w") as f:
            json.dump({"tool": tool, "setting": name, "params": params,
                       "versions": versions, "results": results}, f)
        print(f"  {tool} {name}: {len(results)} series in "
              f"{time.perf_counter() - t_all:.1f} s -> {out}", file=sys.stderr)
