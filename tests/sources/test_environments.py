"""Environment discovery from git objects: alembic.ini forms, env.py fallback, overrides,
nested folders and independent lineages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from forensics.errors import Diagnostics, InputError
from forensics.gitbuild import RepoBuilder
from forensics.model.migrations import Environment
from forensics.sources.environments import discover_environments, migration_paths
from forensics.sources.git import GitSource

AT = datetime(2025, 11, 1, 9, 0, tzinfo=UTC)


def _discover(
    repo: RepoBuilder, overrides: tuple[str, ...] = (), diag: Diagnostics | None = None
) -> tuple[list[Environment], GitSource]:
    git = GitSource(repo.path)
    files = git.tree("HEAD")
    blobs = {f.path: f.blob for f in files}
    envs = discover_environments(files, lambda p: git.read_blob(blobs[p]), overrides, diag=diag)
    return envs, git


def _commit(repo: RepoBuilder, files: dict[str, str | bytes]) -> None:
    repo.commit("setup", AT, files=files)


def test_ini_here_and_default_versions(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "backend/alembic.ini": "[alembic]\nscript_location = %(here)s/db\n",
            "backend/db/env.py": "",
            "backend/db/versions/a.py": make_migration("a", None),
            "backend/db/versions/__init__.py": "",
            "backend/db/versions/README": "notes",
        },
    )
    envs, git = _discover(repo)
    assert envs == [
        Environment("backend/db", "backend/db", ("backend/db/versions",), "backend/alembic.ini")
    ]
    paths = [e.path for e in migration_paths(envs[0], git.tree("HEAD"))]
    assert paths == ["backend/db/versions/a.py"]


def test_package_form_version_locations_and_sections(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    ini = (
        "[main]\nscript_location = myapp.db:migrations\n\n"
        "[plugins]\nscript_location = plugins/alembic\n"
        "version_path_separator = ;\n"
        "version_locations = %(here)s/plugins/one;%(here)s/plugins/two\n\n"
        "[loggers]\nkeys = root\n"
    )
    _commit(
        repo,
        {
            "alembic.ini": ini,
            "src/myapp/__init__.py": "",
            "src/myapp/db/__init__.py": "",
            "src/myapp/db/migrations/env.py": "",
            "src/myapp/db/migrations/versions/a.py": make_migration("a", None),
            "plugins/alembic/env.py": "",
            "plugins/one/p1.py": make_migration("p1", None),
            "plugins/two/p2.py": make_migration("p2", "p1"),
        },
    )
    envs, _git = _discover(repo)
    assert [(e.name, e.versions_dirs) for e in envs] == [
        ("src/myapp/db/migrations", ("src/myapp/db/migrations/versions",)),
        ("plugins/alembic", ("plugins/one", "plugins/two")),
    ]


def test_env_py_fallback_and_missing_script_location_warns(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "alembic.ini": "[alembic]\nscript_location = nowhere\n",
            "svc/migrations/env.py": "",
            "svc/migrations/versions/a.py": make_migration("a", None),
        },
    )
    diag = Diagnostics()
    envs, _git = _discover(repo, diag=diag)
    assert envs == [Environment("svc/migrations", "svc/migrations", ("svc/migrations/versions",))]
    assert any("nowhere" in w for w in diag.warnings)


def test_overrides_replace_discovery(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "a/env.py": "",
            "a/versions/x.py": make_migration("x", None),
            "raw/m1.py": make_migration("m1", None),
        },
    )
    envs, _git = _discover(repo, ("raw",))
    assert envs == [Environment("raw", "raw", ("raw",))]
    envs, _git = _discover(repo, ("./a/",))
    assert envs == [Environment("a", "a", ("a/versions",))]
    with pytest.raises(InputError, match="--migrations missing"):
        _discover(repo, ("missing",))


def test_nested_version_folders_are_one_environment(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "m/env.py": "",
            "m/versions/2024/a.py": make_migration("a", None),
            "m/versions/2025/b.py": make_migration("b", "a"),
            "m/versions/2025/q4/c.py": make_migration("c", "b"),
        },
    )
    envs, git = _discover(repo)
    assert len(envs) == 1
    assert len(migration_paths(envs[0], git.tree("HEAD"))) == 3


def test_independent_lineages_split(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "m/env.py": "",
            "m/versions/postgres/p1.py": make_migration("p1", None),
            "m/versions/postgres/p2.py": make_migration("p2", "p1"),
            "m/versions/sqlite/s1.py": make_migration("s1", None),
            "m/versions/sqlite/s2.py": make_migration("s2", "s1"),
        },
    )
    envs, git = _discover(repo)
    assert [(e.name, e.versions_dirs) for e in envs] == [
        ("m/versions/postgres", ("m/versions/postgres",)),
        ("m/versions/sqlite", ("m/versions/sqlite",)),
    ]
    assert [p.path for p in migration_paths(envs[1], git.tree("HEAD"))] == [
        "m/versions/sqlite/s1.py",
        "m/versions/sqlite/s2.py",
    ]


def _two_engines(make_migration: Callable[..., str], root: str) -> dict[str, str | bytes]:
    """One lineage per database engine, the same revision ids in both (sqlite has one more)."""
    files: dict[str, str | bytes] = {}
    for engine in ("postgresql", "sqlite"):
        files[f"{root}/{engine}/r1_init.py"] = make_migration("r1", None)
        files[f"{root}/{engine}/r2_users.py"] = make_migration("r2", "r1")
    files[f"{root}/sqlite/r3_fts.py"] = make_migration("r3", "r2")
    return files


def test_src_layout_package_path_with_colons_and_two_lineages(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    db = "src/app/server/database"
    files = _two_engines(make_migration, f"{db}/_migrations/versions")
    files.update(
        {
            f"{db}/alembic.ini": "[alembic]\nscript_location = app:server:database:_migrations\n",
            "src/app/__init__.py": "",
            "src/app/server/__init__.py": "",
            f"{db}/__init__.py": "",
            f"{db}/_migrations/env.py": "",
            # Another folder named like the package, which must not be taken for it.
            "tests/app/conftest.py": "",
        }
    )
    _commit(repo, files)
    diag = Diagnostics()
    envs, git = _discover(repo, diag=diag)
    versions = f"{db}/_migrations/versions"
    assert [(e.name, e.script_location, e.versions_dirs, e.config) for e in envs] == [
        (
            f"{versions}/{engine}",
            f"{db}/_migrations",
            (f"{versions}/{engine}",),
            f"{db}/alembic.ini",
        )
        for engine in ("postgresql", "sqlite")
    ]
    assert len(migration_paths(envs[1], git.tree("HEAD"))) == 3
    assert diag.warnings == []


def test_ini_listing_lineages_that_repeat_ids_is_split_and_plugins_are_not(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    files = _two_engines(make_migration, "db/versions")
    files.update(
        {
            "alembic.ini": "[alembic]\nscript_location = db\n"
            "version_locations = %(here)s/db/versions/postgresql %(here)s/db/versions/sqlite\n",
            "db/env.py": "",
        }
    )
    _commit(repo, files)
    envs, _git = _discover(repo)
    assert [e.versions_dirs for e in envs] == [
        ("db/versions/postgresql",),
        ("db/versions/sqlite",),
    ]
    # Two independent folders without a repeated id are one environment with two bases, as
    # Alembic loads them.
    other = git_repo("other")
    other.commit(
        "setup",
        AT,
        files={
            "alembic.ini": "[alembic]\nscript_location = db\n"
            "version_locations = %(here)s/db/one %(here)s/db/two\n",
            "db/env.py": "",
            "db/one/a.py": make_migration("a", None, branch_labels="('one',)"),
            "db/two/b.py": make_migration("b", None, branch_labels="('two',)"),
        },
    )
    envs, _git = _discover(other)
    assert [e.versions_dirs for e in envs] == [("db/one", "db/two")]


def test_flask_migrate_layout(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "pkg/app.py": "",
            "pkg/migrations/alembic.ini": "# A generic, single database configuration.\n\n"
            "[alembic]\n# template used to generate migration files\n"
            "# file_template = %%(rev)s_%%(slug)s\n\n[loggers]\nkeys = root\n",
            "pkg/migrations/env.py": "from flask import current_app\n",
            "pkg/migrations/versions/a.py": make_migration("a", None),
            # The same shape without Flask: the application sets the location itself.
            "svc/db/alembic.ini": "[alembic]\n",
            "svc/db/env.py": "from alembic import context\n",
            "svc/db/versions/b.py": make_migration("b", None),
        },
    )
    diag = Diagnostics()
    envs, _git = _discover(repo, diag=diag)
    assert envs == [
        Environment(
            "pkg/migrations",
            "pkg/migrations",
            ("pkg/migrations/versions",),
            "pkg/migrations/alembic.ini",
            flask=True,
        ),
        Environment("svc/db", "svc/db", ("svc/db/versions",), "svc/db/alembic.ini"),
    ]
    assert diag.warnings == []


def test_templated_script_location_is_the_alembic_folder_beside_the_ini(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str]
) -> None:
    repo = git_repo()
    _commit(
        repo,
        {
            "service/alembic.ini": "[alembic]\nscript_location = {alembic_dir}\n"
            "sqlalchemy.url = {db_url}\n",
            "service/alembic/env.py": "",
            "service/alembic/versions/a.py": make_migration("a", None),
        },
    )
    diag = Diagnostics()
    envs, _git = _discover(repo, diag=diag)
    assert [(e.name, e.versions_dirs, e.config) for e in envs] == [
        ("service/alembic", ("service/alembic/versions",), "service/alembic.ini")
    ]
    assert diag.warnings == []
    # Without an alembic/ folder beside it, the ini is still reported.
    bare = git_repo("bare")
    bare.commit(
        "setup",
        AT,
        files={
            "alembic.ini": "[alembic]\nscript_location = {alembic_dir}\n",
            "db/env.py": "",
            "db/versions/a.py": make_migration("a", None),
        },
    )
    diag = Diagnostics()
    envs, _git = _discover(bare, diag=diag)
    assert [e.name for e in envs] == ["db"]
    assert len(diag.warnings) == 1 and "{alembic_dir}" in diag.warnings[0]
