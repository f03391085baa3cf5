"""Python 2 source read with fissix's Python 2 grammar and translated to Python 3 syntax
with the same meaning. The only importer of fissix.
"""

from __future__ import annotations

import ast
import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fissix.refactor import RefactoringTool

_INDENT = re.compile(r"^[ \t]+", re.MULTILINE)

# The 2to3 fixers that turn Python 2 syntax into Python 3 syntax with the same meaning (print
# and exec statements, `except E, e`, `raise E, v`, backticks, `<>`, 0777 and 10L literals,
# tuple parameters, u'' and ur'' strings); none of the library renames.
_PYTHON2_FIXERS = tuple(
    f"fissix.fixes.fix_{name}"
    for name in (
        "print", "exec", "except", "raise", "repr", "ne", "numliterals", "tuple_params",
        "unicode",
    )
)  # fmt: skip


@functools.cache
def _python2_tool() -> RefactoringTool:
    # Imported on first need: fissix loads its grammar tables, and Python 2 files are rare.
    from fissix.refactor import RefactoringTool

    return RefactoringTool(list(_PYTHON2_FIXERS))


def from_python2(text: str, path: str) -> ast.Module | None:
    """The tree of ``text`` read with fissix's Python 2 grammar and translated, or ``None``
    when it is not Python 2 source either."""
    # Python 2 took a tab to the next multiple of 8 columns; Python 3 refuses to guess.
    text = _INDENT.sub(lambda m: m.group(0).expandtabs(8), text.rstrip("\n") + "\n")
    try:
        translated = str(_python2_tool().refactor_string(text, path))
        return ast.parse(translated, filename=path)
    # fissix is a third-party parser fed untrusted text: whatever it raises (its parse and
    # token errors, deep recursion) means "not readable as Python 2", never a stopped run.
    except Exception:
        return None
