"""Split a notice body into passages that follow its structure.

A passage is a paragraph, or a list together with the sentence that introduces it, under
its section heading. Every passage and every quotable unit (sentence or list item) keeps
character offsets into the body, so ``body[start:end] == text`` always holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.models import Notice, Passage, Unit, content_id

# Bump when the way notices are cut changes: every index built before is then stale.
CHUNKER_VERSION = "3"  # 3: a lettered or numbered item keeps its "(a)"

MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# "- x", "* x", "• x", the private-use bullet Word exports (U+F0B7), "(a) x", "1. x", "a) x".
BULLET_MARK = "[-*\u2022\u25cf\u25aa\uf0b7\u2013]"
ENUMERATOR = r"\(?[a-z0-9]{1,3}[.)]"  # kept in the item's text (to_blocks)
ITEM = re.compile(rf"^(?:{BULLET_MARK}|{ENUMERATOR})\s+")
BULLET = re.compile(rf"^{BULLET_MARK}\s+")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u2019\u201d)]*\s+(?=[\"'\u2018\u201c(]?[A-Z0-9])")
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "Mr.", "Mrs.", "Ms.", "Dr.", "No.", "St.", "vs.")


@dataclass
class Block:
    kind: str  # "heading" | "item" | "text"
    start: int  # offset of the content (after indentation and list marker)
    end: int
    text: str
    level: int = 1
    marker_start: int = 0  # offset of the line start (for items: where the marker is)


@dataclass
class Group:
    """Consecutive blocks that make one passage before size limits are applied."""

    kind: str  # "paragraph" | "list"
    blocks: list[Block] = field(default_factory=list)
    section: str = ""


def split_lines(body: str) -> list[tuple[int, int, str]]:
    """(start, end, stripped text) for each non-blank line, offsets into body."""
    out = []
    pos = 0
    for raw in body.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if stripped:
            lead = len(line) - len(line.lstrip())
            out.append((pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw)
    return out


def to_blocks(body: str) -> list[Block]:
    blocks: list[Block] = []
    lines = split_lines(body)
    i = 0
    while i < len(lines):
        start, end, text = lines[i]
        if m := MD_HEADING.match(text):
            off = start + text.index(m.group(2)) if m.group(2) else end
            blocks.append(Block("heading", off, off + len(m.group(2)), m.group(2), len(m.group(1)), start))
            i += 1
            continue
        kind = "text"
        content_start = start
        if m := ITEM.match(text):
            kind = "item"
            # A bullet is only a mark; a letter or number ("(a)", "2.") is part of the item: the
            # notice and its readers refer to it by it.
            content_start = start + m.end() if BULLET.match(text) else start
        # A hard-wrapped paragraph: join lines while the next one continues the sentence.
        j = i
        while (
            j + 1 < len(lines)
            and not re.search(r"[.!?:;]$", lines[j][2])
            and re.match(r"[a-z]", lines[j + 1][2])
            and not ITEM.match(lines[j + 1][2])
            and body.count("\n", lines[j][1], lines[j + 1][0]) == 1
        ):
            j += 1
        end = lines[j][1]
        blocks.append(Block(kind, content_start, end, body[content_start:end], 1, start))
        i = j + 1
    return blocks


def heading_candidate(block: Block) -> bool:
    t = block.text
    return (
        block.kind == "text"
        and len(t) <= 90
        and len(t.split()) <= 12
        and not re.search(r"[.,;:]$", t)
        and ":" not in t
        and (t[0].isupper() or t[0].isdigit())
    )


def short_line(block: Block) -> bool:
    return block.kind == "text" and len(block.text) <= 90 and not re.search(r"[.!?]$", block.text)


def is_intro(block: Block) -> bool:
    return block.kind == "text" and bool(re.search(r"[:;]$", block.text))


def classify(blocks: list[Block]) -> list[Block]:
    """Mark plain-text headings: short unpunctuated lines followed by body text.

    After a line such as "Contact details:" short lines are that list's lines (an
    address), unless a long paragraph follows them, as it follows a heading.
    """
    in_list = False
    for i, b in enumerate(blocks):
        if b.kind != "text":
            in_list = in_list and b.kind == "item"
            continue
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        prev = blocks[i - 1] if i else None
        heading = heading_candidate(b) and nxt is not None and not heading_candidate(nxt)
        if heading and in_list and prev is not None and prev.kind != "item":
            heading = nxt.kind == "text" and (len(nxt.text) > 90 or nxt.text.endswith("."))
        if heading:
            b.kind = "heading"
            in_list = False
        elif is_intro(b):
            in_list = True
        elif len(b.text) > 90 or re.search(r"[.!?]$", b.text):
            in_list = False
    return blocks


def group_blocks(blocks: list[Block]) -> tuple[list[Group], list[str]]:
    groups: list[Group] = []
    path: list[tuple[int, str]] = []
    headings: list[str] = []
    current: Group | None = None

    def open_group(kind: str, b: Block) -> Group:
        g = Group(kind, [b], " > ".join(t for _, t in path))
        groups.append(g)
        return g

    for b in blocks:
        if b.kind == "heading":
            while path and path[-1][0] >= b.level:
                path.pop()
            path.append((b.level, b.text))
            headings.append(b.text)
            current = None
        elif b.kind == "item":
            if current is not None and (
                current.kind == "list"
                or len(current.blocks) == 1 and not re.search(r"[.!?]$", current.blocks[0].text)
            ):
                # A list, or the one unfinished sentence just before it that introduces it.
                current.kind = "list"
                current.blocks.append(b)
            else:
                current = open_group("list", b)
        elif (
            current is not None
            and is_intro(current.blocks[0])
            and (
                len(current.blocks) == 1
                or short_line(b) and current.blocks[-1].kind == "text"
            )
        ):
            # "... criminal offence data:" and the paragraph it introduces, or
            # "Contact details:" and the address lines under it.
            current.kind = "list"
            current.blocks.append(b)
        else:
            current = open_group("paragraph", b)
    return groups, headings


def is_contents(group: Group, headings: list[str]) -> bool:
    """A list whose every item is one of the notice's own headings is a table of contents."""
    norm = {re.sub(r"[\W_]+", " ", h).strip().lower() for h in headings}
    items = [b for b in group.blocks if b.kind == "item"]
    return (
        group.kind == "list"
        and len(items) >= 3
        and len(items) == len(group.blocks)
        and all(re.sub(r"[\W_]+", " ", b.text).strip().lower() in norm for b in items)
    )


def is_page_chrome(group: Group) -> bool:
    """A bare short line before the first heading ("Home Page", "Privacy Notice"): the web
    page's navigation or title copied with the notice, not something a notice says."""
    b = group.blocks[0]
    return not group.section and len(group.blocks) == 1 and short_line(b) and len(b.text.split()) <= 4


def sentences(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans within body[start:end]."""
    text = body[start:end]
    spans = []
    pos = 0
    for m in SENTENCE_END.finditer(text):
        head = text[pos : m.start() + 1].rstrip()
        if head.endswith(ABBREVIATIONS):
            continue
        spans.append((start + pos, start + pos + len(head)))
        pos = m.end()
    if text[pos:].strip():
        tail = text[pos:].rstrip()
        spans.append((start + pos, start + pos + len(tail)))
    return spans


def block_units(body: str, b: Block, intro: bool) -> list[Unit]:
    if b.kind == "item":
        return [Unit(start=b.start, end=b.end, text=b.text, kind="item")]
    kind = "intro" if intro else "sentence"
    return [Unit(start=s, end=e, text=body[s:e], kind=kind) for s, e in sentences(body, b.start, b.end)]


def chunk_notice(notice: Notice, max_chars: int = 800) -> list[Passage]:
    """Passages of one notice, in body order."""
    body = notice.body
    groups, headings = group_blocks(classify(to_blocks(body)))
    passages: list[Passage] = []
    seen: dict[str, int] = {}

    def emit(kind: str, section: str, units: list[Unit], start: int, context: str = "") -> None:
        end = units[-1].end
        text = body[start:end]
        key = f"{section}\x1f{context}\x1f{text}"
        seen[key] = seen.get(key, 0) + 1
        pid = content_id(notice.id, key, str(seen[key]))
        passages.append(
            Passage(id=pid, notice_id=notice.id, section=section, text=text, start=start, end=end,
                    kind=kind, context=context, units=units)  # fmt: skip
        )

    for g in groups:
        if is_contents(g, headings) or is_page_chrome(g):
            continue
        intro_block = g.blocks[0] if g.kind == "list" and g.blocks[0].kind == "text" else None
        units: list[Unit] = []
        for b in g.blocks:
            units.extend(block_units(body, b, intro=b is intro_block))
        # Pack units into passages of at most max_chars; a list's later pieces carry its intro.
        piece: list[Unit] = []
        first = True
        context = ""
        for u in units:
            start = piece[0].start if piece else u.start
            if piece and u.end - start > max_chars:
                emit(g.kind, g.section, piece, piece_start(g, piece, first), "" if first else context)
                if first and intro_block is not None:
                    context = intro_block.text
                first = False
                piece = []
            piece.append(u)
        if piece:
            emit(g.kind, g.section, piece, piece_start(g, piece, first), "" if first else context)
    return merge_paragraphs(notice, passages, max_chars)


def merge_paragraphs(notice: Notice, passages: list[Passage], max_chars: int) -> list[Passage]:
    """Join neighbouring short paragraphs of one section into passages of up to ``max_chars``.

    Notices are written in one- or two-sentence paragraphs; a passage of one sentence
    loses the sentences that explain it ("This is not an exhaustive list."). Lists are
    left alone: they already travel with their intro.
    """
    out: list[Passage] = []
    run: list[Passage] = []

    def flush() -> None:
        if len(run) == 1:
            out.append(run[0])
        elif run:
            start, end = run[0].start, run[-1].end
            text = notice.body[start:end]
            out.append(Passage(
                id=content_id(notice.id, run[0].section, str(start), text), notice_id=notice.id,
                section=run[0].section, text=text, start=start, end=end, kind="paragraph",
                units=[u for p in run for u in p.units],
            ))  # fmt: skip
        run.clear()

    for p in passages:
        fits = run and p.kind == "paragraph" and p.section == run[0].section and p.end - run[0].start <= max_chars
        if not fits:
            flush()
        if p.kind == "paragraph":
            run.append(p)
        else:
            out.append(p)
    flush()
    return out


def piece_start(g: Group, piece: list[Unit], first: bool) -> int:
    # The first piece of a list starts at the first block's marker, so "- " is inside it.
    if first:
        return g.blocks[0].marker_start if g.blocks[0].kind == "item" else piece[0].start
    return piece[0].start


def first_heading(body: str) -> str | None:
    for b in classify(to_blocks(body)):
        if b.kind == "heading":
            return b.text
    return None
