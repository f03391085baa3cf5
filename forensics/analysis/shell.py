"""Shell commands that reports and guard print for users to paste: the one place that builds them.

Every value that comes from the analysed repository (revision ids, paths, branch labels,
messages) is untrusted. Each is checked against what such a value can plausibly be and then
quoted with ``shlex.quote``; a value that fails the check raises ``UnsafeValue`` and the
caller shows a warning instead of the command. Only our own literal words go in unquoted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from shlex import quote


class ValueKind(StrEnum):
    """What an interpolated value is, which decides what it may look like."""

    REVISION = "revision id"
    COMMIT = "commit id"
    PATH = "path"
    LABEL = "branch label"
    TEXT = "message"


# An Alembic revision id or branch label: what `alembic revision --rev-id` and real projects
# use (hex, `0001_initial`, `2025.1_expand`). Never a leading dash, which a program would
# read as an option.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+\-]{0,127}")
_COMMIT = re.compile(r"[0-9a-f]{4,64}")
_MAX_TEXT = 4096


class UnsafeValue(ValueError):
    """A value that cannot be put into a command a user will paste."""

    def __init__(self, kind: ValueKind, value: str) -> None:
        self.kind, self.value = kind, value
        super().__init__(
            f"the {kind} {value!a} is not a plausible {kind}, so no command is given "
            "for it: check that value in the repository"
        )


@dataclass(frozen=True)
class Arg:
    """One untrusted value of a command, with its kind."""

    value: str
    kind: ValueKind


def revision(value: str) -> Arg:
    return Arg(value, ValueKind.REVISION)


def commit(value: str) -> Arg:
    return Arg(value, ValueKind.COMMIT)


def path(value: str) -> Arg:
    return Arg(value, ValueKind.PATH)


def label(value: str) -> Arg:
    return Arg(value, ValueKind.LABEL)


def text(value: str) -> Arg:
    return Arg(value, ValueKind.TEXT)


def _printable(value: str) -> bool:
    """No control characters (C0, DEL, C1), line or paragraph separators, or lone
    surrogates: they change what a terminal shows or cannot be written at all."""
    return all(unicodedata.category(ch) not in ("Cc", "Cs", "Zl", "Zp") for ch in value)


def plausible(arg: Arg) -> bool:
    """Whether the value can be what its kind says it is."""
    value = arg.value
    if arg.kind in (ValueKind.REVISION, ValueKind.LABEL):
        return _NAME.fullmatch(value) is not None
    if arg.kind is ValueKind.COMMIT:
        return _COMMIT.fullmatch(value) is not None
    if not value or len(value) > _MAX_TEXT or not _printable(value):
        return False
    # A path is given after `--` to git, but `cd` and alembic would read a dash as an option.
    return arg.kind is ValueKind.TEXT or not value.startswith("-")


# Our own words: options and program names, never anything read from the repository.
_WORD = re.compile(r"[A-Za-z0-9_.:/=@%+,\-]+")


def command(*parts: str | Arg) -> str:
    """One shell command line: literal words as they are, every ``Arg`` checked and quoted.
    Raises ``UnsafeValue`` for the first implausible value."""
    words = []
    for part in parts:
        if isinstance(part, Arg):
            if not plausible(part):
                raise UnsafeValue(part.kind, part.value)
            words.append(quote(part.value))
        else:
            if not _WORD.fullmatch(part):
                raise AssertionError(f"not a literal word of a command: {part!r}")
            words.append(part)
    return " ".join(words)


def shown(*line: str | Arg) -> str:
    """A command in backquotes, every value quoted; or, for an implausible value, why there
    is no command."""
    try:
        return f"`{command(*line)}`"
    except UnsafeValue as exc:
        return f"(no command: {exc})"
