"""CSV and JSON Lines deploy exports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import Diagnostics, ForensicsError, InputError
from forensics.model.deploys import DeployCategory
from forensics.sources import tabular

CSV = """Id,Commit,Status,Created_At,Finished_At,Service,Notes
d1,abc1234,live,2025-11-16T09:00:00Z,2025-11-16T09:05:00Z,api,first
d2,def5678,update_failed,2025-11-16 10:00:00,,api,"a, quoted note"
d3,,failed,2025-11-16T12:00:00+02:00,,,
"""


def test_csv_reads_columns_in_any_case_and_ignores_extras(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    got = tabular.read_csv(str(path), Diagnostics())
    assert [d.id for d in got] == ["d1", "d2", "d3"]
    d1, d2, d3 = got
    assert d1.category is DeployCategory.LIVE and d1.commit_ref == "abc1234"
    assert d1.finished_at is not None and d1.service == "api" and d1.source == f"csv:{path}"
    assert d2.category is DeployCategory.FAILED and d2.finished_at is None
    assert d2.created_at.isoformat() == "2025-11-16T10:00:00+00:00"
    assert d3.created_at.isoformat() == "2025-11-16T10:00:00+00:00" and d3.commit_ref is None


def test_jsonl_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    rows = [
        {"id": "a", "commit": "abc", "status": "success", "created_at": "2025-11-16T09:00:00Z"},
        {"id": "b", "status": "in_progress", "created_at": 1763290800, "service": "web"},
    ]
    path.write_text(json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n")
    got = tabular.read_jsonl(str(path), Diagnostics())
    assert [(d.id, d.category) for d in got] == [
        ("a", DeployCategory.LIVE),
        ("b", DeployCategory.IN_PROGRESS),
    ]
    assert got[1].created_at.isoformat() == "2025-11-16T11:00:00+00:00"


def test_jsonl_lines_end_at_newline_only(tmp_path: Path) -> None:
    """U+2028, U+0085 and a form feed are text inside a JSON string, not line ends; CRLF
    files still read; an escaped lone surrogate comes out as U+FFFD."""
    path = tmp_path / "d.jsonl"
    service = "web\u2028api\x85x\x0cy"
    rows = [
        {"id": "a", "status": "live", "created_at": "2025-11-16T09:00:00Z", "service": service},
        {"id": "b\udc8f", "status": "failed", "created_at": "2025-11-16T10:00:00Z"},
    ]
    path.write_bytes(
        "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:1]).encode()
        + b"\r\n"
        + json.dumps(rows[1]).encode()
    )
    got = tabular.read_jsonl(str(path), Diagnostics())
    assert [(d.id, d.service) for d in got] == [("a", service), ("b\ufffd", None)]


@pytest.mark.parametrize(
    ("reader", "content", "needle"),
    [
        ("csv", "", "is empty"),
        ("csv", "commit,status\nabc,live\n", "no id or created_at column"),
        ("csv", 'id,created_at\n"d1,2025-11-16\n', "not valid CSV"),
        ("csv", "id,created_at\n", "holds no deploy records"),
        ("csv", "id,created_at\n,2025-11-16T09:00:00Z\n", "no id"),
        ("csv", "id,created_at\nd1,\n", "no created_at"),
        ("jsonl", "\n\n", "is empty"),
        ("jsonl", '{"id": "a", "created_at": "2025-11-16"}\n{"id": \n', "line 2 is not valid JSON"),
        ("jsonl", "[1, 2]\n", "not a JSON object"),
        ("jsonl", '{"id": "a"}\n', "no created_at"),
    ],
)
def test_bad_files_get_one_line_errors(
    tmp_path: Path, reader: str, content: str, needle: str
) -> None:
    path = tmp_path / f"d.{reader}"
    path.write_text(content)
    read = tabular.read_csv if reader == "csv" else tabular.read_jsonl
    with pytest.raises(InputError) as err:
        read(str(path), Diagnostics())
    assert needle in err.value.message
    assert str(path) in err.value.message and "\n" not in err.value.message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"id,created_at\n\xff\xfe,2025\n")
    with pytest.raises(InputError, match="not UTF-8"):
        tabular.read_csv(str(path), Diagnostics())


def test_a_bad_row_among_good_ones_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,created_at,status\nd1,2025-11-16T09:00:00Z,live\nd2,later,live\n")
    diag = Diagnostics()
    got = tabular.read_csv(str(path), diag)
    assert [d.id for d in got] == ["d1"]
    assert "row 3" in diag.warnings[0] and "'later'" in diag.warnings[0]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=300), st.sampled_from(["csv", "jsonl"]))
def test_arbitrary_text_never_crashes(tmp_path: Path, text: str, reader: str) -> None:
    path = tmp_path / f"fuzz.{reader}"
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    read = tabular.read_csv if reader == "csv" else tabular.read_jsonl
    try:
        read(str(path), Diagnostics())
    except ForensicsError as exc:
        assert "\n" not in exc.message


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                k: st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=25)
                for k in tabular.COLUMNS
            },
        ),
        max_size=5,
    )
)
def test_csv_shaped_rows_never_crash(tmp_path: Path, rows: list[dict[str, object]]) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    try:
        tabular.read_jsonl(str(path), Diagnostics())
    except ForensicsError as exc:
        assert "\n" not in exc.message
