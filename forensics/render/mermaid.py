"""Mermaid flowcharts: the one writer behind the report's migration chain (``render.view.chain``)
and ``forensics dag --format mermaid`` (``render.graph``).

Labels are untrusted (revision messages, environment names): every character outside a
short allow-list becomes a Mermaid entity code (``#34;``), so no label can end its node,
open a ``click`` directive or carry a control character to the terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

# Characters a label keeps as they are, beside letters and digits.
_PLAIN = frozenset(" .,:-_/+=*'")


def label(text: str) -> str:
    """Mermaid-safe label text on one line: entity codes for everything that could end a
    label."""
    return "".join(
        char if char.isalnum() or char in _PLAIN else f"#{ord(char)};"
        for char in " ".join(text.split())
    )


class Flowchart:
    """A ``flowchart BT`` built node by node; an edge runs child to parent, so parents are
    drawn above their children. ``text()`` gives the chart without a trailing newline."""

    def __init__(self) -> None:
        self._lines = ["flowchart BT"]
        self._indent = "  "

    def comment(self, text: str) -> None:
        self._lines.append(f"{self._indent}%% {label(text)}")

    def node(self, node_id: str, text: str) -> None:
        self._lines.append(f'{self._indent}{node_id}["{label(text)}"]')

    def edge(self, child: str, parent: str, *, dashed: bool = False) -> None:
        arrow = "-.->" if dashed else "-->"
        self._lines.append(f"{self._indent}{child} {arrow} {parent}")

    @contextmanager
    def group(self, group_id: str, title: str) -> Iterator[None]:
        """A ``subgraph`` holding the nodes and edges added inside the ``with``."""
        self._lines.append(f'{self._indent}subgraph {group_id}["{label(title)}"]')
        outer = self._indent
        self._indent += "  "
        try:
            yield
        finally:
            self._indent = outer
            self._lines.append(f"{outer}end")

    def style(self, name: str, css: str, members: Sequence[str]) -> None:
        """A class ``name`` with ``css``, given to ``members`` (nothing when there are none)."""
        if members:
            self._lines.append(f"{self._indent}classDef {name} {css}")
            self._lines.append(f"{self._indent}class {','.join(members)} {name}")

    def text(self) -> str:
        return "\n".join(self._lines)
