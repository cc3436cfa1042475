"""Typo mending: one edit away, and the same mend in every process."""

import os
import subprocess
import sys

from assistant.glossary import Speller
from tests.conftest import ROOT

VOCAB = {"chang": 3, "charge": 5, "process": 9, "police": 7, "polite": 1, "information": 40}


def test_a_word_one_edit_from_a_corpus_word_is_mended():
    s = Speller(VOCAB)
    assert s.near("proces") == "process"  # a letter missing
    assert s.near("informaton") == "information"
    assert s.near("police") == "police"  # a corpus word stays itself
    assert s.near("zebra") is None and s.near("polic") is not None
    assert s.near("poli") is None  # too short to guess


def test_a_letter_too_many_beats_a_letter_changed_and_frequency_breaks_ties():
    s = Speller(VOCAB)
    # 'change' is 'chang' plus a letter, and 'charge' with a letter changed.
    assert s.near("change") == "chang"
    # 'polide' is one letter changed from both 'police' and 'polite': the commoner word wins.
    assert s.near("polide") == "police"


def test_the_same_word_is_mended_alike_whatever_the_string_hashing():
    code = (
        "from assistant.glossary import Speller;"
        f"s = Speller({VOCAB!r});"
        "print([s.near(w) for w in ('change', 'polide', 'proces', 'chargx', 'polic')])"
    )
    outs = set()
    for seed in map(str, range(1, 9)):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
        outs.add(proc.stdout.strip())
    assert len(outs) == 1, outs
