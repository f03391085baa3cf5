"""Generated service repositories and their manifest, for the fleet tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.fleet_repos import Service, build_service, write_manifest

MakeFleet = Callable[..., Path]


@pytest.fixture
def make_fleet(tmp_path: Path) -> MakeFleet:
    """``make_fleet(count, broken=(...), extra="...")``: ``count`` services, a manifest over
    them (plus broken entries and extra TOML), and the manifest's path."""

    def make(count: int = 3, broken: tuple[str, ...] = (), extra: str = "", weeks: int = 4) -> Path:
        root = tmp_path / "fleet"
        services: list[Service] = [
            build_service(root, f"svc{i}", weeks=weeks) for i in range(count)
        ]
        manifest = write_manifest(root, services, broken=broken)
        if extra:
            manifest.write_text(manifest.read_text() + "\n" + extra)
        return manifest

    return make
