"""Discovery of Alembic environments in a tree at one revision, read from git objects.

Sources, in order: ``--migrations DIR`` overrides (exclusively, when given); every ``.ini``
file with a ``script_location`` (each section is an environment; ``%(here)s`` and
``package:path`` forms, ``version_locations``); then any ``env.py`` beside a ``versions/``
folder not already covered. Version folders nest; a versions folder whose subfolders hold
independent lineages (each with its own base, no cross references) becomes one environment
per subfolder.
"""

from __future__ import annotations

import configparser
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence

from forensics.errors import Diagnostics, InputError
from forensics.model.migrations import Environment
from forensics.sources.alembic_files import read_migration
from forensics.sources.git import TreeEntry

Reader = Callable[[str], bytes | None]
_SEPARATORS = {"os": ":", ":": ":", ";": ";", "space": " ", "newline": "\n"}


def _norm(path: str) -> str | None:
    """A repository-relative folder, or ``None`` when it leaves the repository."""
    path = path.strip().replace("\\", "/")
    if path.startswith("/"):
        return None
    path = posixpath.normpath(path) if path else "."
    if path == ".." or path.startswith("../"):
        return None
    return "" if path == "." else path


def _dirs(paths: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent and parent not in found:
            found.add(parent)
            parent = posixpath.dirname(parent)
    return found


class _Tree:
    def __init__(self, files: Sequence[TreeEntry]) -> None:
        self.paths = sorted(f.path for f in files)
        self.dirs = _dirs(self.paths)

    def exists(self, folder: str) -> bool:
        return folder == "" or folder in self.dirs

    def package_dir(self, package: str) -> str | None:
        """The folder of a dotted package name; ones with ``__init__.py``, then the
        shortest, win."""
        wanted = package.strip().replace(".", "/")
        found = [d for d in self.dirs if d == wanted or d.endswith("/" + wanted)]
        init = set(self.paths)
        found.sort(key=lambda d: (f"{d}/__init__.py" not in init, d.count("/"), d))
        return found[0] if found else None


def _substitute(value: str, here: str) -> str | None:
    # Callers join the result to the ini's folder, so %(here)s stands for that folder itself.
    value = value.replace("%(here)s", ".")
    return None if "%(" in value else value


def _script_location(value: str, here: str, tree: _Tree) -> str | None:
    text = _substitute(value.strip(), here)
    if text is None:
        return None
    if ":" in text and not re.match(r"^[A-Za-z]:[\\/]", text):
        package, _, sub = text.partition(":")
        folder = tree.package_dir(package)
        return None if folder is None else _norm(posixpath.join(folder, sub))
    return _norm(posixpath.join(here, text))


def _version_locations(section: configparser.SectionProxy, here: str) -> list[str] | None:
    raw = section.get("version_locations")
    if not raw:
        return None
    separator = _SEPARATORS.get((section.get("version_path_separator") or "").strip())
    pieces = raw.split(separator) if separator else re.split(r"[\s,]+", raw)
    found = []
    for piece in pieces:
        text = _substitute(piece.strip(), here) if piece.strip() else None
        folder = _norm(posixpath.join(here, text)) if text else None
        if folder is not None:
            found.append(folder)
    return found


def _from_ini(path: str, data: bytes, tree: _Tree, diag: Diagnostics) -> list[Environment]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(data.decode("utf-8", errors="replace"), source=path)
    except configparser.Error as exc:
        diag.warn(f"{path} cannot be read as an ini file ({exc.__class__.__name__}); skipped")
        return []
    here = posixpath.dirname(path)
    envs = []
    for name in parser.sections():
        section = parser[name]
        value = section.get("script_location")
        if not value:
            continue
        location = _script_location(value, here, tree)
        if location is None or not tree.exists(location):
            diag.warn(
                f"{path} [{name}] names script_location {value.strip()!r}, which is not a "
                "folder of this revision; pass --migrations DIR if it lives elsewhere"
            )
            continue
        versions = _version_locations(section, here) or [posixpath.join(location, "versions")]
        label = location or "."
        envs.append(
            Environment(name=label, script_location=location, versions_dirs=tuple(versions))
        )
    return envs


def _from_override(folder: str, tree: _Tree) -> Environment:
    norm = _norm(folder)
    if norm is None or not tree.exists(norm):
        raise InputError(
            f"--migrations {folder}: no such folder at this revision; pass a folder relative "
            "to the repository root"
        )
    nested = posixpath.join(norm, "versions")
    if tree.exists(nested):
        return Environment(name=norm or ".", script_location=norm, versions_dirs=(nested,))
    parent = posixpath.dirname(norm) if posixpath.basename(norm) == "versions" else norm
    return Environment(name=norm or ".", script_location=parent, versions_dirs=(norm,))


def _lineages(env: Environment, tree: _Tree, read: Reader) -> list[Environment]:
    """Split a single versions folder whose subfolders hold independent lineages."""
    if len(env.versions_dirs) != 1:
        return [env]
    root = env.versions_dirs[0].rstrip("/")
    prefix = root + "/" if root else ""
    groups: dict[str, list[str]] = {}
    for path in tree.paths:
        if not path.startswith(prefix) or not env.owns(path):
            continue
        rest = path[len(prefix) :]
        if "/" not in rest:
            return [env]  # migrations directly in the folder: one lineage with nesting
        groups.setdefault(rest.split("/", 1)[0], []).append(path)
    if len(groups) < 2:
        return [env]
    revisions: dict[str, set[str]] = {}
    references: dict[str, set[str]] = {}
    for sub, paths in groups.items():
        revs: set[str] = set()
        refs: set[str] = set()
        has_base = False
        for path in paths:
            data = read(path)
            if data is None:
                continue
            migration = read_migration(path, data)
            if migration.revision:
                revs.add(migration.revision)
                has_base = has_base or (
                    not migration.down_revisions and "down_revision" not in migration.unresolved
                )
            refs.update(migration.down_revisions, migration.depends_on)
        if not has_base:
            return [env]
        revisions[sub], references[sub] = revs, refs
    for sub in groups:
        others = set().union(*(revisions[o] for o in groups if o != sub))
        if references[sub] & others:
            return [env]
    return [
        Environment(
            name=f"{prefix}{sub}",
            script_location=env.script_location,
            versions_dirs=(f"{prefix}{sub}",),
        )
        for sub in sorted(groups)
    ]


def _covered(folder: str, envs: Iterable[Environment]) -> bool:
    return any(
        folder == d or folder.startswith(d.rstrip("/") + "/") or d in ("", ".")
        for env in envs
        for d in env.versions_dirs
    )


def discover_environments(
    files: Sequence[TreeEntry],
    read: Reader,
    overrides: Sequence[str] = (),
    *,
    diag: Diagnostics | None = None,
) -> list[Environment]:
    """Every Alembic environment of the tree ``files`` (``GitSource.tree(rev)``), reading
    contents through ``read(path)`` at the same revision. ``overrides`` (``--migrations``)
    replace discovery. Raises ``InputError`` only for an override that names no folder."""
    diag = diag or Diagnostics()
    tree = _Tree(files)
    found: list[Environment] = []
    if overrides:
        found = [_from_override(folder, tree) for folder in overrides]
    else:
        for path in tree.paths:
            if path.endswith(".ini"):
                data = read(path)
                if data is not None and b"script_location" in data:
                    found.extend(_from_ini(path, data, tree, diag))
        for path in tree.paths:
            if posixpath.basename(path) != "env.py":
                continue
            location = posixpath.dirname(path)
            versions = posixpath.join(location, "versions")
            if tree.exists(versions) and not _covered(versions, found):
                found.append(Environment(location or ".", location, (versions,)))
    environments: list[Environment] = []
    seen: set[tuple[str, ...]] = set()
    for env in found:
        if env.versions_dirs in seen:
            continue
        seen.add(env.versions_dirs)
        environments.extend(_lineages(env, tree, read))
    names = [e.name for e in environments]
    return [
        Environment(f"{e.name} #{i + 1}", e.script_location, e.versions_dirs)
        if names.count(e.name) > 1
        else e
        for i, e in enumerate(environments)
    ]


SYMLINK_MODE = "120000"


def migration_paths(
    env: Environment, files: Sequence[TreeEntry], diag: Diagnostics | None = None
) -> list[TreeEntry]:
    """The migration files of ``env``: ``.py`` files below its versions folders, nested ones
    included, ``__init__.py`` excluded; sorted by path. A symbolic link is skipped with a
    warning: git holds only the name of its target, which may lie outside the repository,
    and the evidence is what git holds."""
    found = []
    for entry in files:
        if not env.owns(entry.path):
            continue
        if entry.mode == SYMLINK_MODE:
            if diag is not None:
                diag.warn(
                    f"{entry.path} is a symbolic link, not a migration file; it is skipped "
                    "(commit the file itself if Alembic should load it)"
                )
            continue
        found.append(entry)
    return sorted(found, key=lambda f: f.path)
