"""Timing helpers shared by the benchmarks: medians after warm-up, with min and max."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def time_ms(fn: Callable[[], object], repeats: int = 20, warmup: int = 3) -> dict:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Returns ``{"median_ms", "min_ms", "max_ms", "n"}`` (milliseconds, wall clock).
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples),
            "max_ms": max(samples), "n": repeats}


def row(figure: str, value: float, unit: str, *, reference: str = "", reference_value=None,
        ratio=None, target: str = "", ok=None, min_value=None, max_value=None, **extra) -> dict:
    """One line of the benchmark table."""
    return {"figure": figure, "value": value, "unit": unit, "min": min_value, "max": max_value,
            "reference": reference, "reference_value": reference_value, "ratio": ratio,
            "target": target, "ok": ok, **extra}
