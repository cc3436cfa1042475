"""Fixtures for the browser tests: the app on a loopback port, one Chromium per module, a page per test.

Every test here is skipped, with the reason, when Debian's Chromium or the Playwright / axe packages
are missing: Playwright's own browser download does not work on this machine, so it is never used.
"""

from __future__ import annotations

from pathlib import Path

import pytest


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
HERE = Path(__file__).resolve().parent


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium): the UI tests drive Debian's Chromium with Playwright"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed (pip install -e '.[dev]'): the UI tests need playwright and axe-playwright-python"
    return None


def pytest_collection_modifyitems(config, items):  # noqa: ANN001, ANN201
    reason = _missing()
    if reason is None:
        return
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def app_url(served):
    """The whole app (residents, notice viewer, staff behind the login) with a throw-away database."""
    return served


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    ctx.set_default_timeout(30_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture(scope="module")
def cited(bot):
    """A real citation of the test question: the notice and the offsets of its passage."""
    from tests.ui import QUESTION

    return bot.ask(QUESTION).citations[0]
