"""Parsing raw ``git log`` output into ``CommitRecord``s: the format asked for, its
separators, trailers and the ``--raw -z`` file changes, and the raw output as the mining
cache keeps it. Nothing here runs git.

Commit messages and paths are untrusted bytes: decoded with replacement, never rejected.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from forensics.model.commits import ChangeStatus, CommitRecord, FileChange, Person
from forensics.model.text import decode
from forensics.sources.cache import MiningCache

# Record and field separators carry a per-process nonce: commit messages are untrusted and
# may contain the control characters themselves, but cannot guess the nonce.
_NONCE = secrets.token_hex(8)
_RS, _US = "\x1e" + _NONCE, "\x1f" + _NONCE
FORMAT = _RS + _US.join(["%H", "%P", "%an", "%ae", "%at", "%cn", "%ce", "%ct", "%B"]) + _US
_ZERO = "0" * 40
_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9-]*):\s+(.+)$")
HEX40 = re.compile(r"^[0-9a-f]{40}$")


def utc(stamp: str) -> datetime:
    """A unix timestamp as UTC; whatever zone the commit was written in does not matter."""
    try:
        return datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return datetime.fromtimestamp(0, tz=UTC)


def parse_trailers(message: str) -> tuple[tuple[str, str], ...]:
    """``Key: value`` lines of the last paragraph, as ``git interpret-trailers`` sees them."""
    head, gap, last = message.strip().rpartition("\n\n")
    if not gap or not head.strip():
        return ()
    pairs = []
    for line in last.strip().splitlines():
        match = _TRAILER.match(line.strip())
        if not match:
            return ()
        pairs.append((match.group(1), match.group(2).strip()))
    return tuple(pairs)


def _parse_raw(fields: list[str]) -> tuple[FileChange, ...]:
    """Parse the ``--raw -z`` part: ``:mode mode old new STATUS`` then one or two paths.
    Anything malformed is skipped rather than trusted."""
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        head = fields[i].strip("\n")
        parts = head[1:].split() if head.startswith(":") else []
        if len(parts) < 5 or not parts[4]:
            i += 1
            continue
        old_blob, new_blob, status = parts[2], parts[3], parts[4]
        letter = status[0]
        width = 3 if letter in "RC" else 2
        if i + width > len(fields):
            break
        old_path, path = (fields[i + 1], fields[i + 2]) if width == 3 else (None, fields[i + 1])
        i += width
        try:
            kind = ChangeStatus(letter)
        except ValueError:
            kind = ChangeStatus.MODIFIED
        changes.append(
            FileChange(
                path=path,
                status=kind,
                old_path=old_path,
                old_blob=None if old_blob == _ZERO else old_blob,
                new_blob=None if new_blob == _ZERO else new_blob,
            )
        )
    return tuple(changes)


@dataclass(frozen=True)
class _RawLog:
    """What the cache keeps of one ``log``: git's own output and the nonce of its
    separators. Parsing it again is faster than decoding the records from JSON."""

    nonce: str
    out: str
    chain: tuple[str, ...] | None


def parse_log(
    out: bytes | str,
    first_parent: set[str] | bool,
    boundary: frozenset[str] = frozenset(),
    nonce: str = _NONCE,
) -> list[CommitRecord]:
    """Commit records from ``git log --format=FORMAT -z --raw`` output. ``first_parent`` is
    True (every record is on the first-parent chain) or the set of SHAs that are. Commits at
    a shallow boundary keep no files: their diff against nothing is not a real change."""
    rs, us = "\x1e" + nonce, "\x1f" + nonce
    records: list[CommitRecord] = []
    for chunk in (out if isinstance(out, str) else decode(out)).split(rs)[1:]:
        header = chunk.split(us)
        if len(header) != 10 or not HEX40.match(header[0]):
            continue
        sha, parents, an, ae, at, cn, ce, ct, body, rest = header
        message = body.rstrip("\n")
        on_chain = first_parent if isinstance(first_parent, bool) else sha in first_parent
        records.append(
            CommitRecord(
                sha=sha,
                parents=tuple(parents.split()),
                author=Person(an, ae),
                committer=Person(cn, ce),
                authored_at=utc(at),
                committed_at=utc(ct),
                message=message,
                trailers=parse_trailers(message),
                files=() if sha in boundary else _parse_raw(rest.split("\0")),
                first_parent=on_chain,
            )
        )
    return records


def cached_log(cache: MiningCache, key: str) -> list[CommitRecord] | None:
    """The records of a ``log`` the cache keeps under ``key``, parsed again; ``None`` when
    it keeps none."""
    cached = cache.get("log", key, _RawLog)
    if cached is None:
        return None
    chain_set = True if cached.chain is None else set(cached.chain)
    return parse_log(cached.out, chain_set, nonce=cached.nonce)


def keep_log(cache: MiningCache, key: str, out: str, first_parent: set[str] | bool) -> None:
    """Keep a ``log``'s output (read with this process's separators) under ``key``."""
    kept = None if isinstance(first_parent, bool) else tuple(sorted(first_parent))
    cache.put("log", key, _RawLog(_NONCE, out, kept))
