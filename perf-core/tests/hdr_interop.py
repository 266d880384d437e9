"""The Python side of perf-core's HdrHistogram interop test (tests/hdr_interop.rs).

Uses the `hdrhistogram` package from PyPI (import name `hdrh`), an
independent implementation of the V2 format.

  decode   reads a V2 string on stdin, prints its count and percentiles as JSON
  encode   records deterministic latencies (integer microseconds), prints
           {"encoded": ..., "count": ..., "percentiles": {...}} as JSON
"""

import json
import random
import sys

from hdrh.histogram import HdrHistogram

PERCENTILES = [50.0, 90.0, 99.0, 99.9]


def summary(histogram):
    return {
        "count": histogram.get_total_count(),
        "min": histogram.get_min_value(),
        "max": histogram.get_max_value(),
        "percentiles": {
            str(q): histogram.get_value_at_percentile(q) for q in PERCENTILES
        },
    }


def decode():
    histogram = HdrHistogram.decode(sys.stdin.read().strip())
    print(json.dumps(summary(histogram)))


def encode():
    rng = random.Random(7)
    histogram = HdrHistogram(1, 60 * 1000 * 1000, 3)
    for _ in range(20_000):
        histogram.record_value(int(rng.lognormvariate(8.5, 1.0)))  # ~5 ms median
    result = summary(histogram)
    result["encoded"] = histogram.encode().decode("ascii")
    print(json.dumps(result))


if __name__ == "__main__":
    {"decode": decode, "encode": encode}[sys.argv[1]]()
