"""Writing the outputs: each file whole or not at all, and only inside the output folder.

A file is written to a temporary name in its own folder and renamed over the target, so a
failure (a full disk, a renderer that raises, Ctrl-C) never leaves an empty or half-written
report, and a symlink at the target is replaced, never followed. One report that cannot be
rendered or written does not stop the others: ``write_reports`` writes what it can and says
what failed in one line.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from forensics.errors import UsageError, describe_bug
from forensics.model.report import Report
from forensics.model.text import clean, for_terminal

if TYPE_CHECKING:
    # Only the type: ``guard`` writes its lock file through here without loading jinja2.
    from forensics.render import OutputFormat

_FORBIDDEN_IN_STEM = ("/", "\\", "\0")


def check_stem(stem: str) -> str:
    """``stem`` when it is a plain file name, else a usage error: the outputs are
    ``--out/<stem>.<suffix>`` and must stay inside ``--out``."""
    plain = (
        stem.strip() not in ("", ".", "..")
        and not any(c in stem for c in _FORBIDDEN_IN_STEM)
        and for_terminal(stem, one_line=True) == stem
    )
    if not plain:
        raise UsageError(
            f"--stem {stem!r} is not a plain file name: give a name without '/', '\\', "
            "control characters, and not empty, '.' or '..' (the reports go into --out)"
        )
    return stem


def write_atomic(path: Path, text: str) -> None:
    """``text`` as UTF-8 at ``path``, whole or not at all (a temporary file in the same
    folder, then a rename). Raises ``OSError``; the temporary file never stays behind."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    data = clean(text).encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(temporary, flags, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def write_reports(
    report: Report, formats: list[OutputFormat], out: Path, stem: str
) -> tuple[list[Path], str | None]:
    """Each format to ``out/<stem><suffix>``: the files written, and ``None`` or one line
    that says which reports failed and why (the others are written all the same)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"cannot write to {out}: {exc.strerror}; pass --out with a writable folder"
        ) from None
    written: list[Path] = []
    failures: dict[str, list[str]] = {}
    for fmt in formats:
        target = out / f"{stem}{fmt.suffix}"
        try:
            text = fmt.render(report)
        except Exception as exc:  # a bug in one renderer must not cost the other reports
            failures.setdefault(f"could not be rendered ({describe_bug(exc)})", []).append(
                fmt.label
            )
            continue
        try:
            write_atomic(target, text)
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
            reason = f"could not be written to {out} ({problem}: check it, or pass another --out)"
            failures.setdefault(reason, []).append(fmt.label)
            continue
        written.append(target)
    if not failures:
        return written, None
    parts = [f"the {', '.join(labels)} report {why}" for why, labels in failures.items()]
    done = f"; {', '.join(p.name for p in written)} written" if written else "; nothing written"
    return written, "; ".join(parts) + done


def append_text(path: Path, text: str) -> None:
    """``text`` appended to ``path`` as UTF-8 (a CI job summary that other steps write too).
    A file that cannot be written gives a one-line usage error."""
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(clean(text))
    except OSError as exc:
        raise UsageError(
            f"cannot append to {path}: {exc.strerror or type(exc).__name__}; check "
            "GITHUB_STEP_SUMMARY"
        ) from None
