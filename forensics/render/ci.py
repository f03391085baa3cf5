"""What a run prints for people reading a terminal or a CI log: the headline and the top
findings, and GitHub Actions workflow annotations (``::error file=…,line=…::…``).

Renders the ``Report`` only. Every value is made safe for its target: ``for_terminal`` for
the log lines, GitHub's own percent-escapes for annotations (an untrusted message must not
end the command or inject another one).
"""

from __future__ import annotations

from collections.abc import Iterable

from forensics.model.findings import Finding, Severity
from forensics.model.report import Report
from forensics.model.text import for_terminal
from forensics.render import view

TOP_FINDINGS = 5


def _plain(text: str) -> str:
    """Prose for a terminal: code spans lose their backticks, one line, no control codes."""
    return for_terminal(text.replace("`", ""), one_line=True)


def _ranked(report: Report) -> list[Finding]:
    return sorted(report.findings, key=lambda f: (-f.severity, -f.confidence, f.rule, f.path or ""))


def _where(finding: Finding) -> str:
    if finding.path and finding.line:
        return f"{finding.path}:{finding.line} "
    return f"{finding.path} " if finding.path else ""


def terminal_summary(report: Report, limit: int = TOP_FINDINGS) -> str:
    """The headline and the top ``limit`` findings, as lines for standard error."""
    s = view.summary(report)
    incident = f" ({report.incidents[0].id})" if report.incidents else ""
    lines = [f"{s.status.label}: {_plain(s.headline)}{incident}"]
    if s.cause:
        lines.append(f"  cause: {_plain(s.cause)}")
    ranked = _ranked(report)
    for f in ranked[:limit]:
        lines.append(f"  {f.severity.label:<8} {f.rule} {_plain(_where(f))}{_plain(f.title)}")
    if len(ranked) > limit:
        lines.append(f"  … and {len(ranked) - limit} more finding(s) in the report")
    if not ranked:
        lines.append("  no findings")
    return "\n".join(lines) + "\n"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
    level: str = "error",
) -> str:
    """One workflow command line: GitHub shows it on the file and line of the pull request."""
    props = []
    if file:
        props.append(f"file={_property(for_terminal(file, one_line=True))}")
        if line:
            props.append(f"line={line}")
    if title:
        props.append(f"title={_property(for_terminal(title, one_line=True))}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_data(for_terminal(message, one_line=True))}"


def finding_annotations(report: Report, threshold: Severity) -> Iterable[str]:
    """An ``::error`` for each finding at or above ``threshold``, on the file and line that
    code scanning gets for it (a failure window's: the migration its causes changed)."""
    for f in _ranked(report):
        if f.severity < threshold:
            continue
        pinned = report.location(f.fingerprint)
        yield annotation(
            f"{f.title}. {f.detail}",
            file=pinned.path if pinned else f.path,
            line=pinned.line if pinned else f.line,
            title=f"{f.rule} {f.name} ({f.severity.label})",
        )
