"""Shared fixtures. ``git_repo`` builds real repositories with pinned names and dates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from forensics.cli import main
from forensics.demo import DemoScenario, build_demo_repo
from forensics.gitbuild import RepoBuilder

Run = Callable[..., tuple[int, str, str]]

DEMO_SINCE = "2025-11-13"
DEMO_UNTIL = "2025-11-16T17:25:00Z"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoScenario:
    """The demo incident repository, built once per test module (tests may write into it)."""
    return build_demo_repo(tmp_path_factory.mktemp("demo"))


def demo_analyze(demo: DemoScenario, *extra: str, deploys: Path | None = None) -> list[str]:
    """``analyze`` over the demo's incident window, uncached, with ``deploys`` as a Render log."""
    argv = ["analyze", "--repo", str(demo.repo), "--since", DEMO_SINCE, "--until", DEMO_UNTIL]
    if deploys is not None:
        argv += ["--deploys", f"render:{deploys}"]
    return [*argv, "--no-cache", *extra]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """The command line as a user calls it: ``run("dag", "--repo", ...)`` gives
    ``(exit code, stdout, stderr)``."""

    def invoke(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(argv))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return invoke


@pytest.fixture
def git_repo(tmp_path: Path) -> Callable[..., RepoBuilder]:
    """A factory: ``git_repo()`` or ``git_repo("name")`` gives a fresh repository."""
    made: list[RepoBuilder] = []

    def make(name: str = "repo") -> RepoBuilder:
        builder = RepoBuilder(tmp_path / name)
        made.append(builder)
        return builder

    return make


def migration(
    revision: str | None,
    down: str | tuple[str, ...] | None,
    *,
    message: str = "step",
    body: str = "    pass",
    branch_labels: str | None = "None",
    depends_on: str | None = "None",
    annotated: bool = False,
) -> str:
    """The text of an Alembic migration file in the classic (or annotated) template."""
    down_text = repr(down)
    ann = ": str" if annotated else ""
    ann_opt = ": Union[str, Sequence[str], None]" if annotated else ""
    rev_line = f"revision{ann} = {revision!r}\n" if revision is not None else ""
    revises = down if isinstance(down, str) else ""
    return (
        f'"""{message}\n\nRevision ID: {revision}\nRevises: {revises}\n'
        f'Create Date: 2025-11-01 00:00:00\n\n"""\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"{rev_line}"
        f"down_revision{ann_opt} = {down_text}\n"
        f"branch_labels{ann_opt} = {branch_labels}\n"
        f"depends_on{ann_opt} = {depends_on}\n\n\n"
        f"def upgrade(){' -> None' if annotated else ''}:\n{body}\n\n\n"
        f"def downgrade(){' -> None' if annotated else ''}:\n    pass\n"
    )


@pytest.fixture
def make_migration() -> Callable[..., str]:
    return migration


pytest_plugins = ["tests.postgres", "tests.chromium"]
