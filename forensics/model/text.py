"""Text from outside, made safe where it enters and where it leaves.

Where text enters the model (git output, deploy files and APIs, health bodies, database
values) it goes through ``clean`` or ``decode``: valid Unicode, with every lone surrogate
(a JSON ``\\udc8f`` escape, a byte kept by ``surrogateescape``) and every undecodable byte
as U+FFFD, so that writing it as UTF-8 can never fail. ``clean_tree`` does the same over
a whole model object, for the Report as it leaves the pipeline.

Where text leaves for people: ``without_controls`` for the .md and .html files and
``for_terminal`` for everything printed: no escape sequence, no C0 or C1 control character
but newline and tab, no bidirectional override.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")
# C0 but tab and newline, DEL, C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# CSI (colours, cursor moves, clear screen) and terminated OSC (window titles, links) go
# whole; of any other sequence only the ESC goes, which leaves it inert text.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)")
# Embeddings, overrides and isolates reorder what a page or a terminal shows ("Trojan Source").
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
# Any character that ``without_controls`` changes: most text has none, and one scan says so.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` as valid Unicode: each lone surrogate becomes U+FFFD. Nothing else
    changes; text that is already valid is returned as it is."""
    if text.isascii():
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def decode(data: bytes) -> str:
    """Untrusted bytes as UTF-8 text, never rejected: undecodable bytes become U+FFFD."""
    return data.decode("utf-8", errors="replace")


def without_controls(text: str) -> str:
    """Valid Unicode without escape sequences, without C0 or C1 control characters (newline
    and tab excepted) and without bidirectional overrides: what a Markdown or HTML file may
    hold, where an override would turn ``gnp.exe`` into ``exe.png`` on the page."""
    if not _UNSAFE.search(text):
        return text
    text = _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", clean(text)))
    return _BIDI.sub("", text)


def for_terminal(text: str, *, one_line: bool = False) -> str:
    """Text safe to print: ``without_controls``; ``one_line`` also turns every line break
    (U+2028 included) into a space, for a value that must stay on its line."""
    if one_line:
        text = _LINE_BREAKS.sub(" ", text)
    return without_controls(text)


def clean_tree(value: T) -> T:
    """``value`` with ``clean`` applied to every string inside it."""
    return map_text(value, clean)


def map_text(value: T, change: Callable[[str], str]) -> T:
    """``value`` with ``change`` applied to every string inside it, through dataclasses,
    tuples and lists (enum members are kept). Parts that do not change are kept, not
    copied, so that a clean object costs no copy."""
    return _map(value, change)  # type: ignore[no-any-return]


def _map(value: Any, change: Callable[[str], str]) -> Any:
    kind: type = type(value)
    if kind is str:
        return change(value)
    if kind is tuple or kind is list:
        items = [_map(v, change) for v in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return kind(items)
    names = _field_names(kind)
    if not names:
        return value
    changed = {}
    for name in names:
        old = getattr(value, name)
        new = _map(old, change)
        if new is not old:
            changed[name] = new
    return dataclasses.replace(value, **changed) if changed else value


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    """The init fields of a dataclass; none for anything else (enum members included,
    though a ``StrEnum`` is a ``str``: a member's value is ours, never outside text)."""
    if issubclass(kind, Enum) or not dataclasses.is_dataclass(kind):
        return ()
    return tuple(f.name for f in dataclasses.fields(kind) if f.init)
