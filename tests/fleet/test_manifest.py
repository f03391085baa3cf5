"""The fleet manifest: defaults, paths relative to it, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from forensics.errors import UsageError
from forensics.fleet import DEFAULT_TIMEOUT, read_manifest


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(text)
    return path


def test_defaults_apply_and_paths_are_relative_to_the_manifest(tmp_path: Path) -> None:
    manifest = _write(
        tmp_path,
        """
[defaults]
migrations = ["db/migrations"]
deploy_logs = ["dir:logs"]
timeout = 60

[[repo]]
name = "billing"
path = "repos/billing"
deploys = ["csv:deploys/billing.csv", "render-api:srv-1"]
tags = ["v*"]

[[repo]]
name = "search"
url = "https://token:s3cret@git.example.com/org/search.git"
migrations = ["alembic"]
timeout = 5
""",
    )
    billing, search = read_manifest(manifest)
    assert billing.path == (tmp_path / "repos" / "billing").resolve()
    assert billing.deploys == (
        f"csv:{tmp_path / 'deploys/billing.csv'}",
        "render-api:srv-1",
        "tags:v*",
    )
    assert billing.migrations == ("db/migrations",)
    assert billing.deploy_logs == (f"dir:{tmp_path / 'logs'}",)
    assert billing.timeout == 60.0
    assert billing.key == str(billing.path)
    assert search.url is not None and search.path is None
    assert search.migrations == ("alembic",) and search.timeout == 5.0
    assert "s3cret" not in search.key and search.key.endswith("git.example.com/org/search.git")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[[repo]]\npath = 'x'\n", "give each repository a 'name'"),
        ("[[repo]]\nname = 'a'\n", "give either 'path' or 'url'"),
        ("[[repo]]\nname = 'a'\npath = 'x'\nurl = 'y'\n", "give either 'path' or 'url'"),
        ("[[repo]]\nname = 'a'\npath = 'x'\n[[repo]]\nname = 'a'\npath = 'y'\n", "used twice"),
        ("[[repo]]\nname = '../a'\npath = 'x'\n", "plain file name"),
        ("[[repo]]\nname = 'a'\npath = 'x'\ndeploy = ['csv:x']\n", "unknown key 'deploy'"),
        ("[[repo]]\nname = 'a'\npath = 'x'\ntimeout = 'soon'\n", "'timeout'"),
        ("[defaults]\nmigrations = 'a'\n", "[[repo]] tables"),
        ("[repos]\n", "unknown table 'repos'"),
        ("name = [\n", "not valid TOML"),
    ],
)
def test_a_bad_manifest_says_what_to_fix(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        read_manifest(_write(tmp_path, text))
    assert says in caught.value.message
    assert "\n" not in caught.value.message


def test_defaults(tmp_path: Path) -> None:
    (entry,) = read_manifest(_write(tmp_path, "[[repo]]\nname = 'a'\npath = '.'\n"))
    assert (entry.rev, entry.timeout, entry.deploys) == ("HEAD", DEFAULT_TIMEOUT, ())
