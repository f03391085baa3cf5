"""Deploy logs: ``dir:PATH`` on real files and ``render-logs:SERVICE_ID`` against a real HTTP
server on loopback (pages, a 429, a 500, a malformed page), with the key never shown."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.errors import Diagnostics, ForensicsError, InputError, UsageError
from forensics.model.deploys import Deploy, DeployCategory
from forensics.sources.deploy_logs import RENDER_MAX_LINES, from_dir, from_render, load_logs
from forensics.sources.logtext import HEAD_LINES, MAX_LINE_BYTES, TAIL_LINES, LineCollector
from tests.sources.apiserver import Api, Reply

T0 = datetime(2025, 11, 14, 9, 0, tzinfo=UTC)
KEY = "rnd_SECRETkey1234567890"


def _deploy(ident: str, minutes: int = 0, finished: bool = True) -> Deploy:
    at = T0 + timedelta(minutes=minutes)
    return Deploy(
        id=ident,
        status="update_failed",
        category=DeployCategory.FAILED,
        created_at=at,
        source="render:x",
        finished_at=at + timedelta(minutes=3) if finished else None,
    )


def test_dir_reads_log_and_txt_files_and_skips_the_rest(tmp_path: Path) -> None:
    (tmp_path / "dep-1.log").write_text("==> Deploying...\nFAILED: Multiple head revisions\n")
    (tmp_path / "dep-2.txt").write_bytes(b"caf\xe9 \xff broken bytes\r\nlast line")
    diag = Diagnostics()
    logs = from_dir(str(tmp_path), [_deploy("dep-1"), _deploy("dep-2"), _deploy("dep-3")], diag)
    assert set(logs) == {"dep-1", "dep-2"}
    assert logs["dep-1"].lines == ("==> Deploying...", "FAILED: Multiple head revisions")
    assert logs["dep-2"].lines == ("caf\ufffd \ufffd broken bytes", "last line")
    assert not logs["dep-1"].truncated and not diag.warnings


def test_dir_never_follows_a_deploy_id_out_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    folder.mkdir()
    (tmp_path / "secret.log").write_text("not a deploy log")
    logs = from_dir(str(folder), [_deploy("../secret"), _deploy("/etc/passwd")], Diagnostics())
    assert logs == {}


def test_dir_huge_log_is_streamed_and_capped(tmp_path: Path) -> None:
    path = tmp_path / "dep-big.log"
    line = b"INFO  [app] warming caches " + b"x" * 80 + b"\n"
    with path.open("wb") as out:
        out.write(b"==> Build started\n")
        block = line * 10_000
        while out.tell() < 50 * 1024 * 1024:
            out.write(block)
        out.write(b"y" * (MAX_LINE_BYTES * 3) + b"\n")
        out.write(b'psycopg.errors.DuplicateTable: relation "documents" already exists\n')
    (log,) = from_dir(str(tmp_path), [_deploy("dep-big")], Diagnostics()).values()
    assert log.truncated
    assert log.lines[0] == "==> Build started"
    assert log.lines[-1].endswith('relation "documents" already exists')
    assert len(log.lines[-2]) <= MAX_LINE_BYTES + 2 and log.lines[-2].endswith("…")
    assert len(log.lines) == HEAD_LINES + 1 + TAIL_LINES
    assert "lines of this log were left out" in log.lines[HEAD_LINES]


def test_dir_errors_and_warnings(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a folder"):
        from_dir(str(tmp_path / "nowhere"), [_deploy("d")], Diagnostics())
    diag = Diagnostics()
    assert from_dir(str(tmp_path), [_deploy("dep-9")], diag) == {}
    assert "dep-9.log" in diag.warnings[0]
    with pytest.raises(UsageError, match="no known source prefix"):
        load_logs(["s3:bucket"], [_deploy("d")], Diagnostics())


def _page(messages: list[str], more: bool = False, next_start: str = "") -> dict[str, object]:
    return {
        "hasMore": more,
        "nextStartTime": next_start or None,
        "nextEndTime": "2025-11-14T09:03:00.000000Z" if more else None,
        "logs": [
            {
                "id": f"log-{i}",
                "timestamp": "2025-11-14T09:01:00Z",
                "message": text,
                "labels": [
                    {"name": "resource", "value": "srv-1"},
                    {"name": "type", "value": "app"},
                ],
            }
            for i, text in enumerate(messages)
        ],
    }


def _env(api: Api, **extra: str) -> dict[str, str]:
    return {"RENDER_API_KEY": KEY, "FORENSICS_RENDER_API_URL": api.url, **extra}


def test_render_logs_pages_retries_and_owner_lookup(
    api_server: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    api_server.json("/v1/services/srv-1", {"id": "srv-1", "ownerId": "tea-owner"})
    api_server.on(
        "/v1/logs",
        Reply(429, {"message": "slow down"}, {"Retry-After": "0"}),
        Reply(200, _page(["==> Running 'alembic upgrade head'"], True, "2025-11-14T09:01:30Z")),
        Reply(500, {"message": "oops"}, {"Retry-After": "0"}),
        Reply(200, _page(["\x1b[31mFAILED: Multiple head revisions are present\x1b[0m\nsecond"])),
    )
    diag = Diagnostics()
    logs = from_render("srv-1", [_deploy("dep-1")], diag, env=_env(api_server))
    assert logs["dep-1"].lines == (
        "==> Running 'alembic upgrade head'",
        "\x1b[31mFAILED: Multiple head revisions are present\x1b[0m",
        "second",
    )
    targets = api_server.targets()
    assert targets[0] == "/v1/services/srv-1"
    first = targets[1]
    assert "ownerId=tea-owner" in first and "resource=srv-1" in first
    assert "startTime=2025-11-14T09%3A00%3A00.000000Z" in first
    assert "endTime=2025-11-14T09%3A03%3A00.000000Z" in first and "direction=forward" in first
    assert "startTime=2025-11-14T09%3A01%3A30Z" in targets[-1]
    assert all(h.get("Authorization") == f"Bearer {KEY}" for _t, h in api_server.seen)
    out, err = capsys.readouterr()
    assert KEY not in out + err + caplog.text + " ".join(diag.warnings)


def test_render_logs_owner_from_the_environment_and_line_cap(api_server: Api) -> None:
    many = [f"line {n}" for n in range(150)]
    pages = [Reply(200, _page(many, True, f"2025-11-14T09:02:{n:02d}Z")) for n in range(60)]
    api_server.on("/v1/logs", *pages)
    logs = from_render(
        "srv-1",
        [_deploy("dep-1", finished=False)],
        Diagnostics(),
        env=_env(api_server, RENDER_OWNER_ID="tea-x"),
    )
    lines = logs["dep-1"].lines
    assert "more than" in lines[-1] and str(RENDER_MAX_LINES) in lines[-1]
    assert all("/v1/services" not in t for t in api_server.targets())
    assert logs["dep-1"].truncated
    assert len(api_server.targets()) == RENDER_MAX_LINES // 150 + 1
    # an open deploy is searched for an hour after it started
    assert "endTime=2025-11-14T10%3A00%3A00.000000Z" in api_server.targets()[0]


def test_render_logs_malformed_pages(api_server: Api) -> None:
    api_server.on("/v1/logs", Reply(200, {"logs": "nope"}))
    diag = Diagnostics()
    env = _env(api_server, RENDER_OWNER_ID="tea-x")
    assert from_render("srv-1", [_deploy("dep-1")], diag, env=env) == {}
    assert "expected shape" in diag.warnings[0]
    api_server.on("/v1/logs", Reply(200, b"<html>proxy error</html>"))
    with pytest.raises(ForensicsError) as info:
        from_render("srv-1", [_deploy("dep-1")], Diagnostics(), env=env)
    assert "not JSON" in info.value.message and KEY not in info.value.message


def test_render_logs_needs_a_key_and_a_service() -> None:
    with pytest.raises(InputError, match="RENDER_API_KEY"):
        from_render("srv-1", [_deploy("d")], Diagnostics(), env={})
    with pytest.raises(UsageError, match="service id"):
        from_render(" ", [_deploy("d")], Diagnostics(), env={})
    assert from_render("srv-1", [], Diagnostics(), env={}) == {}


def test_refused_key_is_one_line_without_the_key(api_server: Api) -> None:
    api_server.on("/v1/logs", Reply(401, {"message": "unauthorized"}))
    with pytest.raises(InputError) as info:
        from_render(
            "srv-1", [_deploy("d")], Diagnostics(), env=_env(api_server, RENDER_OWNER_ID="o")
        )
    assert "RENDER_API_KEY" in info.value.message and KEY not in info.value.message


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=20))
def test_any_bytes_in_any_chunks_give_bounded_lines(chunks: list[bytes]) -> None:
    collector = LineCollector()
    for chunk in chunks:
        collector.feed(chunk)
    log = collector.finish("d", "test")
    joined = b"".join(chunks)
    assert len(log.lines) <= HEAD_LINES + 1 + TAIL_LINES
    assert all(len(line) <= MAX_LINE_BYTES + 2 for line in log.lines)
    if not log.truncated and joined and b"\r" not in joined:
        expected = joined.decode("utf-8", errors="replace").split("\n")
        if expected[-1] == "":
            expected.pop()
        if all(len(line.encode()) <= MAX_LINE_BYTES for line in expected):
            assert list(log.lines) == expected
