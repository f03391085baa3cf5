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
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from operator import is_not
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
    return _Walk(change).map(value)  # type: ignore[no-any-return]


# Kinds that hold no string: the walk keeps their values as they are. Enum members and
# anything that is not a dataclass join on first sight.
_LEAVES: set[type] = {int, float, bool, type(None), datetime, date, timedelta}


class _Walk:
    """One walk of ``map_text``. A report holds the same string many times (paths, shas,
    messages) and shares objects between its parts (a file version is the ``after`` of one
    change and the ``before`` of the next): each distinct string is changed once, and each
    object is walked once, by identity. Strings and leaves are handled inline, without a
    call each: a report holds tens of thousands of them."""

    def __init__(self, change: Callable[[str], str]) -> None:
        self.change = change
        self.same: set[str] = set()
        self.changed: dict[str, str] = {}
        # id -> (the object, kept alive so that its id stays its own; its result)
        self.seen: dict[int, tuple[Any, Any]] = {}

    def text(self, value: str) -> str:
        new = self.changed.get(value)
        if new is None:
            new = self.change(value)
            if new == value:
                self.same.add(value)
                return value
            self.changed[value] = new
        return new

    def map(self, value: Any) -> Any:
        kind: type = type(value)
        if kind is str:
            return value if value in self.same else self.text(value)
        if kind in _LEAVES:
            return value
        key = id(value)
        hit = self.seen.get(key)
        if hit is not None:
            return hit[1]
        same = self.same
        if kind is tuple or kind is list:
            items = [v if type(v) is str and v in same else self.map(v) for v in value]
            new = kind(items) if any(map(is_not, items, value)) else value
        else:
            names = _field_names(kind)
            if not names:
                _LEAVES.add(kind)
                return value
            changed: dict[str, Any] = {}
            for name in names:
                old = getattr(value, name)
                step = type(old)
                if step is str:
                    if old in same:
                        continue
                    item = self.text(old)
                elif step in _LEAVES:
                    continue
                else:
                    item = self.map(old)
                if item is not old:
                    changed[name] = item
            new = dataclasses.replace(value, **changed) if changed else value
        self.seen[key] = (value, new)
        return new


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    """The init fields of a dataclass; none for anything else (enum members included,
    though a ``StrEnum`` is a ``str``: a member's value is ours, never outside text)."""
    if issubclass(kind, Enum) or not dataclasses.is_dataclass(kind):
        return ()
    return tuple(f.name for f in dataclasses.fields(kind) if f.init)


def plural(n: int, word: str) -> str:
    """``1 commit``, ``2 commits``: our own prose, for words whose plural takes an ``s``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
