"""axe-core on every view of the app, and the page semantics a screen-reader user relies on.

Run with ``-s`` to see, per view, the number of axe violations by impact.
"""

from __future__ import annotations

import pytest

from tests.ui import (QUESTION_BOX, ask, axe_details, axe_summary, open_form_with_errors, settle, wait_answer,
                      wait_ready)  # fmt: skip

BLOCKING = {"serious", "critical"}
VIEWS = ["chat-empty", "chat-answer", "notice-index", "notice-passage", "form-empty", "form-errors", "staff"]


def open_view(view: str, page, url: str, cited) -> None:  # noqa: ANN001
    if view.startswith("chat") or view.startswith("form"):
        page.goto(url + "/")
        wait_ready(page)
    if view == "chat-answer":
        ask(page)
    elif view == "notice-index":
        page.goto(url + "/notices")
        page.wait_for_selector("main h1")
    elif view == "notice-passage":
        page.goto(f"{url}/notices/{cited.notice_id}?start={cited.start}&end={cited.end}#passage")
        page.wait_for_selector("mark#passage")
    elif view == "form-empty":
        page.get_by_role("tab", name="Contact the Data Protection Officer").click()
        page.get_by_role("button", name="Send to the Data Protection Officer").wait_for()
        page.wait_for_selector("#error-summary[role=alert]", state="attached")
    elif view == "form-errors":
        open_form_with_errors(page)
    elif view == "staff":
        # Through the browser's own login page, as a member of staff would.
        page.goto(url + "/staff/")
        page.get_by_label("username").fill("alice")
        page.get_by_label("password").fill("correct-horse")
        page.get_by_role("button", name="Login").click()
        page.get_by_role("heading", name="Staff view", level=1).wait_for()
        page.wait_for_selector("text=Download all requests as CSV")


@pytest.mark.parametrize("view", VIEWS)
def test_axe_finds_no_serious_or_critical_violation(view, page, app_url, cited):
    from axe_playwright_python.sync_playwright import Axe

    open_view(view, page, app_url, cited)
    settle(page)
    violations = Axe().run(page).response["violations"]
    print("\n" + axe_summary(view, violations), flush=True)
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    if view == "form-errors":
        # Each field in error is marked in red next to the field, not only in the summary.
        marked = page.locator(".field-error")
        assert marked.count() >= 1
        assert marked.first.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(212, 53, 28)"
    assert not blocking, f"axe on {view}: {len(blocking)} serious/critical; all violations:\n{axe_details(violations)}"


def test_the_chat_page_has_language_one_h1_a_main_landmark_and_a_polite_status(page, app_url):
    page.goto(app_url + "/")
    wait_ready(page)
    sem = page.evaluate("""() => ({lang: document.documentElement.getAttribute('lang'),
        h1: [...document.querySelectorAll('h1')].map(h => h.innerText),
        main: document.querySelectorAll('main, [role=main]').length,
        title: document.title})""")
    assert sem["lang"], "html has no lang attribute"
    assert sem["lang"].lower().startswith("en")
    assert len(sem["h1"]) == 1, f"expected exactly one h1, found {sem['h1']}"
    assert sem["main"] >= 1, "no main landmark"
    assert sem["title"], "the page has no title"

    status = page.locator("#answer-status")
    assert status.get_attribute("aria-live") == "polite"
    assert status.get_attribute("role") == "status"
    before = status.inner_text()
    page.locator(QUESTION_BOX).fill("Who do you share my data with?")
    page.locator(QUESTION_BOX).press("Enter")
    wait_answer(page)
    after = status.inner_text()
    assert after != before and "Answer received" in after, (before, after)
    # Still a polite live region after Gradio re-rendered its content.
    assert status.get_attribute("aria-live") == "polite"


def test_the_notice_viewer_has_language_one_h1_and_a_main_landmark(page, app_url, cited):
    for path in ("/notices", f"/notices/{cited.notice_id}?start={cited.start}&end={cited.end}"):
        page.goto(app_url + path)
        sem = page.evaluate("""() => ({lang: document.documentElement.getAttribute('lang'),
            h1: document.querySelectorAll('h1').length, main: document.querySelectorAll('main').length})""")
        assert sem == {"lang": "en-GB", "h1": 1, "main": 1}, (path, sem)
