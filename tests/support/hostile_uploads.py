"""Mischievous students for the classroom load: sessions that upload a hostile
``.keras`` file to Inside the network again and again.

Streamlit's agent API cannot upload a file (JSON cannot carry one), so each
uploader is a Chromium page driven by Playwright, all in one thread of their own
(the sync API belongs to the thread that started it). Each page opens Inside the
network once and chooses "a .keras file": one session, as one student's. Then,
every ``every_s`` seconds (the pages staggered), a page uploads the next file of
``files`` (another file each time, so that the server checks each anew); the time
until the page shows the refusal naming that file is recorded, and a page that
shows no refusal, or a traceback, is an error.

In a classroom the uploaders' browsers run on their own laptops, not on the
server. Here they share its two cores, so Chromium runs in the idle scheduling
class (``chrt --idle``, through a launcher script), and a session is loaded once
rather than at every upload: loading Streamlit's page takes a core for seconds.
Even idle-class work on this virtual machine slows the server (the benchmark's
note gives the measurement), so the benchmark also runs the same uploads of a
harmless model (:mod:`bench.load`).
"""

from __future__ import annotations

import stat
import tempfile
import threading
import time
from pathlib import Path

from tests.support.server import CHROMIUM, CHROMIUM_ARGS

#: Words of the refusal the page shows for a model over the weight budget (the
#: config bomb's sentence: "... declares a model of at least N weights; this server
#: takes models up to ...").
REFUSED = "this server takes models up to"

#: True once an error alert naming file ``name`` and holding ``text`` is on the page.
_ANSWERED_JS = """([name, text]) => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid^="stAlertContent"]')].some(
    e => e.innerText.includes(name) && e.innerText.includes(text))"""


class HostileUploads:
    """``browsers`` sessions uploading ``files`` in turn (cycled) to the server at
    ``url``, each every ``every_s`` seconds (staggered), from :meth:`start` until
    :meth:`stop`.

    Args:
        url: ``http://host:port`` of the server.
        files: the ``.keras`` files, each with a distinct name (the page's answer is
            recognised by the file's name).
        browsers: sessions, each in its own browser context.
        every_s: seconds between two uploads of one session.
        answer_text: words of the answer each upload must bring (default: the
            refusal of a model over the weight budget); an upload whose answer
            does not show within 60 s is an error.

    Attributes:
        uploads: seconds from choosing the file to the answer on the page, one per upload.
        errors: sentences: an upload not answered, an exception on the page, or a
            browser that failed.
    """

    def __init__(self, url: str, files: list[Path], browsers: int = 2, every_s: float = 10.0,
                 answer_text: str = REFUSED):
        self.url, self.files, self.browsers, self.every_s = url, [Path(f) for f in files], browsers, every_s
        self.answer_text = answer_text
        self.uploads: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _open(self, page) -> None:
        """One session: Inside the network, uploading chosen as the model's source."""
        page.goto(f"{self.url}/inside")
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
        page.locator('[data-testid="stSidebar"]').get_by_text("a .keras file").click()
        page.locator('[data-testid="stSidebar"] input[type="file"]').first.wait_for(
            state="attached", timeout=30_000)

    def _upload(self, page, path: Path) -> None:
        chooser = page.locator('[data-testid="stSidebar"] input[type="file"]').first
        t = time.perf_counter()
        chooser.set_input_files(str(path))
        page.wait_for_function(_ANSWERED_JS, arg=[path.name, self.answer_text], timeout=60_000)
        self.uploads.append(time.perf_counter() - t)
        if page.locator('[data-testid="stException"]').count():
            self.errors.append(f"upload of {path.name}: a traceback on the page")

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with tempfile.TemporaryDirectory(prefix="cnn-studio-uploaders-") as folder, \
                    sync_playwright() as p:
                launcher = Path(folder) / "chromium-idle"
                launcher.write_text(f'#!/bin/sh\nexec chrt --idle 0 "{CHROMIUM}" "$@"\n')
                launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
                browser = p.chromium.launch(executable_path=str(launcher), args=CHROMIUM_ARGS)
                pages = [browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
                         for _ in range(self.browsers)]
                for page in pages:
                    self._open(page)
                gap = self.every_s / self.browsers
                next_at = time.monotonic()
                turn = 0
                while not self._stop.wait(max(0.0, next_at - time.monotonic())):
                    path = self.files[turn % len(self.files)]
                    try:
                        self._upload(pages[turn % len(pages)], path)
                    except Exception as e:  # a timeout: the answer never showed
                        self.errors.append(f"upload of {path.name}: {type(e).__name__}: "
                                           f"{str(e)[:200]}")
                    turn += 1
                    next_at += gap
                browser.close()
        except Exception as e:
            self.errors.append(f"uploaders could not run: {type(e).__name__}: {e}")
