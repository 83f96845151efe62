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

Then the same classroom again on a fresh server while two browser sessions upload
a hostile model file (:func:`tests.support.hostile.config_bomb_variant`: a small
archive whose configuration declares Input(50000) -> Dense(25000 + n), another
file each time so that no remembered verdict spares the server its check) to
Inside the network, each session every 10 s
(:class:`tests.support.hostile_uploads.HostileUploads`; Chromium in the idle
scheduling class, each session's page loaded once, as a student's would be):
target p95 within 1.5x of the run without them, 0 errors, every upload refused, and
the server's peak memory within 500 MiB of the run without them. The report goes
to ``test-artifacts/load-hostile.json``.
"""

from __future__ import annotations

import json
import os
import tempfile

from tests.support.hostile_uploads import HostileUploads
from tests.support.load import classroom
from tests.support.server import StreamlitServer

from . import REPO_ROOT, SHARED_DATA
from .common import row

PEOPLE = {"convolution": 11, "classify": 11, "train": 8}
JOBS_RUNNING = 3
TARGET_P95_MS = 500
#: Browsers uploading a hostile model file, and how often each does, seconds.
UPLOADERS, UPLOAD_EVERY_S = 2, 10.0
#: The classroom's p95 with the uploaders, at most this times the p95 without them.
HOSTILE_P95_RATIO = 1.5
#: ... and the server's peak memory at most this much above the run without them, MiB.
HOSTILE_RSS_MIB = 500


def _classroom(duration: float, hostile_files=None) -> tuple[dict, HostileUploads | None]:
    """One classroom on a fresh server (a temporary CNN_STUDIO_HOME); with
    ``hostile_files``, :data:`UPLOADERS` browser sessions upload them meanwhile."""
    with tempfile.TemporaryDirectory(prefix="cnn-studio-load-") as home:
        env = {"CNN_STUDIO_HOME": home, "CNN_STUDIO_MAX_JOBS": str(JOBS_RUNNING),
               "CNN_STUDIO_DATA_DIR": os.environ.get("CNN_STUDIO_DATA_DIR", str(SHARED_DATA))}
        server = StreamlitServer(env, extra_args=["--server.enableAgentApi", "true"])
        uploads = None
        try:
            server.wait_healthy()
            if hostile_files:
                uploads = HostileUploads(server.url, hostile_files, UPLOADERS, UPLOAD_EVERY_S)
                uploads.start()
            cpu0 = server.cpu_s()
            report = classroom(server.url, PEOPLE, duration, server.rss_mib)
            report["server_cpu_s"] = round(server.cpu_s() - cpu0, 1)
        finally:
            if uploads is not None:
                uploads.stop()
            server.stop()
    return report, uploads


def run(quick: bool = False) -> list[dict]:
    """Run the classroom for 60 s (20 s when ``quick``); return the table rows.

    Returns:
        Rows: p95 and p50 of all interactions (ms), p95 per page, the server's peak
        RSS (MiB), then the same with hostile uploads (:func:`_hostile_rows`), as
        :func:`bench.common.row` dicts.
    """
    duration = 20 if quick else 60
    if not (SHARED_DATA / "mnist.npz").exists() and not os.environ.get("CNN_STUDIO_DATA_DIR"):
        return [row("30-session classroom", None, "ms", target="skipped: no MNIST for the jobs")]
    report, _ = _classroom(duration)
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
    return rows + _hostile_rows(duration, report)


def _hostile_rows(duration: float, quiet: dict) -> list[dict]:
    """The classroom again with :data:`UPLOADERS` browser sessions uploading config bombs."""
    from pathlib import Path

    from tests.support import hostile

    with tempfile.TemporaryDirectory(prefix="cnn-studio-hostile-") as folder:
        base = hostile.base_archive(Path(folder))
        bombs = []  # one file per upload, each other bytes: no verdict remembered
        for n in range(int(duration / UPLOAD_EVERY_S * UPLOADERS) + 4):
            bombs.append(Path(folder) / f"dense_bomb_{n:02d}.keras")
            bombs[-1].write_bytes(hostile.config_bomb_variant(base, n))
        report, uploads = _classroom(duration, bombs)
    report["uploads_s"], report["upload_errors"] = uploads.uploads, uploads.errors
    artifacts = REPO_ROOT / "test-artifacts"
    (artifacts / "load-hostile.json").write_text(json.dumps(report, indent=2))
    every, base = report["all"], quiet["all"]
    errors = report["n_errors"] + len(uploads.errors)
    rss_ok = report["rss_mib"]["max"] <= quiet["rss_mib"]["max"] + HOSTILE_RSS_MIB
    ratio = every["p95_ms"] / base["p95_ms"]
    refusal = max(uploads.uploads) if uploads.uploads else None
    return [row(f"classroom with {UPLOADERS} sessions uploading a hostile model every "
                f"{UPLOAD_EVERY_S:g} s each ({len(uploads.uploads)} uploads, all refused): "
                "interaction p95", every["p95_ms"], "ms", reference="the classroom without them",
                reference_value=base["p95_ms"], ratio=ratio,
                target=f"<= {HOSTILE_P95_RATIO}x, 0 errors", errors=errors,
                ok=ratio <= HOSTILE_P95_RATIO and errors == 0 and bool(uploads.uploads)),
            row("classroom with hostile uploads: server RSS, peak", report["rss_mib"]["max"], "MiB",
                reference="the classroom without them", reference_value=quiet["rss_mib"]["max"],
                target=f"<= {HOSTILE_RSS_MIB} MiB more", ok=rss_ok),
            row("hostile upload: file chosen -> refusal shown (slowest)", refusal, "s",
                min_value=min(uploads.uploads) if uploads.uploads else None)]
