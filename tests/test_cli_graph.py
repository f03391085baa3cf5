"""`forensics dag` and `forensics history` as a user runs them: real repositories, exact JSON
keys, one-line errors with exit code 2, warnings that carry on, nothing ever executed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from forensics.gitbuild import RepoBuilder
from tests.conftest import Run

T0 = datetime(2025, 11, 13, 9, 0, tzinfo=UTC)


def at(step: int) -> datetime:
    return T0 + timedelta(minutes=10 * step)


def test_two_environments_labels_from_another_module(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    header = "from app import cli\n"
    expand = make_migration("e1", "base", branch_labels="(cli.EXPAND_BRANCH,)")
    contract = make_migration("c1", "base", branch_labels="(cli.CONTRACT_BRANCH,)")
    repo.commit(
        "two engines",
        at(0),
        files={
            "alembic.ini": "[main]\nscript_location = %(here)s/db/main\n\n"
            "[audit]\nscript_location = %(here)s/db/audit\n",
            "app/__init__.py": "",
            "app/cli.py": "EXPAND_BRANCH = 'expand'\nCONTRACT_BRANCH = 'contract'\n",
            "db/main/env.py": "",
            "db/main/versions/base.py": make_migration("base", None),
            "db/main/versions/expand/e1.py": header + expand,
            "db/main/versions/contract/c1.py": header + contract,
            "db/audit/env.py": "",
            "db/audit/versions/x1.py": make_migration("x1", None, annotated=True),
        },
    )
    code, out, err = run("dag", "--repo", str(repo.path), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["rev"] == repo.head()
    envs = {e["name"]: e for e in doc["environments"]}
    assert sorted(envs) == ["db/audit", "db/main"]
    main_env = envs["db/main"]
    assert main_env["heads"] == ["c1", "e1"] and main_env["problems"] == []
    assert main_env["revisions"]["e1"]["branch_labels"] == ["expand"]
    assert main_env["revisions"]["c1"]["branch_labels"] == ["contract"]
    assert main_env["revision_count"] == 3 and envs["db/audit"]["heads"] == ["x1"]
    code, text, _ = run("dag", "--repo", str(repo.path))
    assert code == 0 and "Environment db/main" in text and "(expand)" in text
    code, chart, _ = run("dag", "--repo", str(repo.path), "--format", "mermaid")
    assert code == 0 and chart.count("subgraph") == 2


def test_history_json_and_window(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    good = make_migration("b", "a")
    repo.commit(
        "a",
        at(0),
        files={"migrations/env.py": "", "migrations/versions/a.py": make_migration("a", None)},
    )
    repo.commit("b", at(1), files={"migrations/versions/b.py": good})
    broken = repo.commit("edit b", at(2), files={"migrations/versions/b.py": good + "def (\n"})
    repo.commit("edit b again", at(3), files={"migrations/versions/b.py": good + "def x(\n"})
    fixed = repo.commit("fix b", at(4), files={"migrations/versions/b.py": good})
    code, out, err = run("history", "--repo", str(repo.path), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert list(doc) == ["schema", "rev", "graph_events"] and doc["schema"] == "forensics.history/1"
    [event] = doc["graph_events"]
    assert {"kind", "commit", "at", "resolved_by", "revision", "path"} <= set(event)
    assert (event["kind"], event["commit"], event["resolved_by"]) == ("parse-error", broken, fixed)
    assert event["at"] == "2025-11-13T09:20:00Z"
    code, out, _ = run(
        "history", "--repo", str(repo.path), "--format", "json", "--since", "2025-11-13T10:00"
    )
    assert code == 0 and json.loads(out)["graph_events"] == []
    code, out, _ = run("history", "--repo", str(repo.path), "--until", "2025-11-13T09:15")
    assert code == 0 and "No graph problems appeared" in out


def test_bad_input_is_one_line_and_exit_2(
    git_repo: Callable[..., RepoBuilder], tmp_path: Path, run: Run
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    repo = git_repo()
    repo.commit("no alembic", at(0), files={"README.md": "hello"})
    cases = {
        ("dag", "--repo", str(plain)): "not a git repository",
        ("dag", "--repo", str(repo.path), "--rev", "nope"): "unknown revision 'nope'",
        ("history", "--repo", str(repo.path)): "no Alembic environment found at",
        ("dag", "--repo", str(repo.path), "--migrations", "missing"): "--migrations missing",
        ("dag", "--repo", str(repo.path), "--format", "xml"): "--format",
        ("history", "--repo", str(repo.path), "--since", "someday"): "--since 'someday'",
    }
    for argv, needle in cases.items():
        code, out, err = run(*argv)
        assert code == 2 and out == "", argv
        assert err.count("\n") == 1 and err.startswith("error: ") and needle in err, err


def test_empty_versions_folder_and_non_utf8_warn_and_carry_on(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    latin = ("# caf\xe9\n" + make_migration("a", None)).encode("latin-1")
    repo.commit(
        "setup",
        at(0),
        files={
            "empty/env.py": "",
            "empty/versions/.gitkeep": "",
            "migrations/env.py": "",
            "migrations/versions/a.py": latin,
        },
    )
    code, out, err = run("dag", "--repo", str(repo.path), "--format", "json")
    assert code == 0
    assert "holds no migration files" in err and "not valid UTF-8" in err
    envs = {e["name"]: e for e in json.loads(out)["environments"]}
    assert envs["empty"]["revision_count"] == 0 and envs["migrations"]["heads"] == ["a"]
    code, _out, err = run("history", "--repo", str(repo.path))
    assert code == 0 and "not valid UTF-8" in err


def test_nothing_is_imported_and_no_checkout_clone_works(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    trap = (
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n"
        + make_migration("t1", "a", body=f"    pathlib.Path({str(marker)!r}).write_text('ran')")
    )
    repo = git_repo()
    repo.commit(
        "a",
        at(0),
        files={
            "migrations/env.py": f"open({str(marker)!r}, 'w')\n",
            "migrations/versions/a.py": make_migration("a", None),
        },
    )
    repo.commit(
        "trap", at(1), files={"migrations/versions/t1.py": trap, "migrations/__init__.py": trap}
    )
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo.path), str(clone)], check=True)
    assert not (clone / "migrations").exists()
    for command in (["dag", "--format", "json"], ["history", "--format", "json"]):
        result = subprocess.run(
            [sys.executable, "-m", "forensics", *command, "--repo", str(clone)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["rev"] == repo.head()
    dag = json.loads(
        subprocess.run(
            [sys.executable, "-m", "forensics", "dag", "--format", "json", "--repo", str(clone)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert dag["environments"][0]["heads"] == ["t1"]
    assert not marker.exists()


def test_src_layout_with_two_lineages_is_two_environments(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    db = "src/app/server/database"
    versions = f"{db}/_migrations/versions"
    files: dict[str, str | bytes] = {
        f"{db}/alembic.ini": "[alembic]\nscript_location = app:server:database:_migrations\n",
        "src/app/__init__.py": "",
        "src/app/server/__init__.py": "",
        f"{db}/__init__.py": "",
        # version_locations is chosen in Python from the database URL, at run time.
        f"{db}/_migrations/env.py": "from alembic import context\n",
    }
    for engine in ("postgresql", "sqlite"):
        files[f"{versions}/{engine}/0001_init.py"] = make_migration("0001", None)
        files[f"{versions}/{engine}/0002_users.py"] = make_migration("0002", "0001")
    repo.commit("two engines", at(0), files=files)
    repo.commit(
        "sqlite needs one more",
        at(1),
        files={f"{versions}/sqlite/0003_fts.py": make_migration("0003", "0002")},
    )
    code, out, err = run("dag", "--repo", str(repo.path), "--format", "json")
    assert code == 0 and err == ""
    envs = {e["name"]: e for e in json.loads(out)["environments"]}
    assert sorted(envs) == [f"{versions}/postgresql", f"{versions}/sqlite"]
    assert envs[f"{versions}/postgresql"]["heads"] == ["0002"]
    assert envs[f"{versions}/sqlite"]["heads"] == ["0003"]
    assert all(e["problems"] == [] and e["bases"] == ["0001"] for e in envs.values())
    code, out, err = run("history", "--repo", str(repo.path), "--format", "json")
    assert code == 0 and json.loads(out)["graph_events"] == []


def test_flask_migrate_and_templated_ini_are_found_without_warnings(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    repo.commit(
        "two services",
        at(0),
        files={
            "web/app.py": "",
            "web/migrations/alembic.ini": "[alembic]\n\n[loggers]\nkeys = root\n",
            "web/migrations/env.py": "from flask import current_app\n",
            "web/migrations/versions/w1.py": make_migration("w1", None),
            "worker/alembic.ini": "[alembic]\nscript_location = {alembic_dir}\n",
            "worker/alembic/env.py": "",
            "worker/alembic/versions/k1.py": make_migration("k1", None),
        },
    )
    code, out, err = run("dag", "--repo", str(repo.path), "--format", "json")
    assert code == 0 and err == ""
    envs = {e["name"]: e["heads"] for e in json.loads(out)["environments"]}
    assert envs == {"web/migrations": ["w1"], "worker/alembic": ["k1"]}


def test_docstring_mismatches_are_one_line_per_environment_and_listed_in_json(
    git_repo: Callable[..., RepoBuilder], make_migration: Callable[..., str], run: Run
) -> None:
    repo = git_repo()
    files: dict[str, str | bytes] = {"migrations/env.py": ""}
    files["migrations/versions/a.py"] = make_migration("a", None).replace(
        "Revises: ", "Revises: None"
    )
    previous = "a"
    for i in range(1, 6):
        # Hand-edited parents whose header still names the old one.
        text = make_migration(f"m{i}", previous).replace(f"Revises: {previous}", "Revises: stale")
        files[f"migrations/versions/m{i}.py"] = text
        previous = f"m{i}"
    repo.commit("setup", at(0), files=files)
    code, out, err = run("dag", "--repo", str(repo.path), "--format", "json")
    assert code == 0
    assert err.count("\n") == 1 and "5 migration file(s)" in err and "None" not in err
    (env,) = json.loads(out)["environments"]
    listed = env["docstring_mismatches"]
    assert [m["path"] for m in listed] == [f"migrations/versions/m{i}.py" for i in range(1, 6)]
    assert listed[0]["detail"] == "docstring says Revises stale but down_revision is a"
