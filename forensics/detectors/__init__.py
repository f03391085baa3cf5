"""The rule families: an explicit list of modules, each with ``RULES`` (its group of the
catalogue in ``forensics.model.rules``) and ``detect(context)``. Order here is the order
findings are produced before ranking. ``change_rules`` is not a family: it applies the
graph and applied rules to the two sides of a change, for ``forensics guard``."""

from __future__ import annotations

from types import ModuleType

from forensics.detectors import activity_rules, applied_rules, deploy_rules, graph_rules
from forensics.detectors.base import Context
from forensics.model.findings import Finding
from forensics.model.rules import Rule

FAMILIES: tuple[ModuleType, ...] = (graph_rules, activity_rules, applied_rules, deploy_rules)


def all_rules() -> tuple[Rule, ...]:
    """The rules of the families, in family order (the catalogue holds no other)."""
    return tuple(rule for family in FAMILIES for rule in family.RULES)


def run(context: Context) -> list[Finding]:
    """Every family's findings, ranked: severity, then confidence, then rule id."""
    findings = [f for family in FAMILIES for f in family.detect(context)]
    return sorted(findings, key=lambda f: (-f.severity, -f.confidence, f.rule, f.path or ""))
