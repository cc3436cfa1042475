"""Screenshots of the web app for the docs, taken with Playwright and Debian's Chromium.

    .venv/bin/python docs/screenshots.py                # starts the app itself (needs `make index`)
    .venv/bin/python docs/screenshots.py --url http://127.0.0.1:7860/   # or uses a running app

Writes, next to this file: chat-desktop.png (1280 wide, a cited answer), chat-mobile.png (390x844,
a cited answer), notice-viewer.png (a cited passage highlighted) and dpo-form.png (the form showing
its errors). Requests sent to the DPO form go to a throw-away database, never the real one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
CHROMIUM = "/usr/bin/chromium"  # Playwright's own browser download does not work on this machine
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
QUESTION = "Who do you share my data with?"
SOURCE_LINK = "#conversation a:has-text('Open source 1 in the notice')"


def start_app() -> tuple[str, object]:
    """The app on a free loopback port, in a thread, with a temporary request database."""
    sys.path.insert(0, str(ROOT))
    import app
    from assistant.settings import get_settings
    from eval.loopback import serve

    db = Path(tempfile.mkdtemp(prefix="screenshots-")) / "requests.sqlite3"
    settings = get_settings().replace(database_url=f"sqlite:///{db}", staff_credentials=None, root_path="")
    try:
        url, server = serve(app.create_app(settings))
    except RuntimeError:
        raise SystemExit("the app did not start (is the index built? run `make index`)") from None
    return url + "/", server


def ask(page, question: str = QUESTION) -> None:  # noqa: ANN001
    page.wait_for_selector("#question-box textarea")
    page.locator("#question-box textarea").fill(question)
    page.locator("#question-box textarea").press("Enter")
    page.wait_for_selector(SOURCE_LINK, timeout=60_000)
    page.wait_for_function("() => document.querySelector('#answer-status').innerText.includes('Answer received')")


def show_answer(page) -> None:  # noqa: ANN001
    """Scroll the conversation to the resident's question, the way a reader starts reading the answer."""
    for _ in range(10):  # Gradio scrolls to the end again while the answer settles: repeat until it stays
        off = page.evaluate("""() => { const log = document.querySelector('#conversation [role=log]');
            const q = log && log.querySelector('.message-row'); if (!q) return 0;
            const off = q.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
            log.scrollTop += off; return Math.abs(off); }""")
        if off < 2:
            break
        page.wait_for_timeout(300)
    page.evaluate("() => window.scrollTo(0, 0)")


def settle(page) -> None:  # noqa: ANN001
    """Finite transitions over (Gradio fades new content in)."""
    page.wait_for_function("""() => document.getAnimations().every(a =>
        a.playState !== 'running' || a.effect?.getTiming?.().iterations === Infinity)""")


def shoot(url: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            desktop = browser.new_page(viewport={"width": 1280, "height": 900})
            desktop.goto(url)
            ask(desktop)
            show_answer(desktop)
            settle(desktop)
            desktop.screenshot(path=DOCS / "chat-desktop.png", full_page=True)
            written.append(DOCS / "chat-desktop.png")
            href = desktop.locator(SOURCE_LINK).first.get_attribute("href")

            mobile = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
            mobile.goto(url)
            ask(mobile)  # as the resident sees it: Gradio scrolls the conversation to the end, the sources
            settle(mobile)
            mobile.screenshot(path=DOCS / "chat-mobile.png", full_page=True)
            written.append(DOCS / "chat-mobile.png")

            viewer = browser.new_page(viewport={"width": 1280, "height": 900})
            viewer.goto(url.rstrip("/") + "/" + href)  # the link is relative to the app's page
            viewer.wait_for_selector("mark#passage")
            viewer.evaluate("() => document.getElementById('passage').scrollIntoView({block: 'center'})")
            # The viewport, not the full page (the notice is long), cut to the text column: the viewer's
            # body is at most 46rem wide and sits on the left, so the rest of a 1280px window is empty.
            width = viewer.evaluate("() => Math.ceil(document.body.getBoundingClientRect().right) + 16")
            viewer.screenshot(path=DOCS / "notice-viewer.png", clip={"x": 0, "y": 0, "width": min(width, 1280), "height": 900})
            written.append(DOCS / "notice-viewer.png")

            form = browser.new_page(viewport={"width": 1280, "height": 900})
            form.goto(url)
            form.get_by_role("tab", name="Contact the Data Protection Officer").click()
            form.get_by_role("button", name="Send to the Data Protection Officer").click()
            form.wait_for_selector("#error-summary h3")
            form.evaluate("() => window.scrollTo(0, 0)")
            settle(form)
            form.screenshot(path=DOCS / "dpo-form.png", full_page=True)
            written.append(DOCS / "dpo-form.png")
        finally:
            browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app, for example http://127.0.0.1:7860/ (default: start one)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium package")
    server = None
    url = args.url.rstrip("/") + "/" if args.url else None
    if url is None:
        url, server = start_app()
    try:
        for path in shoot(url):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    finally:
        if server is not None:
            server.should_exit = True


if __name__ == "__main__":
    main()
