"""The notice viewer: every notice as a plain, accessible HTML page (no Gradio, no scripts).

A passage can be highlighted by its character offsets (``?start=&end=``) and each section
heading has an anchor, so a cited source opens the notice at its section and passage.
"""

from __future__ import annotations

import html
import re

from assistant.models import Notice
from ingest.chunk import classify, to_blocks

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: Arial, Helvetica, sans-serif; font-size: 1.1875rem; line-height: 1.5; color: #0b0c0c;
       margin: 0 auto; padding: 0 1rem 3rem; max-width: 46rem; overflow-wrap: anywhere; }}
a {{ color: #1d70b8; }} a:visited {{ color: #4c2c92; }}
a:focus {{ outline: 3px solid #ffdd00; background: #ffdd00; color: #0b0c0c; text-decoration: none; }}
.skip {{ position: absolute; left: -999rem; }} .skip:focus {{ position: static; }}
mark {{ background: #ffdd00; color: #0b0c0c; padding: 0 .1em; }}
.meta {{ color: #484949; }} .older {{ border-left: 5px solid #d4351c; padding-left: .8rem; }}
nav ul {{ padding-left: 1.2rem; }} h1 {{ font-size: 2rem; line-height: 1.2; }}
</style>
</head>
<body>
<a class="skip" href="#main">Skip to the notice</a>
<header><p><a href="{home}">Back to the privacy-notice assistant</a></p></header>
<main id="main">
{content}
</main>
</body>
</html>
"""


def slug(text: str) -> str:
    return "section-" + (re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "top")


def _marked(body: str, start: int, end: int, lo: int | None, hi: int | None) -> str:
    """body[start:end] as HTML, with the part inside [lo, hi) wrapped in <mark>."""
    if lo is None or hi is None or hi <= start or lo >= end:
        return html.escape(body[start:end])
    a, b = max(start, lo), min(end, hi)
    first = ' id="passage"' if a == lo else ""
    return (html.escape(body[start:a]) + f"<mark{first}>" + html.escape(body[a:b]) + "</mark>"
            + html.escape(body[b:end]))  # fmt: skip


def notice_html(notice: Notice, lo: int | None = None, hi: int | None = None, home: str = "../") -> str:
    blocks = classify(to_blocks(notice.body))
    toc, parts, in_list = [], [], False
    for b in blocks:
        if b.kind != "item" and in_list:
            parts.append("</ul>")
            in_list = False
        text = _marked(notice.body, b.start, b.end, lo, hi)
        if b.kind == "heading":
            anchor = slug(b.text)
            toc.append(f'<li><a href="#{anchor}">{html.escape(b.text)}</a></li>')
            parts.append(f'<h2 id="{anchor}">{text}</h2>')
        elif b.kind == "item":
            if not in_list:
                parts.append("<ul>")
                in_list = True
            parts.append(f"<li>{text}</li>")
        else:
            parts.append(f"<p>{text}</p>")
    if in_list:
        parts.append("</ul>")
    meta = [("Service", notice.service), ("Owner", notice.owner), ("Version", notice.version),
            ("Effective", notice.date_label), ("Status", "current" if notice.status == "current" else "older notice, replaced")]  # fmt: skip
    dl = "".join(f"<dt>{k}</dt><dd>{html.escape(v)}</dd>" for k, v in meta if v)
    older = (f'<p class="older"><strong>This is an older notice</strong> (effective {html.escape(notice.date_label or "unknown")}). '
             "It may have been replaced by a newer one.</p>") if notice.status == "superseded" else ""  # fmt: skip
    jump = '<p><a href="#passage">Go to the highlighted passage</a></p>' if lo is not None and hi is not None else ""
    content = (
        f"<h1>{html.escape(notice.title)}</h1>{older}<dl class=\"meta\">{dl}</dl>{jump}"
        + (f'<nav aria-label="Sections of this notice"><h2>Contents</h2><ul>{"".join(toc)}</ul></nav>' if toc else "")
        + "".join(parts)
    )
    return PAGE.format(title=html.escape(notice.title), content=content, home=home)


def index_html(notices: list[Notice], home: str = "../") -> str:
    items = []
    for n in sorted(notices, key=lambda n: (n.status != "current", n.title)):
        label = html.escape(n.title) + (f" ({html.escape(n.edition)})" if n.edition else "")
        older = " — older notice" if n.status == "superseded" else ""
        items.append(f'<li><a href="notices/{html.escape(n.id)}">{label}</a>{older}</li>')
    content = "<h1>Wigan Council privacy notices</h1><ul>" + "".join(items) + "</ul>"
    return PAGE.format(title="Privacy notices", content=content, home=home)
