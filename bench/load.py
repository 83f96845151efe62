"""A class on one server: 30 sessions for 60 s on Convolution, Classify and Train,
with 3 training jobs running and 5 queued (issue 13's classroom).

Starts ``streamlit run app.py`` with Streamlit's agent API on (this benchmark's
server only), ``CNN_STUDIO_MAX_JOBS=3`` and a temporary ``CNN_STUDIO_HOME``, and
drives it with :func:`tests.support.load.classroom`: 11 people change the
Convolution page's stride, padding and kernel, 11 browse Classify's CIFAR-10
gallery, each every 0.5-1.5 s, and 8 start a job on Train (the first three run,
five wait in the queue) and ask for their page every second. The rows give the
latency of every interaction, p50 and p95 (target: p95 < 500 ms with no error),
and the server's peak resident memory; the whole report goes to
``test-artifacts/load.json``. The training processes share the machine: the
figure includes their cost.
"""

from __future__ import annotations

import json
import os
import tempfile

from tests.support.load import classroom
from tests.support.server import StreamlitServer

from . import REPO_ROOT, SHARED_DATA
from .common import row

PEOPLE = {"convolution": 11, "classify": 11, "train": 8}
JOBS_RUNNING = 3
TARGET_P95_MS = 500


def run(quick: bool = False) -> list[dict]:
    """Run the classroom for 60 s (20 s when ``quick``); return the table rows.

    Returns:
        Rows: p95 and p50 of all interactions (ms), p95 per page, the server's peak
        RSS (MiB), as :func:`bench.common.row` dicts.
    """
    duration = 20 if quick else 60
    if not (SHARED_DATA / "mnist.npz").exists() and not os.environ.get("CNN_STUDIO_DATA_DIR"):
        return [row("30-session classroom", None, "ms", target="skipped: no MNIST for the jobs")]
    with tempfile.TemporaryDirectory(prefix="cnn-studio-load-") as home:
        env = {"CNN_STUDIO_HOME": home, "CNN_STUDIO_MAX_JOBS": str(JOBS_RUNNING),
               "CNN_STUDIO_DATA_DIR": os.environ.get("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))}
        server = StreamlitServer(env, extra_args=["--server.enableAgentApi", "true"])
        try:
            server.wait_healthy()
            report = classroom(server.url, PEOPLE, duration, server.rss_mib)
        finally:
            server.stop()
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "load.json").write_text(json.dumps(report, indent=2))
    sessions = f"{report['sessions']} sessions, {duration} s"
    seen = ", ".join(f"{n} {s}" for s, n in sorted(report.get("train_jobs_seen", {}).items()))
    every = report["all"]
    rows = [row(f"classroom ({sessions}; jobs as last seen: {seen}): interaction p95",
                every["p95_ms"], "ms", target=f"< {TARGET_P95_MS} ms, 0 errors",
                ok=every["p95_ms"] < TARGET_P95_MS and report["n_errors"] == 0,
                errors=report["n_errors"], requests=every["requests"]),
            row(f"classroom ({sessions}): interaction p50", every["p50_ms"], "ms",
                min_value=None, max_value=every["max_ms"])]
    for page in PEOPLE:
        if page in report:
            rows.append(row(f"classroom: {page} p95 ({report[page]['requests']} requests)",
                            report[page]["p95_ms"], "ms", min_value=None))
    rows.append(row("classroom: server RSS, peak", report["rss_mib"]["max"], "MiB",
                    reference="at the start", reference_value=report["rss_mib"]["start"]))
    return rows
