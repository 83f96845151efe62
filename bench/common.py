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


def timed_row(figure: str, timing: dict, *, target: str, ok: bool, reference: str = "",
              ref_ms: float | None = None) -> dict:
    """A :func:`row` in milliseconds from a :func:`time_ms` result, with the
    ``*_ms`` keys beside the generic ones; ``ratio`` is ours / the reference."""
    return row(figure, timing["median_ms"], "ms", min_value=timing["min_ms"],
               max_value=timing["max_ms"], reference=reference, reference_value=ref_ms,
               ratio=timing["median_ms"] / ref_ms if ref_ms else None, target=target,
               ok=bool(ok), value_ms=timing["median_ms"], min_ms=timing["min_ms"],
               max_ms=timing["max_ms"], reference_ms=ref_ms)


def tf_matmul_peak_gflops(n: int = 2048, repeats: int = 10) -> float:
    """This machine's float32 matrix-multiply rate through TensorFlow (the library
    VGG16 runs on, with its own thread pool), GFLOP/s: best of ``repeats`` ``n x n``
    products of ``2 n^3`` FLOPs each."""
    import tensorflow as tf

    a = tf.random.stateless_uniform((n, n), seed=(0, 1))
    b = tf.random.stateless_uniform((n, n), seed=(0, 2))
    tf.linalg.matmul(a, b).numpy()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        tf.linalg.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9
