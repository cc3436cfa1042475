"""The web app: residents' chat and DPO form, notice viewer, and a staff view behind a login.

Wires the UI to ``assistant``; no retrieval or validation logic lives here. One FastAPI app
serves: ``/`` the residents' Gradio app, ``/notices`` the notice viewer (plain HTML),
``/embed-example`` how the council embeds the chat, and ``/staff`` the staff Gradio app
(mounted only when ``ASSISTANT_STAFF_CREDENTIALS`` is set: there is no default password).
"""

from __future__ import annotations

import html
import logging
from typing import Any

import assistant.settings  # noqa: F401  (offline and no-analytics env vars first)
import gradio as gr
from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse

from assistant.compose import md_escape
from assistant.dpo_form import ON_BEHALF, REQUEST_TYPES, validate_form
from assistant.dpo_store import RequestStore, StoreError
from assistant.guard import redact
from assistant.models import Answer, format_iso_date
from assistant.pipeline import Assistant
from assistant.resources import load
from assistant.settings import Settings, get_settings
from assistant.store import IndexMissing, StoreUnavailable
from assistant.viewer import index_html, notice_html, slug

log = logging.getLogger("app")
UI = load("ui")
FORM_FIELDS = ["request_type", "name", "email", "phone", "address", "on_behalf", "child_name", "child_dob",
               "representing_name", "description", "consent"]  # fmt: skip
CSS_PATH = __import__("pathlib").Path(__file__).with_name("assistant") / "data" / "app.css"


def source_link(c: Any, prefix: str = "") -> str:
    return f"{prefix}notices/{c.notice_id}?start={c.start}&end={c.end}#passage"


def render_sources(answer: Answer, prefix: str = "") -> str:
    """Numbered sources under an answer: notice, edition, section, quote and a link to it."""
    if not answer.citations:
        return ""
    lines = ["", "**Sources**", ""]
    for c in answer.citations:
        edition = ", ".join(x for x in (f"version {c.version}" if c.version else "", format_iso_date(c.effective) or "") if x)
        older = " (older notice)" if c.status == "superseded" else ""
        lines.append(f"{c.n}. *{md_escape(c.notice_title)}*{older}, {edition}, section “{md_escape(c.section)}”  ")
        lines.append(f"   “{md_escape(shorten(c.quote))}”  ")
        lines.append(f"   [Open source {c.n} in the notice]({source_link(c, prefix)})")
    return "\n".join(lines)


def shorten(quote: str, limit: int = 240) -> str:
    """A long quote, cut at a word with an ellipsis: the full passage is one click away."""
    flat = " ".join(quote.split())
    return flat if len(flat) <= limit else flat[: flat.rfind(" ", 0, limit)] + " …"


def user_text(message: str) -> str:
    """What the resident typed, as text (never HTML or Markdown), personal details removed."""
    return md_escape(redact(message or "")[0])


def chat_message(answer: Answer) -> str:
    return answer.text + "\n" + render_sources(answer)


def build_resident(bot: Assistant, store: RequestStore, settings: Settings) -> gr.Blocks:
    examples = UI["examples"]
    type_choices = [(label, key) for key, label in REQUEST_TYPES.items()]
    behalf_choices = [(label, key) for key, label in ON_BEHALF.items()]

    with gr.Blocks(title=UI["title"], analytics_enabled=False) as demo:
        gr.HTML(f'<a class="skip-link" href="#question-box">Skip to the question box</a>', padding=False)
        gr.Markdown(f"# {UI['title']}\n\n{UI['intro']}", elem_id="intro")
        asked = gr.State([])  # the resident's earlier questions (redacted), for follow-ups
        offer = gr.State({"request_type": None, "question": ""})
        with gr.Tabs(selected="chat") as tabs:
            with gr.Tab("Ask a question", id="chat"):
                chat = gr.Chatbot(label="Conversation", height=480, sanitize_html=True, render_markdown=True,
                                  feedback_options=None, buttons=["copy"], elem_id="conversation", autoscroll=False,
                                  placeholder=UI["placeholder"])  # fmt: skip
                status = gr.Markdown("", elem_id="answer-status")  # announced politely (aria-live in CSS/JS)
                box = gr.Textbox(label="Your question", elem_id="question-box", max_lines=4, lines=1,
                                 info="Press Enter to ask. Please do not include personal details.")  # fmt: skip
                with gr.Row():
                    send = gr.Button("Ask", variant="primary", elem_id="ask-button")
                    handoff = gr.Button("Contact the Data Protection Officer", visible=False, elem_id="dpo-button")
                gr.Markdown("## Example questions")
                with gr.Row(elem_id="examples"):
                    buttons = [gr.Button(q, size="sm") for q in examples]
                gr.Markdown(f"[Read the privacy notices in full](notices)")
            with gr.Tab("Contact the Data Protection Officer", id="dpo"):
                gr.Markdown(UI["form_intro"])
                summary = gr.Markdown("", elem_id="error-summary")
                f_type = gr.Dropdown(type_choices, label="What would you like to do?", value="other_question")
                f_name = gr.Textbox(label="Your full name")
                f_email = gr.Textbox(label="Email address", type="email")
                f_phone = gr.Textbox(label="Phone number")
                f_address = gr.Textbox(label="Postal address, with postcode", lines=3)
                f_behalf = gr.Radio(behalf_choices, label="Who is this request about?", value="self")
                f_child = gr.Textbox(label="Child's full name (if it is about a child)")
                f_dob = gr.Textbox(label="Child's date of birth, for example 27/3/2015")
                f_rep = gr.Textbox(label="Name of the person you represent (if you are a representative)")
                f_desc = gr.Textbox(label="Your request or question", lines=5)
                f_consent = gr.Checkbox(label=UI["consent_label"])
                submit = gr.Button("Send to the Data Protection Officer", variant="primary")
                receipt = gr.Markdown("", elem_id="form-result")
        fields = [f_type, f_name, f_email, f_phone, f_address, f_behalf, f_child, f_dob, f_rep, f_desc, f_consent]
        labels = {name: comp.label for name, comp in zip(FORM_FIELDS, fields)}

        def respond(message: str, history: list, earlier: list[str]):  # noqa: ANN202
            answer = bot.ask(message or "", history=[{"role": "user", "content": q} for q in earlier])
            history = list(history or []) + [
                {"role": "user", "content": user_text(message)},
                {"role": "assistant", "content": chat_message(answer)},
            ]
            question = redact(message or "")[0]
            n = len(answer.citations)
            done = f"Answer received ({n} source{'s' * (n != 1)})." if n else "Answer received."
            return (history, "", earlier + [question], {"request_type": answer.request_type, "question": question},
                    gr.update(visible=answer.offers_handoff), done)  # fmt: skip

        outputs = [chat, box, asked, offer, handoff, status]
        asking = [box.submit(respond, [box, chat, asked], outputs, api_visibility="private"),
                  send.click(respond, [box, chat, asked], outputs, api_visibility="private")]  # fmt: skip
        for b, q in zip(buttons, examples):
            asking.append(b.click(lambda h, e, q=q: respond(q, h, e), [chat, asked], outputs, api_visibility="private"))
        for event in asking:
            # A long answer starts at the top of the conversation (with its question), not at its last source.
            event.then(None, js=SHOW_LATEST_JS)

        def open_form(o: dict):  # noqa: ANN202
            return gr.Tabs(selected="dpo"), o.get("request_type") or "other_question", o.get("question", "")

        handoff.click(open_form, [offer], [tabs, f_type, f_desc], api_visibility="private")

        def send_form(o: dict, *values: Any):  # noqa: ANN202
            data = dict(zip(FORM_FIELDS, values))
            req, errors = validate_form(data)
            # Every field keeps what was typed; a field in error says so in its own label, in red.
            relabel = [gr.update(label=f"{labels[n]} — Error: {errors[n]}" if n in errors else labels[n],
                                 elem_classes=["field-error"] if n in errors else []) for n in FORM_FIELDS]  # fmt: skip
            if errors:
                items = "\n".join(f"- {labels[n]}: {msg}" for n, msg in errors.items())
                return [f"### There is a problem\n\n{items}", ""] + relabel
            try:
                stored = store.submit(req, source_question=o.get("question") or None)  # type: ignore[arg-type]
            except StoreError as e:
                return [f"### There is a problem\n\n{e.message}", ""] + relabel
            ok = (f"### Request sent\n\nReference: **{stored.reference}**  \nReceived: {stored.received_at:%d %B %Y}  \n"
                  f"Reply due by: **{stored.due_date:%d %B %Y}**\n\n{stored.what_happens_next}")  # fmt: skip
            return ["", ok] + relabel

        submit.click(send_form, [offer, *fields], [summary, receipt, *fields], api_visibility="private")

        def ask_api(question: str, notice: str | None = None) -> dict[str, Any]:
            return bot.ask(question or "", notice=notice or None).model_dump(mode="json")

        gr.api(ask_api, api_name="ask")
    # Questions are answered side by side (one torch thread each), not one at a time.
    demo.queue(default_concurrency_limit=settings.concurrency)
    return demo


STATUSES = [("All", ""), ("Received", "received"), ("In progress", "in_progress"), ("Closed", "closed")]
COLUMNS = ["reference", "received_at", "due_date", "request_type", "status", "name", "email", "phone", "description"]


def build_staff(bot: Assistant, store: RequestStore, settings: Settings) -> gr.Blocks:
    """Staff only (behind the login): the request queue and the internal FAQ with its evidence."""
    types = [("All", "")] + [(label, key) for key, label in REQUEST_TYPES.items()]
    try:
        notices = [("All notices", "")] + [(n.title, nid) for nid, n in bot.notices.items()]
    except (IndexMissing, StoreUnavailable):
        notices = [("All notices", "")]
    with gr.Blocks(title="Staff view: privacy-notice assistant", analytics_enabled=False) as staff:
        gr.Markdown("# Staff view\n\nRequests to the Data Protection Officer, and the assistant as an internal FAQ. "
                    "Nothing here changes by itself: every change is made by a named member of staff and audited.")  # fmt: skip
        with gr.Tabs():
            with gr.Tab("Requests"):
                with gr.Row():
                    f_status = gr.Dropdown(STATUSES, value="", label="Status")
                    f_type = gr.Dropdown(types, value="", label="Request type")
                    show = gr.Button("Show requests")
                table = gr.Dataframe(headers=COLUMNS, interactive=False, label="Requests", wrap=True)
                ref = gr.Textbox(label="Reference of the request to update, for example DPO-2026-000001")
                to = gr.Dropdown([("In progress", "in_progress"), ("Closed", "closed")], value="in_progress", label="Move to")
                note = gr.Textbox(label="Note (required when closing)", lines=2)
                update = gr.Button("Update request", variant="primary")
                result = gr.Markdown("", elem_id="staff-result")
                trail = gr.Dataframe(headers=["at", "staff", "action", "from", "to", "note"], interactive=False,
                                     label="Audit trail of this request")  # fmt: skip
                export = gr.DownloadButton("Download all requests as CSV")
            with gr.Tab("Internal FAQ"):
                which = gr.Dropdown(notices, value="", label="Notice")
                question = gr.Textbox(label="Question")
                ask = gr.Button("Ask", variant="primary")
                answer_md = gr.Markdown("")
                evidence = gr.Dataframe(headers=["rank", "fused score", "cosine", "notice", "section", "passage"],
                                        interactive=False, wrap=True, label="Retrieved passages")  # fmt: skip

        def rows(status: str, rtype: str) -> list[list[Any]]:
            try:
                found = store.list(status=status or None, request_type=rtype or None)
            except StoreError as e:
                raise gr.Error(e.message) from None
            return [[getattr(r, c) for c in COLUMNS] for r in found]

        def do_update(reference: str, status: str, text: str, status_f: str, type_f: str, request: gr.Request):  # noqa: ANN202
            try:
                store.update_status(reference.strip(), status, staff_name=request.username or "", note=text or None)
                audit = [[a.at, a.staff_name, a.action, a.from_status, a.to_status, a.note] for a in store.audit(reference.strip())]
                return f"Updated {html.escape(reference.strip())}.", audit, rows(status_f, type_f)
            except (ValueError, LookupError, StoreError) as e:
                return f"Not updated: {getattr(e, 'message', None) or e}", [], rows(status_f, type_f)

        def do_export() -> str:
            import tempfile

            path = tempfile.NamedTemporaryFile(prefix="dpo-requests-", suffix=".csv", delete=False).name
            store.export_csv(path)
            return path

        def faq(q: str, nid: str):  # noqa: ANN202
            a = bot.ask(q or "", notice=nid or None)
            head = f"**Route:** {a.route}" + (f" (form offered: {a.request_type})" if a.offers_handoff else "")
            table_rows = [[i + 1, r.score, r.dense, r.notice_id, r.section, r.text] for i, r in enumerate(a.retrieved)]
            return head + "\n\n" + chat_message(a), table_rows

        show.click(rows, [f_status, f_type], table)
        staff.load(rows, [f_status, f_type], table)
        update.click(do_update, [ref, to, note, f_status, f_type], [result, trail, table])
        export.click(do_export, None, export)
        ask.click(faq, [question, which], [answer_md, evidence])
        question.submit(faq, [question, which], [answer_md, evidence])
    return staff


def create_app(settings: Settings | None = None, bot: Assistant | None = None,
               store: RequestStore | None = None) -> FastAPI:  # fmt: skip
    settings = settings or get_settings()
    bot = bot or Assistant(settings)
    try:
        bot.warm_up()  # load the model before the first resident waits for it
    except (IndexMissing, StoreUnavailable) as e:
        log.warning("starting without the notice index: %s", e)  # each answer then says how to fix it
    store = store or RequestStore.from_settings(settings)
    app = FastAPI(title=UI["title"], docs_url=None, redoc_url=None, openapi_url=None)

    def _notices() -> dict:
        try:
            return bot.notices
        except (IndexMissing, StoreUnavailable):
            raise HTTPException(status_code=503, detail="The notice index is not available yet.") from None

    @app.get("/notices", response_class=HTMLResponse)
    def notices_page() -> str:
        return index_html(list(_notices().values()), home="./")

    @app.get("/notices/{notice_id}", response_class=HTMLResponse)
    def notice_page(notice_id: str, start: int | None = None, end: int | None = None) -> str:
        notice = _notices().get(notice_id)
        if notice is None:
            raise HTTPException(status_code=404, detail="There is no notice with that id.")
        return notice_html(notice, start, end, home="../")

    @app.get("/embed-example", response_class=HTMLResponse)
    def embed_example() -> str:
        return EMBED_PAGE

    css = CSS_PATH.read_text(encoding="utf-8")
    head = '<meta name="description" content="Answers about Wigan Council privacy notices">'
    resident = build_resident(bot, store, settings)
    if settings.staff_logins:
        staff = build_staff(bot, store, settings)
        gr.mount_gradio_app(app, staff, path="/staff", auth=list(settings.staff_logins.items()),
                            auth_message="Staff sign-in", root_path=_join(settings.root_path, "/staff"),
                            css=css, head=head, footer_links=[])  # fmt: skip
    gr.mount_gradio_app(app, resident, path="", root_path=settings.root_path or None, css=css,
                        head=head + LIVE_JS, footer_links=[])  # fmt: skip
    return app


def _join(root: str, path: str) -> str | None:
    return (root.rstrip("/") + path) if root else None


# Scroll the conversation so the latest question, and the start of its answer, are in view. Without
# this, Gradio's autoscroll shows the end of the answer: on a phone, the last source's quote. A keyboard
# user who has already moved the focus into the conversation keeps the view on it.
SHOW_LATEST_JS = """() => { requestAnimationFrame(() => requestAnimationFrame(() => {
  const log = document.querySelector('#conversation [role=log]');
  if (!log || log.contains(document.activeElement)) return;
  const rows = log.querySelectorAll('.message-row.user-row');
  const last = rows[rows.length - 1];
  if (last) log.scrollTop += last.getBoundingClientRect().top - log.getBoundingClientRect().top;
})); }"""

LIVE_JS = """<script>
// Gradio has no live-region option: make the answer status polite so screen readers announce it.
// Gradio adds this script after DOMContentLoaded has fired, so run it at once when the page is loaded.
((run) => document.readyState === 'loading' ? document.addEventListener('DOMContentLoaded', run) : run())(() => {
  const roles = {'answer-status': 'status', 'form-result': 'status', 'error-summary': 'alert'};
  const t = setInterval(() => {
    let done = 0;
    for (const [id, role] of Object.entries(roles)) { const el = document.getElementById(id);
      if (el) { el.setAttribute('role', role); el.setAttribute('aria-live', role === 'alert' ? 'assertive' : 'polite'); done++; } }
    if (done === Object.keys(roles).length) clearInterval(t); }, 100);
  document.documentElement.setAttribute('lang', 'en-GB');
  // The skip link's target is Gradio's wrapper: put the keyboard focus in the question box itself.
  document.addEventListener('click', (ev) => {
    if (!(ev.target instanceof Element) || !ev.target.closest('a.skip-link')) return;
    const box = document.querySelector('#question-box textarea');
    if (box) { ev.preventDefault(); box.focus(); }
  });
});
</script>"""

EMBED_PAGE = f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Embedding the privacy-notice assistant</title>
<style>body{{font-family:Arial,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.5}}
iframe{{width:100%;height:52rem;border:1px solid #b1b4b6}} pre{{white-space:pre-wrap;background:#f3f2f1;padding:1rem}}</style>
</head><body><main><h1>Embedding the assistant on the council's website</h1>
<p>Paste this into the page. The <code>title</code> attribute names the frame for screen-reader users.</p>
<pre>{html.escape('<iframe src="https://ASSISTANT-HOST/" title="Ask about Wigan Council privacy notices" width="100%" height="832" style="border:0"></iframe>')}</pre>
<h2>Live example</h2>
<iframe src="./" title="Ask about Wigan Council privacy notices"></iframe></main></body></html>"""


def main() -> None:
    import uvicorn

    settings = get_settings()
    logging.basicConfig(level=logging.INFO)
    app = create_app(settings)
    print(f"Serving on http://{settings.host}:{settings.port}{settings.root_path or '/'}", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, root_path=settings.root_path, log_level="warning")


if __name__ == "__main__":
    main()
