"""One redaction layer at the report boundary: no credential in any output, log or error."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics import errors
from forensics.demo import DemoScenario
from forensics.errors import RedactingFilter, redact, register_secret
from tests.conftest import DEMO_UNTIL as UNTIL
from tests.conftest import Run
from tests.sources.apiserver import serve


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("https://user:PW@host/health", "PW"),
        ("postgresql://app:p@ss@w0rd@db.internal:5432/prod", "p@ss@w0rd"),
        ("postgresql://app:p@ss@w0rd@db.internal:5432/prod", "w0rd"),
        ("GET https://api/x?key=AIzaSyD-1234&page=2", "AIzaSyD-1234"),
        ("https://cdn/x?sig=abc123def&se=2025", "abc123def"),
        ("https://s3/x?X-Amz-Signature=deadbeef99&X-Amz-Credential=AKIA7/x", "deadbeef99"),
        ("https://s3/x?X-Amz-Signature=deadbeef99&X-Amz-Credential=AKIA7/x", "AKIA7"),
        ("https://s3/x?X-Amz-Security-Token=FwoGZX1&y=1", "FwoGZX1"),
        ("cookie jar: session=0f9e8d7c6b; path=/", "0f9e8d7c6b"),
        ("retry with access_token=ya29.A0ARrdaM and go", "ya29.A0ARrdaM"),
        ("db password=hunter2x failed", "hunter2x"),
        ("client_secret=s3kr1t&x=1", "s3kr1t"),
        ("echo: Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("upstream said 'authorization=Bearer abc.def' oops", "abc.def"),
        ('{"message": "bad", "token": "ghp_0123456789abcdef"}', "ghp_0123456789abcdef"),
        ("failed with Bearer abcdefghijklmnop", "abcdefghijklmnop"),
    ],
)
def test_secrets_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "sa.Column('id', sa.Integer, primary_key=True)",
        "the token expired yesterday",
        "Author: Bob <bob@example.com>",
        "merge heads 3c4d5e6f7a8b aae3309a2a8b",
        "https://github.com/acme/shop/pull/12",
    ],
)
def test_prose_and_code_are_kept(text: str) -> None:
    assert redact(text) == text


def _every_pattern(text: str) -> str:
    """``redact`` as it was before its quick tests: every pattern over every text."""
    for secret in sorted(errors._secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = errors._URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)
    text = errors._SECRET_HEADERS.sub(lambda m: f"{m.group('key')}***", text)
    text = errors._PARAMS.sub(errors._named_secret, text)
    text = errors._SECRET_QUERY.sub(lambda m: f"{m.group('key')}***", text)
    text = errors._MEMBERS.sub(errors._named_secret, text)
    return errors._BEARER.sub(errors._credential, text)


_PIECES = st.sampled_from(
    [
        "://", "@", "=", ":", '"', "?", "&", ";", " ", "\n", "x", "user", "pw", "key",
        "sig", "token", "TOKEN", "bearer", "Basic", "baſic", "\u212aey", "basıc",
        "password", "api_key", "authorization", "cookie", "abcdefgh12", "https", "ſ",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_quick_tests_never_change_what_is_redacted(text: str) -> None:
    """The character tests before each pattern only skip work: the patterns alone (case
    folding included: "ſ" matches "s", "ı" matches "i") give the same result."""
    assert redact(text) == _every_pattern(text)


def test_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("rnd_LOGGEDKEY_0001")
    logger = logging.getLogger("forensics.test-redaction")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("calling %s with %s", "https://u:pw9@h/x", "rnd_LOGGEDKEY_0001")
    assert "pw9" not in caplog.text and "rnd_LOGGEDKEY_0001" not in caplog.text


def test_no_credential_reaches_any_report(demo: DemoScenario, run: Run, tmp_path: Path) -> None:
    """A health URL with a password holding '@', and a deploy API's echo of a header and a
    signed URL in a commit message: none of them reaches md, html, json, sarif or stderr."""
    deploys = json.loads(demo.deploys_file.read_text())
    deploys[0]["deploy"]["commit"]["message"] = (
        "retry: upstream said Authorization: Bearer ghp_ECHOEDTOKEN0123 for "
        "https://bucket.s3/x?X-Amz-Signature=SIGNATURE0042&session=SESS0042"
    )
    hostile = tmp_path / "deploys.json"
    hostile.write_text(json.dumps(deploys))
    secrets = ["ghp_ECHOEDTOKEN0123", "SIGNATURE0042", "SESS0042", "P@ssW0rd-99", "W0rd-99"]
    with serve() as health:
        health.json("/health", {"status": "ok"})
        url = f"http://ops:P@ssW0rd-99@{health.url.removeprefix('http://')}/health"
        code, out, err = run(
            "analyze", "--repo", str(demo.repo), "--since", "2025-11-13", "--until", UNTIL,
            "--deploys", f"render:{hostile}", "--no-cache", "--health-url", url,
            "--format", "md,html,json,sarif", "--out", str(tmp_path / "out"),
        )  # fmt: skip
    assert code == 0, err
    assert health.seen, "the health check was made"
    texts = [p.read_text() for p in (tmp_path / "out").iterdir()]
    assert len(texts) == 4
    doc = json.loads(next(t for t in texts if t.startswith("{") and '"schema"' in t[:40]))
    assert doc["production"]["health"]["status"] == 200
    assert any("retry: upstream said" in t for t in texts), "the message itself is shown"
    for text in [*texts, out, err]:
        assert "nonnumeric port" not in text
        for secret in secrets:
            assert secret not in text
