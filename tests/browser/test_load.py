"""Load: sessions use the Convolution, Classify and Train pages at once for 40 s.

Sessions are driven through Streamlit's agent API (enabled only for this test's
server) by :mod:`support.load`, the driver the classroom benchmark uses (``make
bench``: 30 sessions, 3 jobs running and 5 queued; the figures are measured
there, never asserted here). This test checks what must hold at any load: no
error on any page, every session served, memory bounded, and the queue doing its
work (one job runs, the other waits, with ``CNN_STUDIO_MAX_JOBS=1``). p50/p95 are
printed and written to test-artifacts/load.json.
``CNN_STUDIO_LOAD_SESSIONS=30`` spreads 30 sessions over the three pages.
"""

from __future__ import annotations

import json
import os

import pytest
from harness import ARTIFACTS
from support.load import classroom

pytestmark = pytest.mark.browser  # a real server, like the Chromium tests: left out by -m "not browser"

#: Concurrent sessions: 10 by default (4 Convolution, 4 Classify, 2 Train).
SESSIONS = int(os.environ.get("CNN_STUDIO_LOAD_SESSIONS", 10))
DURATION_S = 40


def test_sessions_on_three_pages_with_a_running_and_a_queued_job(agent_server):
    server = agent_server
    train = 2 if SESSIONS < 20 else 8
    each = (SESSIONS - train) // 2
    people = {"convolution": SESSIONS - train - each, "classify": each, "train": train}
    report = classroom(server.url, people, DURATION_S, server.rss_mib)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "rss_mib"}, indent=2))

    assert report["n_errors"] == 0, report["errors"][:5]
    for page in people:  # every kind of session was served, many times
        assert report[page]["requests"] >= 10 * people[page], (page, report[page])
    # the queue: one job ran (or ran and finished), the other waited its turn
    seen = report["train_jobs_seen"]
    assert seen.get("queued", 0) >= 1 and seen.get("queued", 0) < train, seen
    # memory stays bounded: the second half adds little to the first half
    rss = report["rss_mib"]["samples"]
    first = [r for t, r in rss if t < DURATION_S / 2]
    second = [r for t, r in rss if t >= DURATION_S / 2]
    assert max(second) < max(first) + 300, rss
    assert report["rss_mib"]["max"] < 8 * 1024
