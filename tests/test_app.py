"""The web app on loopback: answers over HTTP with gradio_client, the notice viewer, staff login."""

import html
import re

import httpx

from eval.loopback import serve


def test_app_answers_over_http(served):
    from gradio_client import Client

    result = Client(served + "/", verbose=False).predict("Who do you share my data with?", "", api_name="/ask")
    assert result["route"] == "answer"
    assert result["citations"][0]["section"] == "Who do we share personal data with?"
    assert any("The police" in c["quote"] for c in result["citations"])


def test_app_refuses_markup_over_http(served):
    from gradio_client import Client

    result = Client(served + "/", verbose=False).predict("<img src=x onerror=alert(1)>", "", api_name="/ask")
    assert "plain text" in result["text"] and not result["citations"]


def test_notice_viewer_highlights_the_cited_passage(served, bot):
    c = bot.ask("How long do you keep my personal data?").citations[0]
    page = httpx.get(f"{served}/notices/{c.notice_id}", params={"start": c.start, "end": c.end}).text
    assert '<html lang="en-GB">' in page and page.count("<h1>") == 1
    # The quote is marked paragraph by paragraph; the first mark is the link target.
    marks = re.findall(r"<mark( id=\"passage\")?>(.*?)</mark>", page, re.S)
    assert marks and marks[0][0] and c.quote.startswith(html.unescape(marks[0][1]))
    assert " ".join(html.unescape(m) for _, m in marks).split() == c.quote.split()
    assert 'href="#section-how-long-do-we-keep-personal-data"' in page  # table of contents
    assert httpx.get(f"{served}/notices/no-such-notice").status_code == 404
    index = httpx.get(f"{served}/notices").text
    assert "older notice" in index and "Children and Families service privacy notice" in index


def test_staff_view_needs_a_login(served):
    page = httpx.get(f"{served}/staff/", follow_redirects=True)
    assert "Staff view" not in page.text  # the login page, not the queue
    bad = httpx.post(f"{served}/staff/login", data={"username": "alice", "password": "wrong"})
    assert bad.status_code in (400, 401)
    with httpx.Client() as client:
        ok = client.post(f"{served}/staff/login", data={"username": "alice", "password": "correct-horse"})
        assert ok.status_code == 200
        assert "Staff view" in client.get(f"{served}/staff/").text


def test_no_staff_view_without_credentials(bot, settings):
    import app

    url, server = serve(app.create_app(settings.replace(staff_credentials=None), bot=bot))
    try:
        assert httpx.get(f"{url}/staff/").status_code == 404
    finally:
        server.should_exit = True


def test_embed_example_page(served):
    page = httpx.get(f"{served}/embed-example").text
    assert '<iframe src="./" title="Ask about Wigan Council privacy notices"' in page


def test_chat_shows_what_the_resident_typed_as_text():
    import app

    assert app.user_text("<b>hi</b> *there*") == "&lt;b&gt;hi&lt;/b&gt; \\*there\\*"
    assert "jo@example.com" not in app.user_text("mail me at jo@example.com")


def test_sources_list_notice_edition_section_quote_and_link(bot):
    import app

    answer = bot.ask("How long do you keep my personal data?")
    sources = app.render_sources(answer)
    assert "**Sources**" in sources
    assert "Children and Families service privacy notice" in sources and "version 8.0" in sources
    assert "How long do we keep personal data?" in sources
    assert "We will only retain your personal data" in sources
    c = answer.citations[0]
    assert f"(notices/{c.notice_id}?start={c.start}&end={c.end}#passage)" in sources
