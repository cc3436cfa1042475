"""Read notice files (.md, .txt, .html with optional YAML front matter) into ``Notice``s."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import yaml
from pydantic import ValidationError

from assistant.models import Notice

SUFFIXES = (".md", ".txt", ".html", ".htm")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n", re.S | re.M)
ID_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
MAX_BYTES = 5_000_000


class NoticeError(Exception):
    """A notice file that cannot be ingested; the message names the file and why."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


def notice_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise NoticeError(folder, "is not a folder of notices")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise NoticeError(path, f"cannot be read ({e.strerror or e})") from None
    if len(raw) > MAX_BYTES:
        raise NoticeError(path, f"is {len(raw):,} bytes; a notice may be at most {MAX_BYTES:,}")
    if b"\x00" in raw:
        raise NoticeError(path, "is a binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise NoticeError(path, f"is not UTF-8 text (bad byte at position {e.start})") from None
    if re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        raise NoticeError(path, "contains control characters; is it a binary file?")
    return text


def split_front_matter(path: Path, text: str) -> tuple[dict, str]:
    m = FRONT_MATTER.match(text)
    if not m:
        if text.startswith("---\n") or text.startswith("---\r\n"):
            raise NoticeError(path, "front matter opened with '---' but never closed")
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" at line {where.line + 2}" if where is not None else ""
        raise NoticeError(path, f"bad front matter{line}: {getattr(e, 'problem', e)}") from None
    if not isinstance(meta, dict):
        raise NoticeError(path, "bad front matter: expected 'key: value' lines")
    return meta, text[m.end() :]


def iso(path: Path, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            dt.date.fromisoformat(text)
            return text
        if re.fullmatch(r"\d{4}-\d{2}", text) and 1 <= int(text[5:]) <= 12:
            return text
        if re.fullmatch(r"\d{4}", text):
            return text
    except ValueError:
        pass
    raise NoticeError(path, f"bad front matter: effective '{text}' is not an ISO date (YYYY-MM-DD)")


class _HTMLText(HTMLParser):
    """Visible text of an HTML notice: headings and paragraphs on lines of their own."""

    BLOCK = {"p", "div", "section", "article", "br", "tr", "table", "ul", "ol", "main", "header", "footer"}
    SKIP = {"script", "style", "head", "nav", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.title: str | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):  # noqa: ANN001
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCK or tag == "li":
            self.parts.append("\n")

    def handle_data(self, data):  # noqa: ANN001
        if self._in_title:
            self.title = (self.title or "") + data.strip()
        elif not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = [ln.strip() for ln in "".join(self.parts).splitlines()]
        out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        return out + "\n"


def load_notice(path: Path) -> Notice:
    """One notice from one file, or ``NoticeError`` saying what is wrong with it."""
    text = read_text(path)
    meta, body = split_front_matter(path, text)
    html_title = None
    if path.suffix.lower() in (".html", ".htm"):
        parser = _HTMLText()
        parser.feed(body)
        body, html_title = parser.text(), parser.title
    if not body.strip():
        raise NoticeError(path, "has no notice text")
    known = {"id", "title", "service", "owner", "version", "effective", "source", "status"}
    unknown = sorted(set(meta) - known)
    if unknown:
        raise NoticeError(path, f"bad front matter: unknown field(s) {', '.join(map(str, unknown))}")
    notice_id = str(meta.get("id") or path.stem)
    if not ID_OK.match(notice_id):
        raise NoticeError(path, f"'{notice_id}' is not usable as a notice id (letters, digits, . _ -)")
    from ingest.chunk import first_heading

    fields = {k: (str(v) if v is not None else None) for k, v in meta.items() if k not in {"effective", "id"}}
    fields["effective"] = iso(path, meta.get("effective"))
    fields["title"] = fields.get("title") or html_title or first_heading(body) or path.stem
    try:
        return Notice(id=notice_id, body=body, path=str(path), **fields)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise NoticeError(path, f"bad front matter: {where}: {err['msg']}") from None


def load_notices(folder: Path) -> list[Notice]:
    """Every notice in the folder; the first broken file stops it with ``NoticeError``."""
    notices = [load_notice(p) for p in notice_files(folder)]
    if not notices:
        raise NoticeError(folder, "holds no notice files (.md, .txt or .html)")
    seen: dict[str, str] = {}
    for n in notices:
        if n.id in seen:
            raise NoticeError(Path(n.path or n.id), f"has the same notice id '{n.id}' as {seen[n.id]}")
        seen[n.id] = n.path or n.id
    return notices
