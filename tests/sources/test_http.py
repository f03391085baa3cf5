"""The JSON client against a real loopback server: retries, backoff, errors, no leaked keys."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest

from forensics.errors import InputError
from forensics.sources.http import JsonClient, next_link, retry_after
from tests.sources.apiserver import Api, Reply

SECRET = "rnd_TESTKEY_0123456789abcdef"


def client(api: Api, waits: list[float], **kw: object) -> JsonClient:
    return JsonClient(
        base_url=api.url,
        what="the test API",
        headers={"Authorization": f"Bearer {SECRET}"},
        secret=SECRET,
        credential_hint="TEST_KEY",
        sleep=waits.append,
        **kw,  # type: ignore[arg-type]
    )


def test_reads_json_and_sends_the_headers(api_server: Api) -> None:
    api_server.json("/things", [{"id": 1}])
    waits: list[float] = []
    answer = client(api_server, waits).get_json(f"{api_server.url}/things")
    assert answer.data == [{"id": 1}]
    assert api_server.seen[0][1]["Authorization"] == f"Bearer {SECRET}"
    assert waits == []


def test_429_honours_retry_after_and_caps_it(api_server: Api) -> None:
    api_server.on(
        "/busy",
        Reply(429, b"slow down", {"Retry-After": "2"}),
        Reply(429, b"slow down", {"Retry-After": "3600"}),
        Reply(200, [1, 2]),
    )
    waits: list[float] = []
    answer = client(api_server, waits, max_wait=7.0).get_json(f"{api_server.url}/busy")
    assert answer.data == [1, 2]
    assert waits == [2.0, 7.0]


def test_5xx_backs_off_exponentially_then_succeeds(api_server: Api) -> None:
    api_server.on("/flaky", Reply(500), Reply(503), Reply(200, {"ok": True}))
    waits: list[float] = []
    answer = client(api_server, waits, backoff=0.25).get_json(f"{api_server.url}/flaky")
    assert answer.data == {"ok": True}
    assert waits == [0.25, 0.5]


def test_retries_are_bounded(api_server: Api) -> None:
    api_server.on("/down", Reply(500, b"boom"))
    waits: list[float] = []
    with pytest.raises(InputError) as err:
        client(api_server, waits, attempts=3).get_json(f"{api_server.url}/down")
    assert len(api_server.seen) == 3 and len(waits) == 2
    assert "HTTP 500" in err.value.message and "\n" not in err.value.message


@pytest.mark.parametrize(
    ("status", "needle"),
    [(401, "TEST_KEY"), (403, "TEST_KEY"), (404, "HTTP 404"), (400, "HTTP 400")],
)
def test_client_errors_are_one_line_and_not_retried(
    api_server: Api, status: int, needle: str
) -> None:
    api_server.on("/x", Reply(status, {"message": f"echo {SECRET}"}))
    waits: list[float] = []
    with pytest.raises(InputError) as err:
        client(api_server, waits).get_json(f"{api_server.url}/x")
    assert needle in err.value.message
    assert SECRET not in err.value.message and "\n" not in err.value.message
    assert len(api_server.seen) == 1


def test_malformed_json_is_a_clear_error(api_server: Api) -> None:
    api_server.on("/bad", Reply(200, b"<html>proxy login</html>"))
    with pytest.raises(InputError, match="not JSON"):
        client(api_server, []).get_json(f"{api_server.url}/bad")


def test_unreachable_server_is_retried_then_reported() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    waits: list[float] = []
    api = Api(url=f"http://127.0.0.1:{port}")
    with pytest.raises(InputError, match="cannot reach") as err:
        client(api, waits, attempts=2, timeout=2.0).get_json(f"{api.url}/x?token={SECRET}")
    assert len(waits) == 1
    assert SECRET not in err.value.message


def test_the_key_never_reaches_the_logs(
    api_server: Api, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    api_server.on("/k", Reply(500), Reply(200, []))
    client(api_server, []).get_json(f"{api_server.url}/k?api_key={SECRET}")
    assert caplog.records, "the client logs its requests"
    out = capsys.readouterr()
    assert SECRET not in caplog.text + out.out + out.err


def test_retry_after_accepts_an_http_date() -> None:
    now = datetime(2025, 11, 16, 12, 0, tzinfo=UTC)
    assert retry_after("Sun, 16 Nov 2025 12:00:30 GMT", now) == 30.0
    assert retry_after("5", now) == 5.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_next_link_and_origin() -> None:
    link = '<https://api.example/x?page=2>; rel="next", <https://api.example/x?page=9>; rel="last"'
    assert next_link(link) == "https://api.example/x?page=2"
    assert next_link('<https://api.example/x?page=9>; rel="last"') is None
    c = JsonClient(base_url="https://api.example/", what="x")
    assert c.same_origin("https://api.example/x?page=2")
    assert not c.same_origin("https://evil.example/x")
