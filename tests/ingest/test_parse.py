from pathlib import Path

import pytest

from ingest.parse import NoticeError, load_notice, load_notices


@pytest.mark.parametrize(
    "content, why",
    [
        (b"", "has no notice text"),
        (b"   \n\n  ", "has no notice text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"caf\xe9 notice text", "not UTF-8"),
        (b"---\ntitle: [unclosed\n---\nBody text.\n", "bad front matter"),
        (b"---\ntitle: A\nBody text with no closing line\n", "never closed"),
        (b"---\nstatus: draft\n---\nBody.\n", "status"),
        (b"---\neffective: last spring\n---\nBody.\n", "not an ISO date"),
        (b"---\ncolour: blue\n---\nBody.\n", "unknown field"),
        (b"---\n- a\n- b\n---\nBody.\n", "key: value"),
    ],
)
def test_broken_notice_gives_one_clear_line_naming_the_file(tmp_path: Path, content: bytes, why: str):
    f = tmp_path / "broken.md"
    f.write_bytes(content)
    with pytest.raises(NoticeError) as e:
        load_notice(f)
    msg = str(e.value)
    assert str(f) in msg and why in msg and "\n" not in msg


def test_unreadable_file(tmp_path: Path):
    # A path that cannot be read as a file (root can read any mode, so use a folder).
    f = tmp_path / "folder.md"
    f.mkdir()
    with pytest.raises(NoticeError, match="cannot be read"):
        load_notice(f)


def test_front_matter_fields_are_read(tmp_path: Path):
    f = tmp_path / "x.md"
    f.write_text("---\ntitle: Housing notice\nversion: 2\neffective: 2024-03-01\nstatus: superseded\n---\nWe keep data.\n")
    n = load_notice(f)
    assert (n.id, n.title, n.version, n.effective, n.status) == ("x", "Housing notice", "2", "2024-03-01", "superseded")
    assert n.body == "We keep data.\n"


def test_empty_folder_and_duplicate_ids(tmp_path: Path):
    with pytest.raises(NoticeError, match="no notice files"):
        load_notices(tmp_path)
    (tmp_path / "a.md").write_text("---\nid: same\n---\nOne.\n")
    (tmp_path / "b.md").write_text("---\nid: same\n---\nTwo.\n")
    with pytest.raises(NoticeError, match="same notice id"):
        load_notices(tmp_path)
