"""The migrations of one tree (a commit's, or the index), read from git objects: the Alembic
environments in it and each one's parsed migration files.

The one loader behind ``analyze``, ``audit``, ``dag``, ``history`` and ``guard``: every caller
sees the same environments, the same files (symbolic links skipped) and the same parse, with
names imported from other modules resolved against the same tree. What to warn about beyond
discovery is the caller's choice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from forensics.errors import Diagnostics
from forensics.model.migrations import Environment, MigrationFile
from forensics.sources.alembic_files import read_migration
from forensics.sources.environments import discover_environments, migration_paths
from forensics.sources.git import GitSource, TreeEntry
from forensics.sources.migration_code.constants import ConstantResolver

Reader = Callable[[str], bytes | None]


def tree_reader(git: GitSource, files: Sequence[TreeEntry]) -> tuple[Reader, ConstantResolver]:
    """``read(path)`` over the tree ``files`` (git objects), and the constant resolver."""
    blobs = {f.path: f.blob for f in files}

    def read(path: str) -> bytes | None:
        blob = blobs.get(path)
        return git.read_blob(blob) if blob else None

    return read, ConstantResolver([f.path for f in files if f.path.endswith(".py")], read)


def file_loader(git: GitSource) -> Callable[[str, str | None], MigrationFile | None]:
    """``load(path, blob)``: one version of a migration file, parsed on its own (names from
    other modules are not resolved); ``None`` without a blob or when git lacks it."""

    def load(path: str, blob: str | None) -> MigrationFile | None:
        data = git.read_blob(blob) if blob else None
        return read_migration(path, data) if data is not None else None

    return load


class MigrationTree:
    """The environments of a tree (found when built) and, on demand, their migrations."""

    def __init__(
        self,
        git: GitSource,
        files: Sequence[TreeEntry],
        migrations: Sequence[str] = (),
        diag: Diagnostics | None = None,
    ) -> None:
        self.git = git
        self.files = files
        self.diag = diag or Diagnostics()
        read, self.resolver = tree_reader(git, files)
        self.environments = discover_environments(files, read, migrations, diag=self.diag)

    def parsed(self) -> Iterator[tuple[Environment, list[MigrationFile]]]:
        """Each environment with its migration files, parsed; one environment at a time, so
        that a caller's warnings about it follow the loader's."""
        envs, files, git = self.environments, self.files, self.git
        contents = git.read_blobs(f.blob for env in envs for f in migration_paths(env, files))
        for env in envs:
            parsed = []
            for entry in migration_paths(env, files, self.diag):
                data = contents[entry.blob] if entry.blob in contents else git.read_blob(entry.blob)
                if data is not None:
                    parsed.append(
                        read_migration(entry.path, data, blob=entry.blob, constants=self.resolver)
                    )
            yield env, parsed
