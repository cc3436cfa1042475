"""Keyboard only, reflow at 320 CSS px, text at 200%, and the app served under a path prefix."""

from __future__ import annotations

import re
import threading

import httpx
import pytest

from tests.ui import (QUESTION, QUESTION_BOX, SOURCE_LINK, ask, focused, open_form_with_errors, press_until,
                      wait_answer, wait_ready, widths)  # fmt: skip


def _press_enter_on_link(page, context) -> tuple[object, bool]:  # noqa: ANN001
    """Enter on the focused link: the page that shows the notice, and whether it is a new tab."""
    before = list(context.pages)
    page.keyboard.press("Enter")
    for _ in range(100):
        new = [p for p in context.pages if p not in before]
        if new:
            return new[0], True
        if "/notices/" in page.url:
            return page, False
        page.wait_for_timeout(100)
    raise AssertionError("Enter on the source link opened nothing")


def test_keyboard_only_question_source_and_dpo_form(page, context, app_url):
    log: list[str] = []
    page.goto(app_url + "/")
    wait_ready(page)

    # 1. From page load, the first Tab reaches the skip link; Enter on it puts the focus in the question box.
    first = press_until(page, lambda f: True, limit=1, log=log)
    assert first["tag"] == "a" and first["name"] == "Skip to the question box", first
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
    assert focused(page)["name"].startswith("Your question")
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    wait_answer(page)

    # 2. The first source link is above the box: Shift+Tab back to it, Enter opens the notice.
    press_until(page, lambda f: f["tag"] == "a" and f["name"] == "Open source 1 in the notice", key="Shift+Tab", log=log)
    viewer, popup = _press_enter_on_link(page, context)
    viewer.wait_for_load_state()
    assert re.search(r"/notices/[^?]+\?start=\d+&end=\d+#passage$", viewer.url), viewer.url
    mark = viewer.locator("mark#passage")
    mark.wait_for()
    assert mark.is_visible()
    top = viewer.evaluate("() => document.getElementById('passage').getBoundingClientRect().top")
    assert 0 <= top < viewer.viewport_size["height"], f"the browser did not scroll to the passage (top={top})"
    if popup:
        viewer.close()
        page.bring_to_front()
    else:
        page.go_back()
        wait_ready(page)

    # 3. Back on the app: keyboard to the DPO tab (Shift+Tab from the link, or Tab from the top after going
    #    back), Enter selects it.
    def dpo_tab(f: dict) -> bool:
        return f["role"] == "tab" and f["name"] == "Contact the Data Protection Officer"

    press_until(page, dpo_tab, key="Shift+Tab" if popup else "Tab", log=log)
    page.keyboard.press("Enter")
    page.get_by_role("tab", name="Contact the Data Protection Officer", selected=True).wait_for()

    # 4. Fill the required fields by keyboard, tick consent with Space, submit with Enter.
    press_until(page, lambda f: f["name"].startswith("Your full name"), log=log)
    page.keyboard.type("Jo Bloggs")
    press_until(page, lambda f: f["name"].startswith("Email address"), log=log)
    page.keyboard.type("jo@example.com")
    press_until(page, lambda f: f["name"].startswith("Your request or question"), log=log)
    page.keyboard.type("Please tell me who you have shared my data with.")
    consent = press_until(page, lambda f: f["type"] == "checkbox", log=log)
    assert consent["name"].startswith("I agree") and consent["checked"] is False
    page.keyboard.press("Space")
    assert focused(page)["checked"] is True
    press_until(page, lambda f: f["tag"] == "button" and f["name"] == "Send to the Data Protection Officer", log=log)
    page.keyboard.press("Enter")
    page.wait_for_function("() => /DPO-/.test(document.querySelector('#form-result').innerText)")
    result = page.locator("#form-result").inner_text()
    assert re.search(r"DPO-\d{4}-\d+", result), result
    assert page.locator("#error-summary").inner_text().strip() == ""
    print("\nkeyboard path:\n  " + "\n  ".join(log), flush=True)


@pytest.fixture
def narrow(browser):
    ctx = browser.new_context(viewport={"width": 320, "height": 640}, locale="en-GB")
    ctx.set_default_timeout(30_000)
    yield ctx.new_page()
    ctx.close()


@pytest.mark.parametrize("view", ["chat", "form", "notice"])
def test_nothing_scrolls_sideways_at_320px(view, narrow, app_url, cited):
    page = narrow
    if view == "notice":
        page.goto(f"{app_url}/notices/{cited.notice_id}?start={cited.start}&end={cited.end}#passage")
        page.wait_for_selector("mark#passage")
    else:
        page.goto(app_url + "/")
        wait_ready(page)
        if view == "chat":
            ask(page)
        else:
            open_form_with_errors(page)
    w = widths(page)
    assert w["scrollWidth"] <= 320, f"{view} at 320px scrolls sideways: {w}"
    if view == "form":  # both tabs are still on the page (not hidden in Gradio's "More tabs" menu)
        assert page.get_by_role("tab", name="Ask a question").is_visible()
        assert page.get_by_role("tab", name="Contact the Data Protection Officer").is_visible()


# How the text is made 200%:
#  - "text": the root font size at 200%, as a browser's text-size setting does (WCAG 1.4.4 resize text).
#    It only works because app.css gives Gradio's text sizes in rem: Gradio's own are px, which ignore it;
#    the test checks the text really doubled, so it cannot pass by doing nothing.
#  - "zoom": CSS zoom 2 on <html>, as the browser's page zoom to 200% does: at 1280 wide the layout gets
#    640 CSS px. That is the zoom a resident would use (Ctrl +).
@pytest.mark.parametrize("how", ["text", "zoom"])
def test_text_at_200_percent_at_1280_wide(how, page, app_url):
    page.goto(app_url + "/")
    wait_ready(page)
    size = "() => parseFloat(getComputedStyle(document.querySelector('#question-box textarea')).fontSize)"
    before = page.evaluate(size)
    if how == "text":
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        assert page.evaluate(size) >= 1.9 * before, "the question box's text did not grow with the root font size"
    else:
        page.evaluate("() => { document.documentElement.style.zoom = '2'; }")
    page.wait_for_timeout(300)  # layout settles (Gradio measures its tabs on resize)
    w = widths(page)
    assert w["scrollWidth"] <= w["clientWidth"], f"text at 200% ({how}) scrolls sideways: {w}"
    for name, loc in (("question box", page.locator(QUESTION_BOX)), ("Ask button", page.locator("#ask-button"))):
        loc.scroll_into_view_if_needed()
        assert loc.is_visible(), f"{name} is not visible with text at 200% ({how})"
        seen = loc.evaluate("""e => { const r = e.getBoundingClientRect(); const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const hit = document.elementFromPoint(x, y);
            return r.left >= 0 && r.right <= document.documentElement.clientWidth && !!hit && (hit === e || e.contains(hit) || hit.contains(e)); }""")
        assert seen, f"{name} is cut off or covered with text at 200% ({how})"


class StripPrefixProxy:
    """A tiny reverse proxy (ASGI): /privacy/... goes to the backend without the prefix, like nginx's
    ``location /privacy/ { proxy_pass http://backend/; proxy_set_header Host $host; }``, streaming
    the answer (Gradio's queue is server-sent events) and redirecting /privacy to /privacy/."""

    HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"proxy-connection", b"te", b"trailer"}

    def __init__(self, prefix: str, backend: str) -> None:
        self.prefix, self.backend = prefix, backend

    async def __call__(self, scope, receive, send):  # noqa: ANN001, ANN204
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        if path == self.prefix:
            await send({"type": "http.response.start", "status": 301, "headers": [(b"location", (self.prefix + "/").encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        if not path.startswith(self.prefix + "/"):
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"not under the prefix"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = scope.get("query_string", b"").decode()
        url = self.backend + path[len(self.prefix):] + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k not in self.HOP]
        host = dict(scope["headers"]).get(b"host", b"").decode()
        headers += [(b"x-forwarded-host", host.encode()), (b"x-forwarded-proto", b"http"),
                    (b"x-forwarded-prefix", self.prefix.encode())]  # fmt: skip
        async with httpx.AsyncClient(timeout=None) as client:
            async with client.stream(scope["method"], url, headers=headers, content=body) as r:
                out = [(k, v) for k, v in r.headers.raw if k.lower() not in self.HOP]
                await send({"type": "http.response.start", "status": r.status_code, "headers": out})
                async for chunk in r.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture(scope="module", params=["mounted", "proxied"])
def prefixed_url(request, bot, settings, tmp_path_factory):
    """The app created with root_path="/privacy", reached at /privacy/ in two ways:

    - "mounted": at /privacy of an outer FastAPI app. The outer app must run the inner app's lifespan,
      which starts Gradio's queue: without it (a bare ``outer.mount``) pages load but no answer arrives.
    - "proxied": served as ``app.main()`` serves it (uvicorn with ``root_path="/privacy"``) behind a reverse
      proxy that strips the prefix.
    """
    import uvicorn
    from fastapi import FastAPI

    import app
    from eval.loopback import free_port, serve

    db = tmp_path_factory.mktemp("ui-prefix-db") / "requests.sqlite3"
    inner = app.create_app(settings.replace(root_path="/privacy", database_url=f"sqlite:///{db}",
                                            staff_credentials="alice:correct-horse"), bot=bot)  # fmt: skip
    servers = []
    if request.param == "mounted":
        outer = FastAPI(lifespan=inner.router.lifespan_context)
        outer.mount("/privacy", inner)
        url, server = serve(outer, check="/privacy/notices")
        servers.append(server)
    else:
        port = free_port()
        backend = uvicorn.Server(uvicorn.Config(inner, host="127.0.0.1", port=port, root_path="/privacy", log_level="warning"))
        threading.Thread(target=backend.run, daemon=True).start()
        servers.append(backend)
        url, server = serve(StripPrefixProxy("/privacy", f"http://127.0.0.1:{port}"), check="/privacy/notices")
        servers.append(server)
    yield url
    for server in servers:
        server.should_exit = True


def test_the_app_works_under_a_path_prefix(prefixed_url, page, cited):
    base = prefixed_url + "/privacy"
    # Without the slash, relative links would resolve outside the prefix: it must redirect to /privacy/.
    r = httpx.get(base, follow_redirects=False)
    assert r.status_code in (301, 307, 308) and r.headers["location"].endswith("/privacy/"), (r.status_code, r.headers)
    assert httpx.get(base + "/staff/").status_code == 200  # the staff login page, under the prefix too

    index = httpx.get(base + "/notices")
    assert index.status_code == 200 and f'href="notices/{cited.notice_id}"' in index.text

    page.goto(base)  # follows the redirect to /privacy/
    wait_ready(page)
    assert page.url == base + "/"
    ask(page)  # the Gradio API calls go to the prefix too, or no answer would arrive
    href = page.locator(SOURCE_LINK).first.evaluate("a => a.href")  # as the browser resolves it
    assert href.startswith(base + "/notices/"), href
    page.goto(href)
    page.locator("mark#passage").wait_for()
    back = page.get_by_role("link", name="Back to the privacy-notice assistant").evaluate("a => a.href")
    assert back == base + "/", back

    page.goto(base + "/notices")
    page.locator(f'a[href="notices/{cited.notice_id}"]').first.click()
    page.locator("h1").wait_for()
    assert page.url.startswith(base + "/notices/"), page.url


def test_a_phone_shows_each_answer_from_its_question(browser, app_url):
    """After each answer the conversation shows the latest question and the start of its answer.

    Gradio's autoscroll would show the end instead: on a phone, the last source's quote, with the
    answer's first lines scrolled out of view above it.
    """
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-GB", is_mobile=True)
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    page.goto(app_url + "/")
    wait_ready(page)
    for n, question in enumerate([QUESTION, "How long do you keep my personal data?"], start=1):
        ask(page, question)
        page.wait_for_function(f"() => document.querySelectorAll('#conversation .message-row.user-row').length === {n}")
        page.wait_for_timeout(300)  # two animation frames, then the scroll
        where = page.evaluate("""() => {
            const log = document.querySelector('#conversation [role=log]');
            const top = log.getBoundingClientRect().top;
            const users = log.querySelectorAll('.message-row.user-row');
            const bots = log.querySelectorAll('.message-row.bot-row');
            return {overflows: log.scrollHeight > log.clientHeight + 50,
                    question: users[users.length - 1].getBoundingClientRect().top - top,
                    question_text: users[users.length - 1].innerText,
                    answer: bots[bots.length - 1].getBoundingClientRect().top - top, height: log.clientHeight};
        }""")
        assert where["overflows"], where  # the answer is longer than the box: there is a choice of what to show
        assert question in where["question_text"]
        assert -2 <= where["question"] <= 20, where
        assert 0 < where["answer"] < where["height"] / 2, where
    status = page.locator("#answer-status").inner_text()
    assert re.search(r"Answer received \((1 source|[2-9] sources)\)\.", status), status
    ctx.close()


def test_the_scroll_to_the_latest_question_leaves_a_keyboard_user_where_the_focus_is(page, app_url):
    """A keyboard user who Shift+Tabs into the answer before the scroll runs keeps the focused control in view.

    The scroll (``app.SHOW_LATEST_JS``) runs a few frames after the answer: run it again here, with the
    focus on the answer's last control (the copy button below it), as the race would.
    """
    from app import SHOW_LATEST_JS

    page.goto(app_url + "/")
    wait_ready(page)
    ask(page)
    page.wait_for_timeout(300)  # the scroll after the answer is over
    last_control = page.locator("#conversation [role=log] button").last
    last_control.focus()
    before = focused(page, settle_ms=0)
    assert before["inView"], before
    page.evaluate(SHOW_LATEST_JS)
    page.wait_for_timeout(300)
    after = focused(page, settle_ms=0)
    assert after["el"] == before["el"] and after["inView"], (before, after)
    # Without the focus in the conversation the same script still scrolls to the latest question.
    page.locator(QUESTION_BOX).focus()
    page.evaluate(SHOW_LATEST_JS)
    page.wait_for_timeout(300)
    top = page.evaluate("""() => { const log = document.querySelector('#conversation [role=log]');
        const q = [...log.querySelectorAll('.message-row.user-row')].pop();
        return q.getBoundingClientRect().top - log.getBoundingClientRect().top; }""")
    assert -2 <= top <= 20, top
