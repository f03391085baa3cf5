"""The rule registry: an explicit list of rule families, each a module with ``RULES`` and
``detect(context)``. Order here is the order findings are produced before ranking."""

from __future__ import annotations

from types import ModuleType

from forensics.detectors import activity_rules, applied_rules, deploy_rules, graph_rules
from forensics.detectors.base import Context, Rule
from forensics.model.findings import Finding

FAMILIES: tuple[ModuleType, ...] = (graph_rules, activity_rules, applied_rules, deploy_rules)


def all_rules() -> tuple[Rule, ...]:
    return tuple(rule for family in FAMILIES for rule in family.RULES)


def rule(rule_id: str) -> Rule:
    for candidate in all_rules():
        if candidate.id == rule_id:
            return candidate
    raise KeyError(rule_id)


def run(context: Context) -> list[Finding]:
    """Every family's findings, ranked: severity, then confidence, then rule id."""
    findings = [f for family in FAMILIES for f in family.detect(context)]
    return sorted(findings, key=lambda f: (-f.severity, -f.confidence, f.rule, f.path or ""))
