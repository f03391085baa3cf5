"""Text from outside: valid Unicode where it enters, no controls where it leaves."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from forensics.model.commits import CommitRecord, Person
from forensics.model.migrations import ChangeKind, MigrationChange
from forensics.model.text import clean, clean_tree, decode, for_terminal, without_controls
from tests.hostile import ANY_CHARACTER

# Saved Render output: double-encoded UTF-8 and an escaped lone surrogate in one message.
RENDER_MESSAGE = json.loads('"fix: guard \\u00f0\\u0178\\u0161\\u00a8 \\udc8f **ACTION**"')
TITLE_ATTACK = "r1\x1b]0;TITLE\x07\x1b[2J\x1b[31mred\x1b[0m"
ANY_TEXT = st.text(ANY_CHARACTER, max_size=60)


def test_clean_replaces_lone_surrogates_and_keeps_the_rest() -> None:
    cleaned = clean(RENDER_MESSAGE)
    assert cleaned == "fix: guard ðŸš¨ \ufffd **ACTION**"
    cleaned.encode("utf-8")


def test_clean_keeps_valid_text_as_it_is() -> None:
    text = "café 🚨 \u202e \x1b \u2028"
    assert clean(text) is text
    assert clean("plain") == "plain"


def test_decode_replaces_undecodable_bytes() -> None:
    assert decode(b"ok \xff\xfe caf\xc3\xa9") == "ok \ufffd\ufffd café"


def test_without_controls_keeps_newline_and_tab_only_and_drops_bidi_overrides() -> None:
    text = "a\tb\nc\x00d\x1b[2Je\rf\x7fg\x85h\x9bi\u2028j\udc8f \u202e"
    assert without_controls(text) == "a\tb\ncdefghi\u2028j\ufffd "
    assert without_controls(TITLE_ATTACK) == "r1red"
    assert without_controls("nothing to do: ✓") == "nothing to do: ✓"


def test_for_terminal_removes_sequences_controls_and_bidi_overrides() -> None:
    assert for_terminal(TITLE_ATTACK) == "r1red"
    assert for_terminal("rev \u202eevil\u202c \u2066iso\u2069") == "rev evil iso"
    assert for_terminal("two\nlines\ttab\r\n") == "two\nlines\ttab\n"
    assert for_terminal("path\u2028with\nbreaks\x85", one_line=True) == "path with breaks "
    # an unterminated OSC loses its ESC and is inert text
    assert for_terminal("x\x1b]0;title") == "x]0;title"
    assert for_terminal("plain text, émoji 🚨") == "plain text, émoji 🚨"


@given(ANY_TEXT)
def test_every_function_gives_valid_unicode(text: str) -> None:
    for result in (clean(text), without_controls(text), for_terminal(text)):
        result.encode("utf-8")
    shown = for_terminal(text, one_line=True)
    assert "\x1b" not in shown and "\n" not in shown and "\u202e" not in shown
    assert all(c in "\n\t" or not (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F) for c in shown)


def test_clean_tree_reaches_nested_strings_and_keeps_the_rest() -> None:
    at = datetime(2025, 11, 16, tzinfo=UTC)
    commit = CommitRecord(
        sha="a" * 40,
        parents=(),
        author=Person("Dudley \udc8f", "d@example.com"),
        committer=Person("Dudley", "d@example.com"),
        authored_at=at,
        committed_at=at,
        message=RENDER_MESSAGE,
        trailers=(("Co-Authored-By", "bot \ud800"),),
    )
    change = MigrationChange("a" * 40, at, "v/x.py", ChangeKind.CODE, "x\udfff")
    cleaned, kept = clean_tree((commit, [change]))
    assert cleaned.author.name == "Dudley \ufffd" and cleaned.message == clean(RENDER_MESSAGE)
    assert cleaned.trailers == (("Co-Authored-By", "bot \ufffd"),)
    assert cleaned.committer is commit.committer  # nothing to clean: the same object
    assert kept[0].revision == "x\ufffd" and kept[0].kind is ChangeKind.CODE
    valid = clean_tree(cleaned)
    assert valid is cleaned
