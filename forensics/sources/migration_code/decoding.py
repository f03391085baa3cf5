"""Bytes of a migration file to text, and text to a syntax tree: UTF-8 with or without a BOM
(other bytes read with replacement characters), Python 3 source, and Python 2 source by its
translation (``python2``). Every parse failure is a ``SyntaxError``.
"""

from __future__ import annotations

import ast

from forensics.model.migrations import SourceDialect
from forensics.sources.migration_code.python2 import from_python2

_TOO_NESTED = "too many nested parentheses"  # CPython's message beyond 200 levels
_PYTHON2_MAX_CHARS = 512 * 1024


def parse(text: str, path: str) -> tuple[ast.Module, SourceDialect]:
    """The module's tree and the Python it is written in. Every failure is a
    ``SyntaxError``, deep nesting included: the interpreter rejects such a file too.

    A file that Python 3 rejects but a Python 2 grammar accepts is Python 2 source (it ran
    under Python 2) and is read from its translation to Python 3 syntax."""
    try:
        return ast.parse(text, filename=path), SourceDialect.PYTHON3
    except SyntaxError as exc:
        error = exc
    except ValueError as exc:  # null bytes
        raise SyntaxError(str(exc)) from None
    except (RecursionError, MemoryError, OverflowError) as exc:
        # CPython's own parser gives up on deep nesting: so would `alembic upgrade`.
        why = type(exc).__name__
        raise SyntaxError(f"nested too deeply for the Python parser ({why})") from None
    # Python 2's parser overflowed its stack at less than half of Python 3's 200 levels of
    # brackets, so such a file is not Python 2 source either. fissix reads some 10,000
    # tokens a second: past a size no real migration reaches, it is not tried.
    tried = error.msg != _TOO_NESTED and len(text) <= _PYTHON2_MAX_CHARS
    translated = from_python2(text, path) if tried else None
    if translated is None:
        raise error
    return translated, SourceDialect.PYTHON2


def decode(data: bytes) -> tuple[str, bool]:
    """The text and whether it was valid UTF-8 (a BOM is accepted)."""
    try:
        return data.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), False
