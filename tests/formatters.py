"""The real code formatters a team sweeps over its migrations, run as the team runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Each tool's arguments and the exit codes that mean success (pyupgrade exits 1 when it
# rewrote a file).
FORMATTERS: dict[str, tuple[list[str], tuple[int, ...]]] = {
    "pyupgrade": (["-m", "pyupgrade", "--py310-plus"], (0, 1)),
    "black": (["-m", "black", "-q"], (0,)),
    "isort": (["-m", "isort", "-q"], (0,)),
    "ruff format": (["-m", "ruff", "format", "-q", "--no-cache"], (0,)),
    # ruff's own pyupgrade and isort rules, with their safe fixes.
    "ruff check --fix": (
        [
            *("-m", "ruff", "check", "--fix", "--select", "UP,I"),
            *("--target-version", "py310", "-q", "--no-cache", "--exit-zero"),
        ],
        (0,),
    ),
}


def run_tools(folder: Path, texts: dict[str, str], *tools: str) -> dict[str, str]:
    """Each of ``texts`` (by name) after the real ``tools``, run in order over one folder of
    files as a formatter sweep does."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {name: folder / f"{i:04d}_migration.py" for i, name in enumerate(texts)}
    for name, target in files.items():
        target.write_text(texts[name])
    for tool in tools:
        argv, ok = FORMATTERS[tool]
        done = subprocess.run(
            [sys.executable, *argv, *map(str, files.values())],
            capture_output=True,
            text=True,
            cwd=folder,
        )
        assert done.returncode in ok, (tool, done.stderr)
    return {name: target.read_text() for name, target in files.items()}


def run_tool(folder: Path, text: str, *tools: str) -> str:
    return run_tools(folder, {"one": text}, *tools)["one"]
