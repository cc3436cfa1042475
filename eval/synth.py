"""Synthetic notice corpora for scale tests, made by recombining the real notices' passages.

Every synthetic notice takes one real notice as its skeleton (its headings, in order) and
fills each section with a shuffled sample of that section's real paragraphs and lists,
the service name swapped for another council service, and its own retention period,
partner organisations, version and date. Same seed, same files. The real notices' ids
never appear (synthetic ids start with ``synth-``): a scale run adds the real notices
alongside, so gold questions about them still have exactly one right place to look.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from assistant.models import Notice
from assistant.settings import PROJECT_ROOT, Settings
from ingest.chunk import ITEM, chunk_notice
from ingest.parse import load_notices

EXAMPLES = """examples:
  python -m eval.synth /tmp/synth-1k --passages 1000
  python -m eval.synth /tmp/synth-100k --passages 100000 --seed 7
"""

PREFIX = "synth-"

SERVICES: dict[str, dict[str, list[str]]] = {
    "Adult Social Care": {"data": ["Care and support plans", "Carer details", "Financial assessment information"],
                          "records": ["care records", "financial assessments"]},
    "Housing": {"data": ["Tenancy reference", "Household composition", "Housing needs assessment"],
                "records": ["tenancy files", "housing applications"]},
    "Council Tax": {"data": ["Council tax account number", "Property reference", "Discount and exemption details"],
                    "records": ["council tax accounts", "recovery records"]},
    "Libraries": {"data": ["Library card number", "Loan history", "Computer booking records"],
                  "records": ["membership records", "loan histories"]},
    "Parking": {"data": ["Vehicle registration mark", "Penalty charge notice number", "Permit details"],
                "records": ["penalty charge records", "permit applications"]},
    "Waste": {"data": ["Collection address", "Assisted collection needs", "Bulky waste booking details"],
              "records": ["collection records", "service requests"]},
    "Licensing": {"data": ["Licence number", "Premises details", "Basic disclosure certificate"],
                  "records": ["licence files", "enforcement records"]},
    "Planning": {"data": ["Application reference", "Site address", "Comments on applications"],
                 "records": ["planning applications", "enforcement cases"]},
    "Leisure": {"data": ["Membership number", "Class bookings", "Health questionnaire answers"],
                "records": ["membership records", "incident reports"]},
    "Registrars": {"data": ["Birth, death and marriage details", "Ceremony bookings", "Identity documents"],
                   "records": ["ceremony bookings", "certificate orders"]},
    "Public Health": {"data": ["Health survey responses", "Screening invitations", "Service referral details"],
                      "records": ["programme records", "referral records"]},
    "Schools Admissions": {"data": ["Preferred schools", "Sibling details", "Home to school distance"],
                           "records": ["admission applications", "appeal files"]},
    "Environmental Health": {"data": ["Complaint details", "Food business registration", "Inspection reports"],
                             "records": ["inspection records", "complaint files"]},
    "Electoral Services": {"data": ["Electoral number", "Nationality", "Postal vote preferences"],
                           "records": ["registration forms", "postal vote identifiers"]},
    "Highways": {"data": ["Claim details", "Street works permits", "Photographs of defects"],
                 "records": ["insurance claims", "permit files"]},
    "Revenues and Benefits": {"data": ["Income details", "Housing Benefit claim number", "Bank statements"],
                              "records": ["benefit claims", "overpayment records"]},
}

PARTNERS = [
    "Greater Manchester Police", "NHS Greater Manchester", "HM Revenue and Customs", "Department for Work and Pensions",
    "the Valuation Office Agency", "Citizens Advice Wigan and Leigh", "the Care Quality Commission", "Ofsted",
    "Greater Manchester Combined Authority", "HM Land Registry", "the Driver and Vehicle Licensing Agency",
    "the Environment Agency", "the Food Standards Agency", "the Disclosure and Barring Service",
    "the Cabinet Office (National Fraud Initiative)", "enforcement agents acting for the council",
    "our IT and software suppliers", "the Local Government and Social Care Ombudsman", "Wigan and Leigh Hospice",
    "Greater Manchester Fire and Rescue Service", "the Probation Service", "the Home Office", "HM Courts and Tribunals Service",
]
EVENTS = ["the case is closed", "your last contact with us", "the end of the financial year", "the account is closed",
          "the application is decided", "the person's death", "the 25th birthday of the child concerned"]
PEOPLE = ["Alex Morgan", "Sam Patel", "Jordan Hughes", "Priya Shah", "Chris Walsh", "Nadia Khan", "Lee Turner", "Ruth Owen"]
ROLES = ["Assistant Director", "Service Manager", "Head of Service", "Information Governance Lead"]


@dataclass
class Segment:
    kind: str  # "paragraph" | "list"
    intro: str = ""
    items: list[str] = field(default_factory=list)
    ordered: bool = False  # lines with no list markers (an address): never shuffled or sampled


@dataclass
class Template:
    """One real notice reduced to (heading, segments) in body order."""

    sections: list[tuple[str, list[Segment]]]


def segment_of(text: str, kind: str) -> Segment | None:
    if kind == "paragraph":
        flat = " ".join(text.split())
        # "Home Page", "Privacy Notice": web-page furniture, not notice content.
        return Segment("paragraph", items=[flat]) if len(flat) >= 25 or flat.endswith(".") else None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    intro = "" if ITEM.match(lines[0]) else " ".join(lines.pop(0).split())
    marked = any(ITEM.match(ln) for ln in lines)
    items = [" ".join(ITEM.sub("", ln).split()) for ln in lines]
    items = [i for i in items if i]
    if not items:
        return Segment("paragraph", items=[intro]) if intro else None
    return Segment("list", intro=intro, items=items, ordered=not marked)


def template_of(notice: Notice) -> Template:
    """Sections and their segments; a long list split at ingest is one segment again."""
    spans: list[tuple[str, str, int, int]] = []  # (section, kind, start, end)
    for p in chunk_notice(notice):
        if p.context and spans and spans[-1][0] == p.section:
            s, k, a, _ = spans[-1]
            spans[-1] = (s, k, a, p.end)
        else:
            spans.append((p.section, p.kind, p.start, p.end))
    sections: dict[str, list[Segment]] = {}
    for section, kind, a, b in spans:
        heading = section.split(" > ")[-1] if section else ""
        if heading.lower().startswith("document information"):
            continue  # regenerated per notice
        seg = segment_of(notice.body[a:b], kind)
        if seg is not None:
            sections.setdefault(heading, []).append(seg)
    return Template(list(sections.items()))


def substitutions(service: str, when: dt.date) -> list[tuple[re.Pattern[str], str]]:
    month_year = when.strftime("%B %Y")
    pairs = [
        (r"Children and Families", service),
        (r"children and families", service.lower()),
        (r"[Cc]hildren[’']s services", f"{service} services"),
        (r"Education Business Intelligence Unit", f"{service} Business Intelligence Unit"),
        (r"last updated in [A-Z][a-z]+ \d{4}", f"last updated in {month_year}"),
        (r"Effective from: .*", f"Effective from: {when.day} {month_year}"),
    ]
    return [(re.compile(p), r) for p, r in pairs]


def render(seg: Segment, subs: list[tuple[re.Pattern[str], str]]) -> str:
    def sub(text: str) -> str:
        for pattern, repl in subs:
            text = pattern.sub(repl, text)
        return text

    if seg.kind == "paragraph":
        return sub(seg.items[0])
    lines = ([sub(seg.intro)] if seg.intro else []) + [f"- {sub(i)}" for i in seg.items]
    return "\n".join(lines)


def synth_notice(rng: random.Random, templates: list[Template], n: int) -> tuple[str, dict[str, str], str]:
    """(notice id, front matter, body) of synthetic notice number ``n``."""
    service = rng.choice(list(SERVICES))
    details = SERVICES[service]
    slug = re.sub(r"[^a-z0-9]+", "-", service.lower()).strip("-")
    nid = f"{PREFIX}{slug}-{n:05d}"
    when = dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(3650))
    version = f"{rng.randint(1, 12)}.{rng.randint(0, 9)}"
    title = rng.choice([f"{service} privacy notice", f"{service} service privacy notice", f"Privacy notice: {service}"])
    meta = {"title": title, "service": service, "version": version, "effective": when.isoformat(),
            "status": "superseded" if rng.random() < 0.2 else "current"}  # fmt: skip
    subs = substitutions(service, when)

    tpl = rng.choice(templates)
    out = [f"# {title}"]
    has_keep = False
    for heading, segments in tpl.sections:
        if heading and rng.random() < 0.15:
            continue  # some notices leave a section out
        keep = [s for s in segments if rng.random() < 0.8] or [rng.choice(segments)]
        if rng.random() < 0.5:
            rng.shuffle(keep)
        chosen = []
        for s in keep:
            if s.kind == "list" and not s.ordered:
                items = list(s.items)
                rng.shuffle(items)
                items = items[: max(1, round(len(items) * rng.uniform(0.6, 1.0)))]
                s = Segment("list", s.intro, items)
            chosen.append(s)
        low = heading.lower()
        if "collect" in low or "information do we" in low:
            chosen.append(Segment("list", f"For the {service} service we also process:",
                                  rng.sample(details["data"], rng.randint(1, len(details["data"])))))  # fmt: skip
        if "share" in low:
            chosen.append(Segment("list", "We may also share personal data with the following organisations:",
                                  rng.sample(PARTNERS, rng.randint(3, 7))))  # fmt: skip
        if "keep" in low or "access" in low:
            has_keep = True
            chosen.append(retention(rng, details))
        if heading:
            out.append(f"## {heading}")
        out.extend(render(s, subs) for s in chosen)
    if not has_keep:
        out += ["## How long do we keep personal data?", render(retention(rng, details), subs)]
    out += [
        "## Document information",
        f"Owner: {rng.choice(PEOPLE)}, {rng.choice(ROLES)}, {service}",
        f"Version and date: V{version} {when.strftime('%B %Y')}",
    ]
    return nid, meta, "\n\n".join(out) + "\n"


def retention(rng: random.Random, details: dict[str, list[str]]) -> Segment:
    years = rng.choice([1, 2, 3, 6, 7, 10, 15, 25, 40, 75])
    text = (f"We keep {rng.choice(details['records'])} for {years} year{'s' if years > 1 else ''} after "
            f"{rng.choice(EVENTS)}. After that, they are securely destroyed.")  # fmt: skip
    return Segment("paragraph", items=[text])


def front_matter(meta: dict[str, str]) -> str:
    # JSON strings are valid YAML scalars: titles with ':' stay strings, versions stay "8.0".
    lines = [f"{k}: {v if k == 'effective' else json.dumps(v)}" for k, v in meta.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"


def make_corpus(out_dir: Path, target_passages: int, seed: int = 0, knowledge: Path | None = None,
                max_chars: int | None = None) -> int:  # fmt: skip
    """Write synthetic notices into ``out_dir`` until they hold about ``target_passages``; files written.

    Passages are counted as ingest cuts them (``max_chars``, by default the configured passage size).
    Earlier ``synth-*`` files in ``out_dir`` are removed first; nothing else there is touched.
    """
    max_chars = max_chars or Settings().max_passage_chars
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(f"{PREFIX}*.md"):
        old.unlink()
    real = load_notices(knowledge or PROJECT_ROOT / "knowledge")
    real_ids = {n.id for n in real}
    templates = [template_of(n) for n in real]
    rng = random.Random(seed)
    total = files = 0
    while total < target_passages:
        nid, meta, body = synth_notice(rng, templates, files)
        assert nid not in real_ids
        total += len(chunk_notice(Notice(id=nid, title=meta["title"], body=body), max_chars))
        (out_dir / f"{nid}.md").write_text(front_matter(meta) + body, encoding="utf-8")
        files += 1
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.synth", description=__doc__.splitlines()[0], epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("out", type=Path, help="folder to write the notice files into")
    parser.add_argument("--passages", type=int, default=1000, help="about this many passages (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--knowledge", type=Path, help="real notices to recombine (default knowledge/)")
    args = parser.parse_args(argv)
    from ingest.parse import NoticeError

    try:
        n = make_corpus(args.out, args.passages, args.seed, args.knowledge)
    except NoticeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {n} notice files (about {args.passages:,} passages) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
