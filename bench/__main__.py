"""``python -m bench [--quick] [--only NAME ...] [--readme]``: every speed figure,
side by side with its reference.

Runs the ``run(quick)`` function of each benchmark module of :mod:`bench`,
prints one table and writes ``bench/results.json`` with the machine's
description (CPU model, cores, memory, TensorFlow version); ``--readme``
also rewrites README.md's Performance section (``make bench`` does).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import datetime, timezone

from . import REPO_ROOT

MODULES = ("training", "convolution", "conv_redraw", "classify", "inside", "app", "load", "ray_jobs",
           "probe")


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


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def readme_section(result: dict) -> str:
    """The README's Performance table for a ``bench/results.json`` dict."""
    m = result["machine"]
    lines = [f"Measured by `make bench` on {result['date'][:10]}: {m['cpu']}, {m['cores']} cores, "
             f"{m.get('memory_gib')} GiB, no GPU; Python {m['python']}, TensorFlow "
             f"{m.get('tensorflow', '?')}, Keras {m.get('keras', '?')}"
             + (" (quick mode)" if result.get("quick") else "") + ". Medians after warm-up, "
             "with min and max; data: the shared partial MNIST (training, digit), random "
             "images of the stated size (convolution, VGG16).", "",
             "| figure | value | min - max | reference | ratio | target | met |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in result["rows"]:
        unit = r.get("unit", "")
        span = f"{_fmt(r.get('min'))} - {_fmt(r.get('max'))}" if r.get("min") is not None else "-"
        ref = r.get("reference") or "-"
        if r.get("reference_value") is not None:
            ref += f": {_fmt(r['reference_value'])}"
        lines.append(f"| {r['figure']} | {_fmt(r.get('value'))} {unit} | {span} | {ref} | "
                     f"{_fmt(r.get('ratio'))} | {r.get('target') or '-'} | "
                     f"{ {True: 'yes', False: 'NO', None: '-'}[r.get('ok')] } |")
    details = [f"- {r['figure']}: {r['detail']}" for r in result["rows"] if r.get("detail")]
    if details:
        lines += ["", "Details:", ""] + details
    return "\n".join(lines)


def update_readme(result: dict, readme=None) -> None:
    """Replace the text between the bench markers of README.md by :func:`readme_section`."""
    readme = readme or REPO_ROOT / "README.md"
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise ValueError(f"{readme} has no {README_START} ... {README_END} markers")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{readme_section(result)}\n{README_END}{tail}")


def main(quick: bool = False, only: list[str] | None = None, out_path=None,
         readme: bool = False) -> int:
    """Run the benchmarks ``only`` names (default: all of :data:`MODULES`).

    With ``only``, the rows of the other modules are kept from the previous
    ``results.json`` (each row names its ``module``), so one module can be measured
    again on a quiet machine without re-running the rest.

    Returns:
        The exit status: 0 when no row missed its target, else 1. A benchmark
        that raises (an import included) becomes a ``FAILED`` row.
    """
    rows, t0 = [], time.perf_counter()
    for name in only or MODULES:
        print(f"[bench] {name}...", flush=True)
        try:
            rows += [dict(r, module=name)
                     for r in importlib.import_module(f"bench.{name}").run(quick=quick)]
        except Exception as e:  # one broken benchmark must not hide the others
            traceback.print_exc()
            rows.append({"figure": f"{name}: FAILED", "value": None, "unit": "", "module": name,
                         "target": "", "ok": False, "error": f"{type(e).__name__}: {e}"})
    out_path = out_path or REPO_ROOT / "bench" / "results.json"
    if only and out_path.exists():  # keep the other modules' rows, in MODULES order
        kept = [r for r in json.loads(out_path.read_text()).get("rows", [])
                if r.get("module") in MODULES and r["module"] not in only]
        rows = sorted(kept + rows, key=lambda r: MODULES.index(r["module"]))
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
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {out_path} ({result['seconds']} s)")
    if readme:
        update_readme(result)
        print("updated the Performance section of README.md")
    return 0 if all(r.get("ok") is not False for r in rows) else 1


def cli(argv=None) -> int:
    """Parse ``python -m bench``'s arguments and run :func:`main`."""
    p = argparse.ArgumentParser(prog="python -m bench",
                                description="Measure every speed figure of CNN Studio against its reference.")
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller runs")
    p.add_argument("--only", nargs="+", choices=MODULES, default=None, metavar="NAME",
                   help=f"benchmarks to run, of {', '.join(MODULES)} (default: all)")
    p.add_argument("--readme", action="store_true",
                   help="write the table into README.md's Performance section")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return main(quick=args.quick, only=args.only, readme=args.readme)


if __name__ == "__main__":
    sys.exit(cli())
