"""What tests look for in output made from hostile text."""

from __future__ import annotations

from hypothesis import strategies as st

# Any code point: hypothesis leaves lone surrogates out unless they are asked for by name.
ANY_CHARACTER = st.characters(exclude_categories=()) | st.characters(categories=["Cs"])
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def controls(text: str) -> set[str]:
    """The C0 and C1 control characters (newline and tab aside) and the bidi overrides in
    ``text``: none may reach a Markdown or HTML file or the terminal."""
    return {
        c
        for c in text
        if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c in BIDI_OVERRIDES
    }
