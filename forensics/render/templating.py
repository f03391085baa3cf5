"""The jinja2 environment that the Markdown and HTML templates share: the loader, the
whitespace rules, strict undefined values and the compiled-template cache."""

from __future__ import annotations

from typing import Any

import jinja2


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    # Compiling the two templates takes most of the rendering time of a run whose analysis
    # came from the mining cache. jinja2 keeps the compiled code in a private per-user
    # folder of the temporary directory, keyed by the template source; without one, compile.
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):
        return None


def environment(**options: Any) -> jinja2.Environment:
    """An environment over ``render/templates`` with ``options`` (autoescape, finalize)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("forensics.render", "templates"),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_bytecode_cache(),
        **options,
    )
