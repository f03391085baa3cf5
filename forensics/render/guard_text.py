"""The text ``forensics guard`` prints for its result."""

from __future__ import annotations

from forensics.model.guard import GuardMode, GuardResult


def format_result(result: GuardResult) -> str:
    """One line per finding that fails the change (its rule, name and detail, which ends
    with the fix), the cosmetic edits, the notes, and a last line with the verdict."""
    lines = [f"FAIL {f.rule} {f.name}: {f.detail}" for f in result.violations]
    lines += [f"cosmetic: {c.detail}" for c in result.cosmetic]
    lines += [f"note: {note}" for note in result.notes]
    if result.mode is GuardMode.WRITE_LOCK:
        verdict = "lock file not written" if result.violations else "lock file written"
    elif result.violations:
        verdict = f"guard failed: {len(result.violations)} problem(s) in this change"
    else:
        verdict = "guard passed: no applied migration edited, no new graph fault"
    lines.append(verdict)
    return "\n".join(lines) + "\n"
