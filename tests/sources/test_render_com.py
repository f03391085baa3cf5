"""Render deploys from a file and from a real loopback API server."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.errors import Diagnostics, ForensicsError, InputError
from forensics.model.deploys import DeployCategory
from forensics.sources import render_com
from tests.sources.apiserver import Api, Reply

KEY = "rnd_SeCrEtKeY_42424242"


def deploy(n: int, status: str = "live", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"dep-{n:04d}",
        "commit": {"id": f"{n:07x}", "message": f"change {n}", "createdAt": "2025-11-16T08:00:00Z"},
        "status": status,
        "trigger": "new_commit",
        "createdAt": f"2025-11-16T09:{n % 60:02d}:00Z",
        "updatedAt": f"2025-11-16T09:{n % 60:02d}:30Z",
        "finishedAt": f"2025-11-16T09:{n % 60:02d}:45Z",
        **extra,
    }


def write(tmp_path: Path, data: object, name: str = "deploys.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_reads_the_list_deploys_shape(tmp_path: Path) -> None:
    items = [
        {"deploy": deploy(1, "update_failed"), "cursor": "c1"},
        {"deploy": deploy(2, "deactivated", image={"ref": "x"}), "cursor": "c2"},
    ]
    got = render_com.read_file(write(tmp_path, items), Diagnostics())
    assert [d.id for d in got] == ["dep-0001", "dep-0002"]
    failed, old = got
    assert failed.category is DeployCategory.FAILED and failed.status == "update_failed"
    assert old.category is DeployCategory.SUPERSEDED and old.category.succeeded
    assert failed.commit_ref == "0000001" and failed.message == "change 1"
    assert failed.trigger == "new_commit" and failed.source.startswith("render:")
    assert (
        failed.created_at.tzinfo is not None and failed.created_at.utcoffset().total_seconds() == 0
    )


def test_escaped_lone_surrogates_become_replacement_characters(tmp_path: Path) -> None:
    """Saved API output as real teams' scripts write it: an escaped lone surrogate and
    double-encoded UTF-8 in a message, a surrogate in the id and the status."""
    text = json.dumps(
        [
            {
                "deploy": deploy(
                    1,
                    "update_failed\udc8f",
                    id="dep-\ud800x",
                    commit={
                        "id": "abc1234",
                        "message": "fix: guard \u00f0\u0178\u0161\u00a8 \udc8f",
                    },
                ),
                "cursor": "c1",
            }
        ]
    )
    assert "\\udc8f" in text
    diag = Diagnostics()
    (got,) = render_com.read_file(write(tmp_path, text), diag)
    assert got.message == "fix: guard \u00f0\u0178\u0161\u00a8 \ufffd"
    assert got.id == "dep-\ufffdx" and got.status == "update_failed\ufffd"
    assert got.category is DeployCategory.UNKNOWN and len(diag.warnings) == 1
    for value in (got.message, got.id, got.status, *diag.warnings):
        value.encode("utf-8")


def test_plain_list_with_offsets_missing_finish_and_in_progress(tmp_path: Path) -> None:
    running = deploy(3, "build_in_progress", createdAt="2025-11-16T11:00:00+02:00")
    del running["finishedAt"]
    got = render_com.read_file(
        write(tmp_path, [running, deploy(4, "pre_deploy_failed")]), Diagnostics()
    )
    assert got[0].category is DeployCategory.IN_PROGRESS
    assert got[0].finished_at is None
    assert got[0].created_at.isoformat() == "2025-11-16T09:00:00+00:00"
    assert got[1].category is DeployCategory.FAILED


def test_every_render_status_has_its_category(tmp_path: Path) -> None:
    expected = {
        "live": "live",
        "build_failed": "failed",
        "update_failed": "failed",
        "pre_deploy_failed": "failed",
        "deactivated": "superseded",
        "canceled": "canceled",
        "created": "in_progress",
        "queued": "in_progress",
        "build_in_progress": "in_progress",
        "update_in_progress": "in_progress",
        "pre_deploy_in_progress": "in_progress",
    }
    items = [deploy(i, status) for i, status in enumerate(expected)]
    got = render_com.read_file(write(tmp_path, items), Diagnostics())
    assert {d.status: d.category.value for d in got} == expected


def test_unknown_status_is_kept_with_a_warning(tmp_path: Path) -> None:
    diag = Diagnostics()
    got = render_com.read_file(write(tmp_path, [deploy(1, "exploded")]), diag)
    assert got[0].category is DeployCategory.UNKNOWN and got[0].status == "exploded"
    assert any("exploded" in w for w in diag.warnings)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ('[{"id": ', "not valid JSON"),
        ('{"deploy": {}}', "must hold"),
        (json.dumps([{"status": "live", "createdAt": "2025-11-16T09:00:00Z"}]), "no id"),
        (json.dumps([{"id": "dep-1", "status": "live"}]), "no createdAt"),
        (json.dumps([{"id": "dep-1", "createdAt": "yesterday"}]), "not an ISO 8601 time"),
    ],
)
def test_bad_files_get_one_line_errors(tmp_path: Path, content: str, needle: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InputError) as err:
        render_com.read_file(path, Diagnostics())
    assert needle in err.value.message
    assert path in err.value.message and "\n" not in err.value.message


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        render_com.read_file(str(tmp_path / "nope.json"), Diagnostics())


def test_partly_bad_file_gives_partial_result_and_a_warning(tmp_path: Path) -> None:
    diag = Diagnostics()
    no_id = deploy(2)
    del no_id["id"]
    got = render_com.read_file(write(tmp_path, [deploy(1), no_id, "junk"]), diag)
    assert [d.id for d in got] == ["dep-0001"]
    assert len(diag.warnings) == 1
    assert "skipped 2 of 3" in diag.warnings[0] and "record 2: it has no id" in diag.warnings[0]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    ["id", "deploy", "status", "createdAt", "finishedAt", "commit", "x"]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_crashes(tmp_path: Path, data: object) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(data))
    try:
        render_com.read_file(str(path), Diagnostics())
    except ForensicsError as exc:
        assert "\n" not in exc.message


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(ForensicsError):
        render_com.read_file(str(path), Diagnostics())


# -- the API ----------------------------------------------------------------------------------
def api_env(api: Api) -> dict[str, str]:
    return {"RENDER_API_KEY": KEY, "FORENSICS_RENDER_API_URL": api.url}


def page(numbers: range) -> list[dict[str, Any]]:
    return [{"deploy": deploy(n, "update_failed"), "cursor": f"c{n}"} for n in numbers]


def test_api_pages_through_cursors_with_429_and_500(
    api_server: Api,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    base = "/v1/services/srv-abc/deploys?limit=100"
    api_server.on(base, Reply(429, b"", {"Retry-After": "0"}), Reply(200, page(range(100))))
    api_server.on(f"{base}&cursor=c99", Reply(500), Reply(200, page(range(100, 200))))
    api_server.on(f"{base}&cursor=c199", Reply(200, page(range(200, 203))))
    diag = Diagnostics()
    got = render_com.fetch("srv-abc", diag, env=api_env(api_server))
    assert len(got) == 203 and len({d.id for d in got}) == 203
    assert all(d.service == "srv-abc" and d.source == "render-api:srv-abc" for d in got)
    assert api_server.targets() == [
        base,
        base,
        f"{base}&cursor=c99",
        f"{base}&cursor=c99",
        f"{base}&cursor=c199",
    ]
    assert all(h["Authorization"] == f"Bearer {KEY}" for _, h in api_server.seen)
    out = capsys.readouterr()
    assert KEY not in caplog.text + out.out + out.err + " ".join(diag.warnings)


def test_api_malformed_page_is_a_clear_error_without_the_key(api_server: Api) -> None:
    api_server.on("/v1/services/srv-abc/deploys", Reply(200, b"{not json"))
    with pytest.raises(InputError) as err:
        render_com.fetch("srv-abc", Diagnostics(), env=api_env(api_server))
    assert "not JSON" in err.value.message and KEY not in err.value.message


def test_api_refused_key(api_server: Api) -> None:
    api_server.on("/v1/services/srv-abc/deploys", Reply(401, {"message": "unauthorized"}))
    with pytest.raises(InputError, match="RENDER_API_KEY") as err:
        render_com.fetch("srv-abc", Diagnostics(), env=api_env(api_server))
    assert KEY not in err.value.message


def test_api_needs_a_key() -> None:
    with pytest.raises(InputError, match="set RENDER_API_KEY"):
        render_com.fetch("srv-abc", Diagnostics(), env={})
