"""Parsing ``git log --raw -z`` output and commit trailers: renames, malformed input, and
arbitrary text that never crashes the parser."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.model.commits import ChangeStatus
from forensics.sources.git import parse_trailers
from forensics.sources.git.log import _RS, _US, _parse_raw, parse_log


def test_parse_raw_renames_and_malformed_input() -> None:
    blob_a, blob_b = "a" * 40, "b" * 40
    fields = [
        f"\n:100644 100644 {blob_a} {blob_b} R087",
        "old/x.py",
        "new/x.py",
        f":000000 100644 {'0' * 40} {blob_b} A",
        "y.py",
        ":garbage",
        f":100644 000000 {blob_a} {'0' * 40} D",
    ]
    renamed, added = _parse_raw(fields)
    assert (renamed.status, renamed.old_path, renamed.path) == (
        ChangeStatus.RENAMED,
        "old/x.py",
        "new/x.py",
    )
    assert added.old_blob is None and added.new_blob == blob_b


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(":AMDRC0ab \n\x00\t/x"), max_size=40)))
def test_parse_raw_never_crashes(fields: list[str]) -> None:
    for change in _parse_raw(fields):
        assert isinstance(change.path, str)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_log_and_trailers_never_crash(text: str) -> None:
    out = (_RS + "f" * 40 + _US + text + _US + text).encode("utf-8", "surrogatepass")
    assert isinstance(parse_log(out, True), list)
    for key, value in parse_trailers(text):
        assert key and value
