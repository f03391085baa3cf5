"""The static migration reader: metadata, constants, tables, fingerprints, bad input."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.sources.alembic_files import ConstantResolver, read_migration, text_fingerprint


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
