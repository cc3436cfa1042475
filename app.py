"""The residents' chat (Gradio). Wires the UI to ``assistant.Assistant``; no retrieval here."""

from __future__ import annotations

import html
import logging
from typing import Any

import assistant.settings  # noqa: F401  (offline and no-analytics env vars first)
import gradio as gr

from assistant.compose import md_escape
from assistant.models import Answer, format_iso_date
from assistant.pipeline import Assistant
from assistant.resources import load
from assistant.settings import Settings, get_settings

log = logging.getLogger("app")

INTRO = """This assistant answers questions about how Wigan Council uses personal data, by quoting
the council's privacy notices word for word, with the source of every quote.
It **cannot** make decisions, look up your records or act on a request: for that it points
you to the Data Protection Officer. **Please do not type personal details** (names,
addresses, dates of birth) into the chat."""


def render_sources(answer: Answer) -> str:
    """Numbered sources under an answer: notice, edition, section, and the quoted passage."""
    if not answer.citations:
        return ""
    lines = ["", "**Sources**", ""]
    for c in answer.citations:
        edition = ", ".join(x for x in (f"version {c.version}" if c.version else "", format_iso_date(c.effective) or "") if x)
        older = " (older notice)" if c.status == "superseded" else ""
        lines.append(f"{c.n}. *{md_escape(c.notice_title)}*{older}, {edition} — section “{md_escape(c.section)}”")
        quote = " ".join(md_escape(c.quote).split())
        lines.append(f"   > {quote}")
    return "\n".join(lines)


def user_text(message: str) -> str:
    """What the resident typed, shown as text: never HTML, never Markdown."""
    return md_escape(message or "")


def build(assistant: Assistant | None = None, settings: Settings | None = None) -> gr.Blocks:
    settings = settings or get_settings()
    bot = assistant or Assistant(settings)
    examples = load("ui")["examples"]

    def respond(message: str, history: list[dict[str, Any]]):  # noqa: ANN202
        history = list(history or [])
        prior = [{"role": t["role"], "content": _plain(t)} for t in history if t.get("role") == "user"]
        answer = bot.ask(message or "", history=prior)
        history.append({"role": "user", "content": user_text(message)})
        history.append({"role": "assistant", "content": answer.text + "\n" + render_sources(answer)})
        return history, ""

    def ask_api(question: str, notice: str | None = None) -> dict[str, Any]:
        return bot.ask(question or "", notice=notice or None).model_dump(mode="json")

    with gr.Blocks(title="Ask about Wigan Council privacy notices", analytics_enabled=False) as demo:
        gr.Markdown("# Ask about Wigan Council's privacy notices\n\n" + INTRO)
        chat = gr.Chatbot(label="Conversation", height=520, sanitize_html=True, render_markdown=True,
                          feedback_options=None, buttons=["copy"])  # fmt: skip
        with gr.Row():
            box = gr.Textbox(label="Your question", placeholder="For example: Who do you share my data with?",
                             max_lines=4, scale=5, max_length=settings.max_question_chars * 10)  # fmt: skip
            send = gr.Button("Ask", variant="primary", scale=1)
        gr.Markdown("**Example questions**")
        with gr.Row():
            buttons = [gr.Button(q, size="sm") for q in examples]
        box.submit(respond, [box, chat], [chat, box], api_visibility="private")
        send.click(respond, [box, chat], [chat, box], api_visibility="private")
        for b, q in zip(buttons, examples):
            b.click(lambda h, q=q: respond(q, h), [chat], [chat, box], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return demo


def _plain(turn: dict[str, Any]) -> str:
    content = turn.get("content")
    if isinstance(content, list):  # Gradio may send a list of content parts
        content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return html.unescape(str(content or "")).replace("\\", "")


def main() -> None:
    settings = get_settings()
    logging.basicConfig(level=logging.INFO)
    demo = build(settings=settings)
    demo.queue(default_concurrency_limit=8)
    demo.launch(server_name=settings.host, server_port=settings.port, root_path=settings.root_path or None)


if __name__ == "__main__":
    main()
