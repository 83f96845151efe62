"""Fixtures and hooks of the browser tests; the harness itself is in harness.py."""

import pytest
from harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, NO_BROWSER, Server


def pytest_collection_modifyitems(config, items):
    if NO_BROWSER:
        skip = pytest.mark.skip(reason=f"browser tests skipped: {NO_BROWSER}")
        for item in items:
            if {"browser", "page"} & set(getattr(item, "fixturenames", ())):
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if NO_BROWSER:
        terminalreporter.write_line(f"NOTE: the browser tests were SKIPPED: {NO_BROWSER}.", yellow=True, bold=True)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    ARTIFACTS.mkdir(exist_ok=True)
    srv = Server({"CNN_STUDIO_RUNS_DIR": str(tmp_path_factory.mktemp("browser-runs")),
                  "CNN_STUDIO_MAX_JOBS": "1"})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory):
    """A server with Streamlit's agent API on (test configuration only), for load tests;
    stopped after its module, so that the training jobs its sessions started end with it
    (they trained on beside the rest of the suite, a core busy for minutes)."""
    ARTIFACTS.mkdir(exist_ok=True)
    srv = Server({"CNN_STUDIO_HOME": str(tmp_path_factory.mktemp("load-home")),
                  "CNN_STUDIO_MAX_JOBS": "1"},
                 extra_args=["--server.enableAgentApi", "true"])
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


