"""The rule catalogue is the one place that names rules: no ``FXnnn`` literal elsewhere in the
package, and the README's rule table says what the catalogue says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from forensics.model.findings import Severity
from forensics.model.rules import CHANGED_APPLIED, RULES, RuleGroup, RuleId, ids_in, rule

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "forensics"
RULE_ID = re.compile(r"FX\d{3}")


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes: prose about rules may name them."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _rule_literals(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    nodes = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and id(n) not in skip
        and RULE_ID.search(n.value)
    ]
    return [f"{path.relative_to(root)}:{n.lineno}: {n.value!r}" for n in sorted(nodes, key=_at)]


def _at(node: ast.Constant) -> tuple[int, int]:
    return (node.lineno, node.col_offset)


def test_no_rule_id_literal_outside_the_catalogue() -> None:
    catalogue = PACKAGE / "model" / "rules.py"
    found = [
        hit for p in sorted(PACKAGE.rglob("*.py")) if p != catalogue for hit in _rule_literals(p)
    ]
    assert not found, "use RuleId members instead of:\n" + "\n".join(found)


def test_the_literal_scan_sees_literals_but_not_docstrings(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""FX101 in a docstring is prose."""\n'
        'RULE = "FX102"\n'
        'TITLE = f"{RULE} and FX103"\n'
        "def f():\n"
        '    """FX104 again."""\n'
        '    return {"FX105": 1}\n',
        encoding="utf-8",
    )
    hits = [h.rsplit(": ", 1)[1] for h in _rule_literals(sample, tmp_path)]
    assert hits == ["'FX102'", "' and FX103'", "'FX105'"]


def test_ids_are_unique_ordered_and_every_id_has_one_rule() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids)
    assert set(ids) == set(RuleId)
    for r in RULES:
        assert RULE_ID.fullmatch(r.id) and r.id.value == r.id.name
        assert rule(r.id) is r is r.id.rule
        assert rule(str(r.id)) is r


def test_unknown_rule_is_a_key_error() -> None:
    try:
        rule("FX999")
    except KeyError as error:
        assert error.args == ("FX999",)
    else:
        raise AssertionError("FX999 is not a rule")


def test_every_rule_is_complete_and_grouped_by_its_hundred() -> None:
    hundreds = {"1": RuleGroup.GRAPH, "2": RuleGroup.APPLIED, "3": RuleGroup.ACTIVITY}
    for r in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", r.name), r.name
        assert r.title and r.explanation and r.help, r.id
        assert isinstance(r.severity, Severity)
        assert r.group is hundreds.get(r.id[2], RuleGroup.DEPLOY), r.id
        assert r.doc_anchor == "README.md#rules"
    assert ids_in(RuleGroup.APPLIED) > CHANGED_APPLIED
    assert RuleId.FX204 not in CHANGED_APPLIED


def _readme_table(path: Path) -> list[tuple[str, str, str]]:
    text = path.read_text(encoding="utf-8")
    section = text.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| (FX\d{3}) \| ([a-z-]+) \| (.+) \|$", section, re.M)


def test_readme_rule_table_matches_the_catalogue() -> None:
    assert _readme_table(ROOT / "README.md") == [(r.id, r.name, r.help) for r in RULES]
