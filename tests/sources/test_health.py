"""The health check against a real loopback server: it reports, it never raises."""

from __future__ import annotations

import socket

from forensics.sources.health import check
from tests.sources.apiserver import Api, Reply


def test_json_status_field_is_summarised(api_server: Api) -> None:
    api_server.json("/health", {"status": "healthy", "db": "ok"})
    result = check(f"{api_server.url}/health")
    assert result.ok and result.status == 200 and result.summary == "status: healthy"
    assert result.error is None


def test_text_body_is_truncated_on_one_line(api_server: Api) -> None:
    api_server.on("/health", Reply(200, ("ok\n" * 500).encode()))
    result = check(f"{api_server.url}/health")
    assert result.ok and "\n" not in result.summary and len(result.summary) <= 200


def test_bodies_become_valid_text(api_server: Api) -> None:
    api_server.on("/health", Reply(200, b'{"status": "up \\udc8f"}'))
    assert check(f"{api_server.url}/health").summary == "status: up \ufffd"
    api_server.on("/plain", Reply(200, b"ok \xff\xfe"))
    assert check(f"{api_server.url}/plain").summary == "ok \ufffd\ufffd"


def test_error_status_is_reported(api_server: Api) -> None:
    api_server.on("/health", Reply(503, {"status": "degraded"}))
    result = check(f"{api_server.url}/health")
    assert not result.ok and result.status == 503
    assert result.summary == "status: degraded" and result.error == "HTTP 503"


def test_unreachable_is_reported_and_url_redacted() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = check(f"http://user:pa55word@127.0.0.1:{port}/health?token=abcdef123", timeout=2)
    assert not result.ok and result.status is None and result.error
    assert "pa55word" not in result.url and "abcdef123" not in result.url


def test_not_http() -> None:
    result = check("file:///etc/passwd")
    assert not result.ok and "http" in (result.error or "")
