"""The static migration reader: metadata, constants, tables, fingerprints, bad input."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.model.migrations import SourceDialect
from forensics.sources.alembic_files import read_migration
from forensics.sources.migration_code import fingerprints as semantic
from forensics.sources.migration_code.constants import ConstantResolver
from forensics.sources.migration_code.fingerprints import text_fingerprint


def _resolver(files: dict[str, str]) -> ConstantResolver:
    def read(path: str) -> bytes | None:
        return files[path].encode() if path in files else None

    return ConstantResolver(files, read)


def test_classic_template(make_migration: Callable[..., str]) -> None:
    body = (
        "    op.create_table('users', sa.Column('id', sa.Integer))\n"
        "    op.drop_table(table_name='legacy')\n"
        "    op.rename_table('old_name', 'new_name')\n"
        "    op.execute('CREATE TABLE ignored (id int)')\n"
    )
    text = make_migration("a1b2", "0000", message="add users", body=body)
    m = read_migration("m/versions/a1b2.py", text.encode(), blob="f" * 40)
    assert m.revision == "a1b2"
    assert m.down_revisions == ("0000",)
    assert m.branch_labels == () and m.depends_on == () and m.unresolved == ()
    assert m.message == "add users"
    assert (m.doc_revision, m.doc_revises) == ("a1b2", ("0000",))
    assert m.tables.create == ("users",) and m.tables.drop == ("legacy",)
    assert m.tables.rename == (("old_name", "new_name"),)
    assert m.revision_line is not None and m.blob == "f" * 40
    assert m.parses and m.warnings == ()


def test_annotated_template_with_tuple_and_list(make_migration: Callable[..., str]) -> None:
    text = make_migration(
        "merge1",
        ("a", "b"),
        annotated=True,
        branch_labels="['expand']",
        depends_on="('x', 'y')",
    )
    m = read_migration("v/merge1.py", text.encode())
    assert m.revision == "merge1"
    assert m.down_revisions == ("a", "b")
    assert m.branch_labels == ("expand",)
    assert m.depends_on == ("x", "y")


def test_same_file_constants_and_unresolvable_values() -> None:
    text = (
        "BRANCH = 'expand'\n"
        "PARENT: str = 'p1'\n"
        "revision = 'r1'\n"
        "down_revision = PARENT\n"
        "branch_labels = (BRANCH,)\n"
        "depends_on = compute()\n"
    )
    m = read_migration("v/r1.py", text.encode())
    assert m.down_revisions == ("p1",)
    assert m.branch_labels == ("expand",)
    assert m.unresolved == ("depends_on",)


def test_constants_imported_from_repository_modules() -> None:
    files = {
        "src/app/__init__.py": "",
        "src/app/cli.py": "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH: str = 'contract'\n",
        "src/app/labels.py": "from app.cli import EXPAND_BRANCH as SHARED\n",
    }
    resolver = _resolver(files)
    module_form = (
        "from app import cli\nrevision = 'e1'\ndown_revision = None\n"
        "branch_labels = (cli.EXPAND_BRANCH, cli.CONTRACT_BRANCH)\n"
    )
    name_form = (
        "from app.cli import EXPAND_BRANCH\nrevision = 'e2'\nbranch_labels = EXPAND_BRANCH\n"
    )
    alias_form = "import app.cli as c\nrevision = 'e3'\nbranch_labels = [c.EXPAND_BRANCH]\n"
    reexport = "from app.labels import SHARED\nrevision = 'e4'\nbranch_labels = SHARED\n"
    expected = {
        module_form: ("expand", "contract"),
        name_form: ("expand",),
        alias_form: ("expand",),
        reexport: ("expand",),
    }
    for text, labels in expected.items():
        m = read_migration("db/versions/x.py", text.encode(), constants=resolver)
        assert m.branch_labels == labels, text
        assert m.unresolved == ()


def test_relative_import_and_unknown_module_stay_safe() -> None:
    resolver = _resolver({"db/versions/_names.py": "LABEL = 'plugin'\n"})
    relative = "from . import _names\nrevision = 'r'\nbranch_labels = (_names.LABEL,)\n"
    m = read_migration("db/versions/r.py", relative.encode(), constants=resolver)
    assert m.branch_labels == ("plugin",)
    unknown = "from elsewhere import cli\nrevision = 'r'\nbranch_labels = (cli.X,)\n"
    m = read_migration("db/versions/r.py", unknown.encode(), constants=resolver)
    assert m.unresolved == ("branch_labels",) and m.branch_labels == ()
    without = read_migration("db/versions/r.py", relative.encode())
    assert without.unresolved == ("branch_labels",)


def test_missing_or_computed_revision() -> None:
    none = read_migration("v/x.py", b"down_revision = None\n")
    assert none.revision is None and none.unresolved == () and none.parses
    computed = read_migration("v/x.py", b"revision = make_id()\ndown_revision = None\n")
    assert computed.revision is None and computed.unresolved == ("revision",)


def test_syntax_error_has_line() -> None:
    m = read_migration("v/bad.py", b"revision = 'a'\n\ndef upgrade(:\n    pass\n")
    assert not m.parses and m.revision is None
    assert m.parse_error is not None and m.parse_error.line == 3
    assert m.text_fingerprint


def test_null_bytes_and_non_utf8_carry_on() -> None:
    nul = read_migration("v/nul.py", b"revision = 'a'\x00\n")
    assert not nul.parses
    latin = read_migration("v/l.py", "# caf\xe9\nrevision = 'a'\n".encode("latin-1"))
    assert latin.revision == "a"
    assert any("UTF-8" in w for w in latin.warnings)


def test_docstring_header_cross_check(make_migration: Callable[..., str]) -> None:
    text = make_migration("real", "parent").replace("Revision ID: real", "Revision ID: other")
    m = read_migration("v/real.py", text.encode())
    assert m.revision == "real" and m.doc_revision == "other"
    assert m.docstring_mismatches == ("docstring says Revision ID other but revision is real",)
    # Not a warning of the file: the pipeline sums them up per environment.
    assert m.warnings == ()
    moved = read_migration(
        "v/m.py", make_migration("m", "new").replace("Revises: new", "Revises: old").encode()
    )
    assert moved.docstring_mismatches == ("docstring says Revises old but down_revision is new",)
    # Alembic's template writes "Revises: None" for a base: no parent, no mismatch.
    base = read_migration(
        "v/b.py", make_migration("b", None).replace("Revises: ", "Revises: None").encode()
    )
    assert base.doc_revises == () and base.docstring_mismatches == ()


def test_fingerprints() -> None:
    base = b'"""Doc."""\nimport b\nimport a\nrevision = "r"\n\ndef upgrade():\n    op.x(1)\n'
    crlf = base.replace(b"\n", b"\r\n")
    restyled = (
        b"'''Other doc.'''\nimport a  # sorted\nimport b\nrevision = 'r'\n\n\n"
        b"def upgrade():\n    op.x(\n        1,\n    )\n"
    )
    body = base.replace(b"op.x(1)", b"op.x(2)")
    meta = base.replace(b'"r"', b'"s"')
    m = {name: read_migration("v/r.py", data) for name, data in locals().items() if name != "m"}
    assert text_fingerprint(base) == text_fingerprint(crlf) == m["base"].text_fingerprint
    assert m["restyled"].text_fingerprint != m["base"].text_fingerprint
    assert m["restyled"].ast_fingerprint == m["base"].ast_fingerprint
    assert m["restyled"].body_fingerprint == m["base"].body_fingerprint
    assert m["body"].body_fingerprint != m["base"].body_fingerprint
    assert m["meta"].ast_fingerprint != m["base"].ast_fingerprint
    assert m["meta"].body_fingerprint == m["base"].body_fingerprint


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    m = read_migration("v/any.py", data)
    assert m.text_fingerprint == text_fingerprint(data)
    assert m.parses == (m.parse_error is None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "revision = ",
                "down_revision: str = ",
                "branch_labels = (",
                "depends_on = [",
                "'a'",
                "None",
                "x.y",
                ",",
                ")",
                "]",
                "\n",
                "from . import x\n",
                "def upgrade():\n    op.create_table(",
                "(" * 50,
            ]
        ),
        max_size=30,
    )
)
def test_never_raises_on_near_python(parts: list[str]) -> None:
    read_migration("db/versions/n.py", "".join(parts).encode(), constants=_resolver({}))


PYTHON2 = '''# -*- coding: utf-8 -*-
"""add gadget

Revision ID: 4b5c6d7e8f90
Revises: 1a2b3c4d5e6f
Create Date: 2013-06-14 16:02:09.120000

"""

# revision identifiers, used by Alembic.
revision = '4b5c6d7e8f90'
down_revision = u'1a2b3c4d5e6f'
branch_labels = (u'legacy',)
depends_on = None

from alembic import op
import sqlalchemy as sa


def upgrade():
    op.create_table(u'gadget', sa.Column(u'id', sa.Integer(), primary_key=True))
    op.rename_table('widget', u'old_widget')
    try:
        op.execute(ur"UPDATE gadget SET path = 'C:\\tmp' WHERE id <> 0")
    except Exception, e:
        print >>sys.stderr, 'skipped', e
    print 'done'


def downgrade():
    op.drop_table(u'gadget')
'''


def test_python2_source_is_read_from_its_python2_tree() -> None:
    m = read_migration("db/versions/4b5c6d7e8f90_add_gadget.py", PYTHON2.encode())
    assert m.parses and m.parse_error is None and m.dialect is SourceDialect.PYTHON2
    assert m.revision == "4b5c6d7e8f90" and m.down_revisions == ("1a2b3c4d5e6f",)
    assert m.branch_labels == ("legacy",) and m.depends_on == () and m.unresolved == ()
    assert m.message == "add gadget" and m.revision_line == 11
    assert m.tables.create == ("gadget",) and m.tables.drop == ()
    assert m.tables.rename == (("widget", "old_widget"),)
    assert m.ast_fingerprint and m.body_fingerprint and m.warnings == ()
    python3 = read_migration("v/r.py", b"revision = 'r'\nprint('done')\n")
    assert python3.dialect is SourceDialect.PYTHON3
    # Tabs and spaces mixed in one block, exec statements, backticks, old octal and long
    # literals: all Python 2, all read.
    older = (
        "revision = 'o'\ndef upgrade():\n    if op:\n\top.execute('SELECT 1')\n"
        "    exec 'x = 1'\n    mode = 0777 + 10L\n    print `mode`\n"
    )
    o = read_migration("v/o.py", older.encode())
    assert o.parses and o.revision == "o" and o.dialect is SourceDialect.PYTHON2


def test_python2_and_python3_both_reject_it_is_a_parse_error() -> None:
    cases = {
        "syntax": PYTHON2.replace("def upgrade():", "def upgrade(:"),
        "python 3.12 only": "revision = 'r'\ntype Alias = int\nprint 'x'\n",
        "unclosed": PYTHON2 + "\nop.execute((\n",
    }
    for name, text in cases.items():
        m = read_migration("v/bad.py", text.encode())
        assert not m.parses and m.dialect is SourceDialect.PYTHON3, name
        assert m.revision is None and m.ast_fingerprint is None, name
    # Python 2 source past any real migration's size is not tried as Python 2.
    huge = PYTHON2 + "op.execute(u'UPDATE t SET x = 1')\n" * 20_000
    assert len(huge) > 512 * 1024
    assert not read_migration("v/huge.py", huge.encode()).parses
    syntax = read_migration("v/bad.py", cases["syntax"].encode())
    assert syntax.parse_error is not None and syntax.parse_error.line == 20
    assert syntax.doc_revision == "4b5c6d7e8f90"


def test_nesting_the_python_parser_rejects_is_a_parse_error_not_a_crash() -> None:
    for name, expression in {
        "sum of 10,000 terms": "+".join(["1"] * 10_000),
        "100,000 unary minus": "-" * 100_000 + "1",
        "5,000 calls": "f" + "()" * 5_000,
    }.items():
        m = read_migration("v/deep.py", f"revision = 'd'\nx = {expression}\n".encode())
        assert not m.parses and m.parse_error is not None, name
        assert "nested too deeply for the Python parser" in m.parse_error.message, name


def test_nesting_deeper_than_the_recursion_limit_is_read() -> None:
    arms = "".join(f"    elif x == {i}:\n        pass\n" for i in range(1, 250))
    files = {
        "elif chain": f"def upgrade():\n    x = 0\n    if x == 0:\n        pass\n{arms}",
        "sum of 1,000 terms": "x = " + "+".join(["1"] * 1000) + "\n",
        "1,000 unary minus": "x = " + "-" * 1000 + "1\n",
        "2,000 lambdas": "x = " + "lambda: " * 2000 + "1\n",
    }
    for name, text in files.items():
        m = read_migration("v/deep.py", f"revision = 'd'\ndown_revision = None\n{text}".encode())
        assert m.parses and m.revision == "d" and m.body_fingerprint, name


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["(", "[", "-", "not ", "lambda: ", "f(", "a.", "1+", "{1:", "x if y else "]),
    st.integers(min_value=1, max_value=5_000),
)
def test_never_raises_on_deep_nesting(opener: str, depth: int) -> None:
    closer = {"(": ")", "[": "]", "f(": ")", "{1:": "}"}.get(opener, "")
    text = f"revision = 'n'\nx = {opener * depth}1{closer * depth}\n"
    m = read_migration("v/n.py", text.encode())
    assert m.parses == (m.parse_error is None)


def test_statements_read_once_per_run_give_the_fingerprints_of_a_fresh_read() -> None:
    """Statements are remembered by their text: statements that share a line, a decorator
    that differs, line endings and annotations must each give what a fresh read gives."""
    header = "revision = 'r1'\ndown_revision = None\n"
    sources = [
        header + "a = 1; b = 2\n",
        header + "a = 1; b = 3\n",
        header + "b = 2; a = 1\n",
        header + "@op.f\ndef upgrade():\n    pass\n",
        header + "@op.g\ndef upgrade():\n    pass\n",
        header + "def upgrade():\n    pass\n",
        (header + "def upgrade():\r\n    op.create_table('t')\r\n").replace("\n", "\r\n"),
        header + "def upgrade():\n    op.create_table('t')\n",
        header + "from typing import List\nx: List[int] = []\n",
        header + "x: List[int] = []\n",
        header + "if True:\n    a = 1\nelse:\n    a = 2\n",
    ]

    def fingerprints(text: str) -> tuple[str | None, str | None]:
        m = read_migration("v/r1.py", text.encode())
        return m.ast_fingerprint, m.body_fingerprint

    remembered = [fingerprints(text) for text in sources + sources[::-1]]
    fresh = []
    for text in sources + sources[::-1]:
        semantic._NAMES_SEEN.clear()
        semantic._CANONICAL_SEEN.clear()
        fresh.append(fingerprints(text))
    assert remembered == fresh
    assert len(set(fresh)) == len(sources) - 1  # only the CRLF copy reads the same
