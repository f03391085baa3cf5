"""What tests look for in output made from hostile text."""

from __future__ import annotations

BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def controls(text: str) -> set[str]:
    """The C0 and C1 control characters in ``text``, newline and tab aside: none may reach a
    Markdown or HTML file."""
    return {c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F}


def terminal_safe(text: str) -> bool:
    """No escape sequence, control character (newline and tab aside) or bidi override."""
    return not controls(text) and not BIDI_OVERRIDES.intersection(text)
