"""From a request typed in the chat to a stored DPO request, in the browser (issue 4's whole path)."""

from __future__ import annotations

import re
from datetime import date

from tests.ui import QUESTION_BOX, wait_ready


def test_a_request_in_the_chat_becomes_a_stored_request_with_the_form_pre_filled(page, app_url):
    question = "Please erase my son's records"
    page.goto(app_url + "/")
    wait_ready(page)
    box = page.locator(QUESTION_BOX)
    box.fill(question)
    box.press("Enter")
    page.wait_for_function("() => /Answer received/.test(document.querySelector('#answer-status').innerText)")
    assert "can't act on requests" in page.locator("#conversation").inner_text()

    # The hand-off button opens the form with the request type and the question filled in.
    page.get_by_role("button", name="Contact the Data Protection Officer").click()
    page.get_by_role("tab", name="Contact the Data Protection Officer", selected=True).wait_for()
    kind = page.get_by_label("What would you like to do?", exact=True)
    assert kind.input_value() == "Delete my data (erasure)"
    assert page.get_by_label("Your request or question", exact=True).input_value() == question

    page.get_by_label("Your full name", exact=True).fill("Jo Bloggs")
    page.get_by_label("Email address", exact=True).fill("jo@example.com")
    page.get_by_label("I agree", exact=False).check()
    page.get_by_role("button", name="Send to the Data Protection Officer").click()
    page.wait_for_function("() => /DPO-/.test(document.querySelector('#form-result').innerText)")
    receipt = page.locator("#form-result").inner_text()
    assert re.search(rf"Reference: DPO-{date.today().year}-\d{{6}}", receipt), receipt
    assert re.search(r"Reply due by: \d{2} \w+ \d{4}", receipt), receipt


def test_a_follow_up_in_the_chat_is_read_with_the_question_before(page, app_url):
    """The chat keeps the resident's earlier questions: "how long for?" is about the photos asked of."""
    page.goto(app_url + "/")
    wait_ready(page)
    box = page.locator(QUESTION_BOX)
    for n, question in enumerate(["Do you keep photos of kids in care?", "how long for?"], start=1):
        box.fill(question)
        box.press("Enter")
        page.wait_for_function(f"() => document.querySelectorAll('#conversation .message-row.bot-row').length === {n}")
    last = page.locator("#conversation .message-row.bot-row").last.inner_text()
    assert "as long as necessary" in last and "don't say" not in last, last
