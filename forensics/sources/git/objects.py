"""Git objects as git lists and streams them: tree entries, release tags, the objects of
a ``cat-file --batch`` stream and the entries of a raw tree object. Nothing here runs
git; ``GitSource`` asks and these read the answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TreeEntry:
    """A file of a git tree: its path, blob id and mode."""

    path: str
    blob: str
    mode: str


@dataclass(frozen=True)
class TagInfo:
    """A release tag: the commit it names and when it was made (the tagger date of an
    annotated tag, the commit date of a lightweight one), in UTC."""

    name: str
    commit: str
    at: datetime
    annotated: bool = False


def listed_files(text: str) -> list[TreeEntry]:
    """The files of ``git ls-tree -r -z`` output (blobs only: no submodules)."""
    entries = []
    for line in text.split("\0"):
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == "blob":
            entries.append(TreeEntry(path=path, blob=fields[2], mode=fields[0]))
    return entries


def tree_items(body: bytes) -> Iterator[tuple[bytes, str, str]]:
    """``(name, sha, type)`` of each entry of a raw tree object, ``type`` being ``tree``,
    ``commit`` (a submodule) or ``blob``. A truncated entry ends the listing."""
    # Each entry: "<mode> <name>\0" and the object's 20 bytes.
    at = 0
    while at < len(body):
        space = body.find(b" ", at)
        nul = body.find(b"\0", space)
        if space < 0 or nul < 0:
            return
        mode, name = body[at:space], body[space + 1 : nul]
        sha = body[nul + 1 : nul + 21].hex()
        at = nul + 21
        kind = "tree" if mode == b"40000" else "commit" if mode == b"160000" else "blob"
        yield name, sha, kind


def batch_objects(out: bytes) -> Iterator[tuple[str, bytes, bytes]]:
    """``(sha, type, content)`` of each object in a ``cat-file --batch`` stream; objects git
    reports missing (``<name> missing``) are skipped."""
    pos = 0
    while pos < len(out):
        end = out.find(b"\n", pos)
        if end < 0:
            return
        header = out[pos:end].split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue
        size = int(header[2])
        yield header[0].decode(), header[1], out[pos : pos + size]
        pos += size + 1
