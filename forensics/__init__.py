"""forensics: reconstructs what happened to a service's database migrations.

Evidence comes from the git history and the deploy history; the output is an incident
report whose every line rests on that evidence. The library API::

    import forensics

    report = forensics.analyze("path/to/repo", since="7d", deploys=["tags:v*"])
    print(forensics.OutputFormat.MD.render(report))
    check = forensics.guard("path/to/repo", base="origin/main", deploys=["tags:v*"])

Nothing is written unless asked (see ``forensics.api``). The names load on first use, so
that ``import forensics`` stays cheap for the command line.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "analyze": "forensics.api",
    "audit": "forensics.api",
    "dag": "forensics.api",
    "history": "forensics.api",
    "guard": "forensics.api",
    "write_lock": "forensics.api",
    "GraphReport": "forensics.api",
    "HistoryReport": "forensics.api",
    "AnalyzeConfig": "forensics.config",
    "Policy": "forensics.config",
    "GuardMode": "forensics.model.guard",
    "GuardResult": "forensics.model.guard",
    "Report": "forensics.model.report",
    "Finding": "forensics.model.findings",
    "RuleId": "forensics.model.rules",
    "Severity": "forensics.model.findings",
    "Confidence": "forensics.model.findings",
    "OutputFormat": "forensics.render",
    "ForensicsError": "forensics.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'forensics' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
