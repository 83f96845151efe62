"""Mischievous students for the classroom load: browsers that upload a hostile
``.keras`` file to Inside the network again and again.

Streamlit's agent API cannot upload a file (JSON cannot carry one), so each
uploader is a Chromium page driven by Playwright, in a thread of its own (the
sync API belongs to the thread that started it). Every ``every_s`` seconds each
page opens Inside the network, chooses "a .keras file" and uploads the file; the
time until the page's refusal shows is recorded, and a page that shows no
refusal, or a traceback, is an error.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.support.server import CHROMIUM, CHROMIUM_ARGS

#: Words of the refusal the page shows for a model over the weight budget (the
#: config bomb's sentence: "... declares a model of at least N weights; this server
#: takes models up to ...").
REFUSED = "this server takes models up to"


class HostileUploads:
    """``browsers`` pages uploading ``path`` to the server at ``url`` every
    ``every_s`` seconds each (staggered), from :meth:`start` until :meth:`stop`.

    Attributes:
        uploads: seconds from choosing the file to the refusal on the page, one per upload.
        errors: sentences: an upload that was not refused, an exception on the page,
            or a browser that failed.
    """

    def __init__(self, url: str, path: Path, browsers: int = 2, every_s: float = 10.0,
                 refused_text: str = REFUSED):
        self.url, self.path, self.browsers, self.every_s = url, Path(path), browsers, every_s
        self.refused_text = refused_text
        self.uploads: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def _upload(self, page) -> None:
        page.goto(f"{self.url}/inside")
        page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("a .keras file").click()
        chooser = sidebar.locator('input[type="file"]').first
        chooser.wait_for(state="attached", timeout=30_000)
        t = time.perf_counter()
        chooser.set_input_files(str(self.path))
        page.wait_for_function("t => document.body.innerText.includes(t)",
                               arg=self.refused_text, timeout=60_000)
        self.uploads.append(time.perf_counter() - t)
        if page.locator('[data-testid="stException"]').count():
            self.errors.append(f"upload of {self.path.name}: a traceback on the page")

    def _run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages = [browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
                         for _ in range(self.browsers)]
                gap = self.every_s / self.browsers
                next_at = time.monotonic()
                turn = 0
                while not self._stop.wait(max(0.0, next_at - time.monotonic())):
                    try:
                        self._upload(pages[turn % len(pages)])
                    except Exception as e:  # a timeout: the refusal never showed
                        self.errors.append(f"upload of {self.path.name}: {type(e).__name__}: "
                                           f"{str(e)[:200]}")
                    turn += 1
                    next_at += gap
                browser.close()
        except Exception as e:
            self.errors.append(f"hostile uploaders could not run: {type(e).__name__}: {e}")
