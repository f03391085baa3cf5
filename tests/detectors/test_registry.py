"""The registry: unique ids, every rule documented, every rule with firing and non-firing cases.

A test case declares what it shows with ``@pytest.mark.rule("FX101", fires=True)``; this test
reads those marks statically from the test files, so that a rule without both kinds of case
fails the suite. ``CASES`` names, for each rule, one scenario that fires it and one that does
not; each named test must exist and carry the matching mark.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from forensics import detectors
from forensics.model.rules import RULES, RuleGroup, RuleId

TESTS = Path(__file__).resolve().parents[1]
DESIGN_IDS = {f"FX{n}" for n in (101, 102, 103, 104, 105, 106, 107, 201, 202, 203, 204)} | {
    f"FX{n}" for n in (301, 302, 303, 401, 402, 403, 404)
}


GRAPH = "detectors/test_graph_rules.py"
APPLIED = "detectors/test_applied_rules.py"
ACTIVITY = "detectors/test_activity_rules.py"
DEPLOY = "detectors/test_deploy_rules.py"
CAUSE = "detectors/test_deploy_failure_cause.py"
HEALTHY = f"{GRAPH}::test_healthy_and_labelled_graph_fires_nothing"
FIRST_COMMIT = f"{GRAPH}::test_every_problem_fires_with_its_introducing_commit"
UNRESOLVED = f"{GRAPH}::test_cycle_missing_revision_and_unresolved_metadata"
SEED_LIVE = f"{APPLIED}::test_seed_production_from_the_live_deploy"
UNAPPLIED = f"{APPLIED}::test_unapplied_migrations_are_free_to_change"
QUIET = f"{ACTIVITY}::test_no_burst_outside_the_window_or_below_the_threshold"
SEED_BURST = f"{ACTIVITY}::test_the_seed_burst_fires_fx301_and_fx302"
CHURN = f"{ACTIVITY}::test_churn_fires_above_five_edits_and_the_percentile"
SEED_WINDOW = f"{DEPLOY}::test_seed_window_suspects_and_broken_deploys"
NO_DEPLOYS = f"{DEPLOY}::test_no_deploys_no_findings"

# rule -> (a scenario that fires it, a scenario that does not)
CASES: dict[RuleId, tuple[str, str]] = {
    RuleId.FX101: (FIRST_COMMIT, HEALTHY),
    RuleId.FX102: (f"{GRAPH}::test_resolved_problem_does_not_fire", HEALTHY),
    RuleId.FX103: (FIRST_COMMIT, HEALTHY),
    RuleId.FX104: (UNRESOLVED, HEALTHY),
    RuleId.FX105: (FIRST_COMMIT, HEALTHY),
    RuleId.FX106: (UNRESOLVED, HEALTHY),
    RuleId.FX107: (UNRESOLVED, HEALTHY),
    RuleId.FX201: (SEED_LIVE, UNAPPLIED),
    RuleId.FX202: (SEED_LIVE, UNAPPLIED),
    RuleId.FX203: (f"{APPLIED}::test_applied_migration_removed", SEED_LIVE),
    RuleId.FX204: (f"{APPLIED}::test_production_revision_missing", SEED_LIVE),
    RuleId.FX301: (SEED_BURST, QUIET),
    RuleId.FX302: (SEED_BURST, f"{ACTIVITY}::test_human_paced_burst_is_a_burst_but_not_automation"),
    RuleId.FX303: (CHURN, CHURN),
    RuleId.FX401: (SEED_WINDOW, NO_DEPLOYS),
    RuleId.FX402: (SEED_WINDOW, NO_DEPLOYS),
    RuleId.FX403: (SEED_WINDOW, NO_DEPLOYS),
    RuleId.FX404: (
        f"{CAUSE}::test_logs_classify_the_window_and_rerank_the_suspects",
        f"{CAUSE}::test_no_logs_for_the_failed_deploys_no_finding",
    ),
}


def _marks(node: ast.FunctionDef) -> set[tuple[str, bool]]:
    """The ``(rule id, fires)`` marks on one test function."""
    found: set[tuple[str, bool]] = set()
    for mark in node.decorator_list:
        if not isinstance(mark, ast.Call) or not isinstance(mark.func, ast.Attribute):
            continue
        if mark.func.attr != "rule" or not mark.args:
            continue
        first = mark.args[0]
        fires = [
            k.value.value
            for k in mark.keywords
            if k.arg == "fires" and isinstance(k.value, ast.Constant)
        ]
        if isinstance(first, ast.Constant) and fires and isinstance(fires[0], bool):
            found.add((str(first.value), fires[0]))
    return found


def _test_functions() -> dict[str, ast.FunctionDef]:
    """Every test function, by node id relative to ``tests/``."""
    found: dict[str, ast.FunctionDef] = {}
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[f"{path.relative_to(TESTS).as_posix()}::{node.name}"] = node
    return found


def _declared_cases() -> set[tuple[str, bool]]:
    return {case for node in _test_functions().values() for case in _marks(node)}


def test_rule_ids_are_unique_and_match_the_catalogue() -> None:
    ids = [rule.id for rule in detectors.all_rules()]
    assert len(ids) == len(set(ids))
    assert set(ids) == DESIGN_IDS
    assert sorted(ids) == [rule.id for rule in RULES]


def test_each_family_runs_one_group_of_the_catalogue() -> None:
    groups = [{rule.group for rule in family.RULES} for family in detectors.FAMILIES]
    assert groups == [
        {g} for g in (RuleGroup.GRAPH, RuleGroup.ACTIVITY, RuleGroup.APPLIED, RuleGroup.DEPLOY)
    ]


def test_every_rule_is_named_and_explained() -> None:
    for rule in detectors.all_rules():
        assert re.fullmatch(r"FX\d{3}", rule.id)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name
        assert rule.title and rule.explanation, rule.id


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


def test_every_rule_has_a_firing_and_a_non_firing_scenario_in_the_table() -> None:
    assert set(CASES) == set(RuleId)
    tests = _test_functions()
    for rule_id, (firing, quiet) in CASES.items():
        for node_id, fires in ((firing, True), (quiet, False)):
            assert node_id in tests, f"{rule_id}: no test {node_id}"
            assert (rule_id, fires) in _marks(tests[node_id]), (
                f"{rule_id}: {node_id} is not marked rule({rule_id!r}, fires={fires})"
            )
