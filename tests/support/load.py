"""A class on one server, simulated: the load test's and the load benchmark's driver.

Each simulated person is a session of Streamlit's agent API (``POST
/_stcore/agent/interact``, enabled only on test servers): a request sets widgets,
the server runs the page script as it would for a browser session, and answers
with the finished page. Each person waits 0.5-1.5 s between changes, as someone
looking at the result would:

* Convolution: a new stride, padding and kernel.
* Classify: another CIFAR-10 class in the gallery.
* Train: starts one job at the beginning (the server's queue decides whether it
  runs or waits) and then asks for the page again every ``WATCH_EVERY_S``,
  following its own job. A browser refreshes only the job's panel (a
  ``run_every`` fragment); the agent API cannot rerun a timed fragment alone, so
  here the whole page reruns: more work per refresh than a browser causes.

The latency of each request, the errors (exceptions and error alerts on the
page) and the server's resident memory are recorded: :func:`classroom` returns
p50/p95 per page, the queue seen at the end, and the memory.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
from typing import Callable

CIFAR = ["random, all classes", "airplane", "automobile", "bird", "cat", "dog", "ship", "truck"]
KERNELS = ["sharpen", "box blur 5x5", "sobel x", "laplacian", "emboss"]
#: How often a Train session asks for its page, seconds (a browser refreshes the job's
#: panel every 0.5 s, a fragment only).
WATCH_EVERY_S = 1.0
#: The job each Train session starts (the rest as the page proposes): long enough to
#: outlast the measurement.
JOB_SETTINGS = {"train_epochs": 30}  # studio_cnn on MNIST, the page's defaults


def interact(url: str, body: dict, timeout: float = 120) -> tuple[dict, float]:
    """One agent API request to the server at ``url``; ``(snapshot, seconds)``.

    Raises:
        OSError: the server refused it (with its reason) or could not be reached.
    """
    req = urllib.request.Request(f"{url}/_stcore/agent/interact", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            data = json.loads(r.read())
    except urllib.error.HTTPError as e:  # a refused request: keep Streamlit's reason
        raise OSError(f"HTTP {e.code}: {e.read()[:300]!r}") from None
    except urllib.error.URLError as e:
        raise OSError(str(e)) from None
    return data, time.perf_counter() - t


def problems(snapshot: dict) -> list[str]:
    """Exceptions and error alerts in a page snapshot, and a status other than ready."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") in ("exception", "error"):
                found.append(json.dumps(node)[:300])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    if snapshot.get("status") not in ("ready",):
        found.append(f"status {snapshot.get('status')}")
    walk(snapshot.get("tree", {}))
    return found


def texts(snapshot: dict) -> str:
    """All the strings of a page snapshot, joined (to look for a sentence)."""
    out: list[str] = []

    def walk(node):
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(snapshot.get("tree", {}))
    return "\n".join(out)


def percentile(values, q: float) -> float:
    """The ``q`` quantile (0-1) of ``values`` by the nearest rank."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


class Recorder:
    """Latencies (seconds) per page and error sentences, from many threads."""

    def __init__(self, pages):
        self.latencies: dict[str, list[float]] = {p: [] for p in pages}
        self.errors: list[str] = []
        self.job_states: dict[int, str] = {}
        self._lock = threading.Lock()

    def request(self, url: str, page: str, body: dict) -> dict | None:
        try:
            snap, dt = interact(url, body)
        except OSError as e:
            with self._lock:
                self.errors.append(f"{page}: {e}")
            return None
        with self._lock:
            self.latencies[page].append(dt)
            self.errors.extend(f"{page}: {p}" for p in problems(snap))
        return snap


def _person(url: str, n: int, kind: str, stop: threading.Event, rec: Recorder) -> None:
    rng = random.Random(n)
    try:
        session, _ = interact(url, {"page": kind})
        sid = session["session_id"]
        if kind == "classify":
            interact(url, {"session_id": sid, "widget_state": {"classify_tab": "CIFAR-10 samples"}})
        elif kind == "train":
            interact(url, {"session_id": sid, "widget_state": JOB_SETTINGS})
            snap, _ = interact(url, {"session_id": sid, "trigger": {"key": "train_start"}})
            if problems(snap):
                rec.errors.extend(f"train start: {p}" for p in problems(snap))
    except (OSError, KeyError) as e:
        rec.errors.append(f"person {n} ({kind}) could not start: {e}")
        return
    while not stop.wait(WATCH_EVERY_S if kind == "train" else rng.uniform(0.5, 1.5)):
        if kind == "convolution":
            body = {"session_id": sid, "widget_state": {
                "conv_stride": rng.randint(1, 4), "conv_padding": rng.choice(["valid", "same"]),
                "conv_kernel": rng.choice(KERNELS)}}
        elif kind == "classify":
            body = {"session_id": sid, "widget_state": {"classify_cifar_class": rng.choice(CIFAR)}}
        else:  # following its job: the page again
            body = {"session_id": sid}
        snap = rec.request(url, kind, body)
        if snap is not None and kind == "train":
            page = texts(snap)
            rec.job_states[n] = next((s for s in ("queued", "running", "starting", "finished")
                                      if f"Status: **{s}" in page or f"Status: {s}" in page), "?")


def classroom(url: str, people: dict[str, int], duration_s: float,
              rss_mib: Callable[[], float], warm_up: bool = True) -> dict:
    """``people`` (e.g. ``{"convolution": 11, "classify": 11, "train": 8}``) use the
    server at ``url`` for ``duration_s`` seconds, all at once.

    Args:
        url: ``http://host:port`` of a server with the agent API on.
        people: how many sessions of each kind (see the module docstring).
        duration_s: how long they keep going after they all started, seconds.
        rss_mib: reads the server's resident memory, MiB (sampled every second).
        warm_up: first open Classify's gallery and Convolution once (the models
            load, as for a first visitor); not counted.

    Returns:
        The report: ``sessions``, ``duration_s``, ``people``, ``n_errors`` and the first
        ``errors``, ``rss_mib`` (start, max, end, and ``samples``: ``[t, MiB]``), per page
        ``requests``, ``p50_ms``, ``p95_ms``, ``max_ms``, ``all`` (every page together)
        and ``train_jobs_seen`` (how many Train sessions last saw their job in each state).
    """
    if warm_up:
        warm, _ = interact(url, {"page": "classify"})
        interact(url, {"session_id": warm["session_id"], "widget_state": {"classify_tab": "CIFAR-10 samples"}})
        interact(url, {"page": "convolution"})
    kinds = [k for k, n in people.items() for _ in range(n)]
    rec = Recorder(people)
    stop = threading.Event()
    threads = [threading.Thread(target=_person, args=(url, n, kind, stop, rec), daemon=True)
               for n, kind in enumerate(kinds)]
    rss = [(0.0, rss_mib())]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    while time.monotonic() - t0 < duration_s:
        time.sleep(1)
        rss.append((round(time.monotonic() - t0, 1), rss_mib()))
    stop.set()
    for t in threads:
        t.join(timeout=180)

    report = {"sessions": len(kinds), "people": people, "duration_s": duration_s,
              "n_errors": len(rec.errors), "errors": rec.errors[:20],
              "rss_mib": {"start": rss[0][1], "max": max(r for _, r in rss), "end": rss[-1][1],
                          "samples": rss}}
    everything = [v for values in rec.latencies.values() for v in values]
    for page, values in {**rec.latencies, "all": everything}.items():
        if values:
            report[page] = {"requests": len(values), "p50_ms": 1000 * statistics.median(values),
                            "p95_ms": 1000 * percentile(values, 0.95), "max_ms": 1000 * max(values)}
    if people.get("train"):
        seen: dict[str, int] = {}
        for state in rec.job_states.values():
            seen[state] = seen.get(state, 0) + 1
        report["train_jobs_seen"] = seen
    return report
