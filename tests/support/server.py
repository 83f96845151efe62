"""A real ``streamlit run app.py`` on a free local port, and how to drive Chromium.

Used by the browser tests (``tests/browser``) and by the app benchmark
(:mod:`bench.app`, which imports it as ``tests.support.server``): both need the
server exactly as a person meets it. It lives with the tests, not in
``cnnlib``, because it knows the repository (``app.py`` beside ``tests/``) and
starts Streamlit, which the headless library never does.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

#: The repository: ``streamlit run`` starts its app.py with this as working folder.
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Debian's Chromium; Playwright drives it through ``executable_path``.
CHROMIUM = os.environ.get("CNN_STUDIO_CHROMIUM", "/usr/bin/chromium")
#: Headless, and no attempts to reach the network (NOTES.md).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """``streamlit run app.py`` on 127.0.0.1 in its own process group.

    Args:
        env: variables added to this process's environment.
        extra_args: more ``streamlit run`` options (e.g. the agent API).
        log_path: where the server's output goes (discarded when None).

    Attributes:
        url: ``http://127.0.0.1:<port>``.
        t0: ``time.perf_counter()`` when the process was launched.
    """

    def __init__(self, env: dict | None = None, extra_args: list[str] | None = None,
                 log_path: str | Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "w") if log_path else subprocess.DEVNULL
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"),
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--server.headless", "true", "--server.fileWatcherType", "none",
             "--browser.gatherUsageStats", "false", *(extra_args or [])],
            cwd=REPO_ROOT, env={**os.environ, **(env or {})}, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, timeout: float = 90) -> None:
        """Return once ``/_stcore/health`` answers ok; RuntimeError if the
        process exits or ``timeout`` seconds pass first."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}"
                                   + (f"; see {self.log_path}" if self.log_path else ""))
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("streamlit did not become healthy in time")

    def rss_mib(self) -> float:
        """Resident memory of the server process in MiB (``VmRSS`` from /proc)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        """CPU time the server process has used so far (user + system), seconds;
        its training processes not included."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tensorflow_loaded(self) -> bool:
        """Whether TensorFlow's native library is mapped into the server process."""
        return "_pywrap_tensorflow" in Path(f"/proc/{self.proc.pid}/maps").read_text()

    def stop(self) -> None:
        """SIGTERM the process group (the server and its training processes), then SIGKILL."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self._log is not subprocess.DEVNULL:
            self._log.close()
