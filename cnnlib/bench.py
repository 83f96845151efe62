"""``python -m cnnlib bench [--quick]``: every speed figure, side by side with its reference.

Runs the ``run(quick)`` function of each module in :mod:`cnnlib.benchmarks`,
prints one table and writes ``bench/results.json`` with the machine's
description (CPU model, cores, memory, TensorFlow version).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import time
import traceback
from datetime import datetime, timezone

from .paths import REPO_ROOT

MODULES = ("training", "convolution", "classify", "app")


def machine() -> dict:
    """CPU model, logical cores, memory (GiB) and library versions of this machine."""
    cpu = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = None
    try:
        mem_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    info = {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem_gib,
            "python": platform.python_version(), "platform": platform.platform()}
    try:
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
        import keras

        info["keras"] = keras.__version__
    except ImportError:
        pass
    return info


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3g}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


def main(quick: bool = False, only: list[str] | None = None, out_path=None) -> int:
    rows, t0 = [], time.perf_counter()
    for name in only or MODULES:
        try:
            module = importlib.import_module(f"cnnlib.benchmarks.{name}")
        except ModuleNotFoundError:
            continue
        print(f"[bench] {name}...", flush=True)
        try:
            rows += module.run(quick=quick)
        except Exception as e:  # one broken benchmark must not hide the others
            traceback.print_exc()
            rows.append({"figure": f"{name}: FAILED", "value": None, "unit": "",
                         "target": "", "ok": False, "error": f"{type(e).__name__}: {e}"})
    header = ("figure", "value", "min", "max", "reference", "ref. value", "ratio", "target", "ok")
    table = [header] + [(r["figure"], f"{_fmt(r.get('value'))} {r.get('unit', '')}".strip(),
                         _fmt(r.get("min")), _fmt(r.get("max")), r.get("reference") or "-",
                         _fmt(r.get("reference_value")), _fmt(r.get("ratio")), r.get("target") or "",
                         {True: "yes", False: "NO", None: "-"}[r.get("ok")]) for r in rows]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)))
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "quick": quick,
              "seconds": round(time.perf_counter() - t0, 1), "machine": machine(), "rows": rows}
    out_path = out_path or REPO_ROOT / "bench" / "results.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {out_path} ({result['seconds']} s)")
    return 0 if all(r.get("ok") is not False for r in rows) else 1
