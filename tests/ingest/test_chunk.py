from pathlib import Path

import pytest

from assistant.models import Notice
from ingest.chunk import chunk_notice
from ingest.parse import load_notice
from tests.conftest import SEEDS

CHILDREN = "wigan-children-and-families"
EDUCATION = "wigan-local-authority-education-2017"


def test_offsets_round_trip_for_every_passage_and_unit(notices):
    for notice in notices.values():
        passages = chunk_notice(notice)
        assert len(passages) > 10
        for p in passages:
            assert notice.body[p.start : p.end] == p.text
            for u in p.units:
                assert notice.body[u.start : u.end] == u.text
                assert p.start <= u.start < u.end <= p.end


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seeds not beside the checkout")
def test_knowledge_bodies_are_the_seed_notices_word_for_word(notices):
    assert notices[CHILDREN].body == (SEEDS / "000_5373181c95c98c6c.txt").read_text(encoding="utf-8")
    assert notices[EDUCATION].body == (SEEDS / "002_625983676c34e740.txt").read_text(encoding="utf-8")


def test_sections_follow_the_notice_headings(notices):
    sections = {p.section for p in chunk_notice(notices[CHILDREN])}
    for heading in ("Introduction", "What personal data do we collect?", "Who do we share personal data with?",
                    "How long do we keep personal data?", "Automated decisions", "Data Protection Officer"):  # fmt: skip
        assert heading in sections
    old = {p.section for p in chunk_notice(notices[EDUCATION])}
    assert "Access to your information and correction" in old
    assert "What information do we share?" in old
    # Address lines under "Contact details:" are not headings.
    assert "Civic Centre" not in old and "Wigan Council" not in old


def test_list_is_kept_with_the_sentence_that_introduces_it(notices):
    passages = chunk_notice(notices[CHILDREN])
    sharing = [p for p in passages if p.section == "Who do we share personal data with?" and p.kind == "list"]
    assert sharing[0].text.startswith("In addition to the general reasons")
    assert sharing[0].units[0].kind == "intro"
    items = [u.text for p in sharing for u in p.units if u.kind == "item"]
    assert "The police" in items and "The Probation Service" in items and len(items) == 17
    # Later pieces of a long list carry the intro as context for search.
    assert all(p.context.startswith("In addition to the general reasons") for p in sharing[1:])


def test_a_lettered_item_keeps_its_letter_and_a_bullet_does_not(notices):
    """The notice refers to "(a)"... as part of the item; "- " is only a mark."""
    units = [u.text for p in chunk_notice(notices[EDUCATION]) for u in p.units if u.kind == "item"]
    assert "(a) physical and mental health and emotional well-being;" in units
    assert "(e) social and economic well-being." in units
    items = [u.text for p in chunk_notice(notices[CHILDREN]) for u in p.units if u.kind == "item"]
    assert "The police" in items and not any(t.startswith("-") for t in items)


def test_table_of_contents_is_not_a_passage(notices):
    texts = [p.text for p in chunk_notice(notices[CHILDREN])]
    assert not any(t.startswith("- Introduction") for t in texts)


def test_passages_stay_under_the_size_limit(notices):
    for notice in notices.values():
        for p in chunk_notice(notice, max_chars=700):
            assert len(p.text) <= 700 or len(p.units) == 1


def test_ids_are_stable_content_hashes(notices):
    a = [p.id for p in chunk_notice(notices[CHILDREN])]
    b = [p.id for p in chunk_notice(notices[CHILDREN].model_copy())]
    assert a == b and len(set(a)) == len(a)


def test_plain_text_file_without_front_matter(tmp_path: Path):
    f = tmp_path / "parking-permits.txt"
    f.write_text("Parking permits privacy notice\n\nWe keep your vehicle registration for two years.\n\n"
                 "Who we share it with\n\nWe share data with the following:\n- The DVLA\n- Enforcement agents\n")  # fmt: skip
    n = load_notice(f)
    assert n.id == "parking-permits" and n.title == "Parking permits privacy notice"
    ps = chunk_notice(n)
    listp = [p for p in ps if p.kind == "list"][0]
    assert listp.section == "Who we share it with"
    assert [u.text for u in listp.units] == ["We share data with the following:", "The DVLA", "Enforcement agents"]


def test_html_notice(tmp_path: Path):
    f = tmp_path / "libraries.html"
    f.write_text("<html><head><title>Libraries notice</title><script>x=1</script></head><body>"
                 "<h1>Libraries privacy notice</h1><h2>How long we keep data</h2><p>We keep loan records for 12 months.</p>"
                 "<ul><li>Name</li><li>Card number</li></ul></body></html>")  # fmt: skip
    n = load_notice(f)
    assert n.title == "Libraries notice"
    assert "x=1" not in n.body
    ps = chunk_notice(n)
    assert any(p.text == "We keep loan records for 12 months." and p.section.endswith("How long we keep data") for p in ps)


def test_notice_model_edition_labels():
    n = Notice(id="x", title="T", version="8.0", effective="2025-12", body="b")
    assert n.edition == "version 8.0, December 2025"
    assert Notice(id="y", title="T", effective="2017-06-06", body="b").edition == "effective 6 June 2017"
