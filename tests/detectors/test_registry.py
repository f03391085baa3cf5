"""The registry: unique ids, every rule documented, every rule with firing and non-firing cases.

A test case declares what it shows with ``@pytest.mark.rule("FX101", fires=True)``; this test
reads those marks statically from the test files, so that a rule without both kinds of case
fails the suite.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from forensics import detectors

TESTS = Path(__file__).resolve().parents[1]
DESIGN_IDS = {f"FX{n}" for n in (101, 102, 103, 104, 105, 106, 107, 201, 202, 203, 204)} | {
    f"FX{n}" for n in (301, 302, 303, 401, 402, 403, 404)
}


def _declared_cases() -> set[tuple[str, bool]]:
    cases: set[tuple[str, bool]] = set()
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr != "rule" or not node.args:
                continue
            first = node.args[0]
            if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                continue
            fires = next(
                (
                    k.value.value
                    for k in node.keywords
                    if k.arg == "fires" and isinstance(k.value, ast.Constant)
                ),
                None,
            )
            if isinstance(fires, bool):
                cases.add((first.value, fires))
    return cases


def test_rule_ids_are_unique_and_match_the_catalogue() -> None:
    ids = [rule.id for rule in detectors.all_rules()]
    assert len(ids) == len(set(ids))
    assert set(ids) == DESIGN_IDS


def test_every_rule_is_named_and_explained() -> None:
    for rule in detectors.all_rules():
        assert re.fullmatch(r"FX\d{3}", rule.id)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name
        assert rule.summary and rule.explanation, rule.id


def test_every_family_module_has_a_docstring() -> None:
    for family in detectors.FAMILIES:
        assert family.__doc__ and family.__doc__.strip(), family.__name__


def test_every_rule_has_firing_and_non_firing_cases() -> None:
    cases = _declared_cases()
    missing = [
        f"{rule.id} ({'fires' if fires else 'does not fire'})"
        for rule in detectors.all_rules()
        for fires in (True, False)
        if (rule.id, fires) not in cases
    ]
    assert not missing, "rules without test cases: " + ", ".join(missing)
