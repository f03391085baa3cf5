"""No credential crosses to another origin: a loopback API that redirects to a second loopback
server (another port), which logs every header that reaches it."""

from __future__ import annotations

import base64
import socket

import pytest

from forensics.errors import Diagnostics, InputError
from forensics.sources import github, render_com
from forensics.sources.health import check
from forensics.sources.http import JsonClient
from tests.sources.apiserver import Api, Reply

KEY = "rnd_REDIRECTKEY_0123456789"
TOKEN = "ghp_REDIRECTTOKEN0123456789abcdef"
DEPLOYS = "/v1/services/srv-abc/deploys?limit=100"
DEPLOY = {"deploy": {"id": "dep-1", "status": "live", "createdAt": "2025-11-13T10:00:00Z"}}


def nothing_secret_arrived(other: Api, *secrets: str) -> None:
    for _target, headers in other.seen:
        assert not any(k.lower() in ("authorization", "cookie") for k in headers), headers
        assert not any(s in v for v in headers.values() for s in secrets)


def test_render_api_redirect_to_another_origin_is_refused(
    api_server: Api, other_server: Api
) -> None:
    api_server.on(DEPLOYS, Reply(302, b"", {"Location": f"{other_server.url}{DEPLOYS}"}))
    other_server.json(DEPLOYS, [DEPLOY])
    env = {"RENDER_API_KEY": KEY, "FORENSICS_RENDER_API_URL": api_server.url}
    with pytest.raises(InputError, match="another origin") as caught:
        render_com.fetch("srv-abc", Diagnostics(), env=env)
    assert KEY not in caught.value.message
    assert api_server.seen[0][1]["Authorization"] == f"Bearer {KEY}"
    assert other_server.seen == []
    nothing_secret_arrived(other_server, KEY)


def test_github_api_redirect_to_another_origin_is_refused(
    api_server: Api, other_server: Api
) -> None:
    path = "/repos/acme/shop/deployments?per_page=100"
    api_server.on(path, Reply(301, b"", {"Location": f"{other_server.url}{path}"}))
    other_server.json(path, [])
    env = {"GITHUB_TOKEN": TOKEN, "FORENSICS_GITHUB_API_URL": api_server.url}
    with pytest.raises(InputError, match="another origin"):
        github.fetch("acme/shop", Diagnostics(), env=env)
    assert other_server.seen == []
    nothing_secret_arrived(other_server, TOKEN)


def test_same_origin_redirect_is_followed_with_the_key(api_server: Api) -> None:
    api_server.on(DEPLOYS, Reply(307, b"", {"Location": "/v2/deploys"}))
    api_server.json("/v2/deploys", [DEPLOY])
    env = {"RENDER_API_KEY": KEY, "FORENSICS_RENDER_API_URL": api_server.url}
    got = render_com.fetch("srv-abc", Diagnostics(), env=env)
    assert [d.id for d in got] == ["dep-1"]
    assert [t for t, _ in api_server.seen] == [DEPLOYS, "/v2/deploys"]
    assert all(h["Authorization"] == f"Bearer {KEY}" for _, h in api_server.seen)


def test_zero_deploys_after_a_redirect_is_an_error(api_server: Api) -> None:
    api_server.on(DEPLOYS, Reply(302, b"", {"Location": "/login"}))
    api_server.json("/login", [])
    env = {"RENDER_API_KEY": KEY, "FORENSICS_RENDER_API_URL": api_server.url}
    with pytest.raises(InputError, match=r"redirected .* listed no deploys"):
        render_com.fetch("srv-abc", Diagnostics(), env=env)


def test_zero_deploys_without_a_redirect_is_an_empty_history(api_server: Api) -> None:
    api_server.json(DEPLOYS, [])
    env = {"RENDER_API_KEY": KEY, "FORENSICS_RENDER_API_URL": api_server.url}
    assert render_com.fetch("srv-abc", Diagnostics(), env=env) == []


def test_health_credentials_never_reach_another_origin(api_server: Api, other_server: Api) -> None:
    api_server.on("/health", Reply(302, b"", {"Location": f"{other_server.url}/health"}))
    other_server.json("/health", {"status": "ok"})
    result = check(f"http://ops:pw-S3CRET@{api_server.url.removeprefix('http://')}/health")
    assert not result.ok and result.error and "another origin" in result.error
    assert other_server.seen == []
    nothing_secret_arrived(other_server, "pw-S3CRET")


@pytest.mark.parametrize("password", ["PW", "p@ss@word", "p%40ss:x"])
def test_health_url_with_a_password_is_parsed_not_taken_for_a_port(
    api_server: Api, password: str
) -> None:
    api_server.json("/health", {"status": "ok"})
    host = api_server.url.removeprefix("http://")
    result = check(f"http://user:{password}@{host}/health")
    assert result.ok and result.summary == "status: ok", result
    sent = api_server.seen[0][1]["Authorization"].removeprefix("Basic ")
    expected = password.replace("%40", "@")
    assert base64.b64decode(sent).decode() == f"user:{expected}"
    assert expected not in result.url and password not in result.url


def test_base_url_credentials_stay_out_of_the_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    for base in (f"http://u:Pw@Leak@127.0.0.1:{port}", "http://u:Pw@Leak@127.0.0.1:x9/"):
        client = JsonClient(base_url=base, what="the test API", attempts=2, sleep=[].append)
        with pytest.raises(InputError) as caught:
            client.get_json(client.url("/deploys"))
        assert "Pw" not in caught.value.message and "Leak" not in caught.value.message
        assert "nonnumeric" not in caught.value.message
