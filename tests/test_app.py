"""The Gradio app on loopback, asked over HTTP with gradio_client."""

import socket

import pytest


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def served(bot, settings):
    import app

    demo = app.build(assistant=bot, settings=settings)
    demo.queue()
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    assert url.startswith("http://127.0.0.1:")
    yield url
    demo.close()


def test_app_answers_over_http(served):
    from gradio_client import Client

    client = Client(served, verbose=False)
    result = client.predict("Who do you share my data with?", "", api_name="/ask")
    assert result["route"] == "answer"
    assert result["citations"][0]["section"] == "Who do we share personal data with?"
    assert any("The police" in c["quote"] for c in result["citations"])


def test_app_refuses_markup_over_http(served):
    from gradio_client import Client

    result = Client(served, verbose=False).predict("<img src=x onerror=alert(1)>", "", api_name="/ask")
    assert "plain text" in result["text"] and not result["citations"]


def test_chat_shows_what_the_resident_typed_as_text(bot, settings):
    import app

    assert app.user_text("<b>hi</b> *there*") == "&lt;b&gt;hi&lt;/b&gt; \\\\*there\\\\*".replace("\\\\", "\\")


def test_sources_list_notice_edition_section_and_quote(bot):
    import app

    answer = bot.ask("How long do you keep my personal data?")
    sources = app.render_sources(answer)
    assert "**Sources**" in sources
    assert "Children and Families service privacy notice" in sources and "version 8.0" in sources
    assert "How long do we keep personal data?" in sources
    assert "We will only retain your personal data" in sources
