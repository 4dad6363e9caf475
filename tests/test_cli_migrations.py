"""Only `peercoach db upgrade` and the long-running modes migrate; read-only commands never do.

Run as an operator runs them: a real `peercoach` process on the test database (SQLite, or
PostgreSQL with PEERCOACH_TEST_DATABASE_URL).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from bot.cli import main
from bot.sandbox.slack_emulator import SlackEmulator
from db.migrate import alembic_config, upgrade_to_head
from tests.process_helpers import process_env

UPGRADE = "run `peercoach db upgrade`"


def peercoach(*args: str, env: dict[str, str], cwd: Path, stdin: str = "") -> tuple[int, str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=env,
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout, result.stderr


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.fixture
def one_migration_behind(db: Engine, database_url: str) -> Iterator[str]:
    """The test database with its newest migration undone; put back afterwards."""
    command.downgrade(alembic_config(database_url), "-1")
    behind = revision(db)
    yield behind or ""
    upgrade_to_head(database_url)


@pytest.mark.slow
def test_report_on_an_old_schema_prints_one_line_and_no_alembic_output(
    one_migration_behind: str,
    db: Engine,
    database_url: str,
    slack: SlackEmulator,
    tmp_path: Path,
) -> None:
    code, out, err = peercoach(
        "report", "--team", "T0PEERS", env=process_env(database_url, slack), cwd=tmp_path
    )

    assert code == 2
    assert out == ""
    [line] = err.strip().splitlines()  # one line, no Alembic chatter, no traceback
    assert line.startswith("peercoach: the database schema is at ")
    assert line.endswith(UPGRADE)
    assert revision(db) == one_migration_behind


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--team", "T0PEERS", "--format", "json"],
        ["round", "run", "--team", "T0PEERS", "--dry-run"],
        ["round", "run", "--team", "T0PEERS"],
        ["digest", "--team", "T0PEERS"],
    ],
    ids=["report", "round-run-dry-run", "round-run", "digest"],
)
def test_a_one_shot_command_on_an_old_schema_says_to_upgrade_and_changes_nothing(
    args: list[str],
    one_migration_behind: str,
    db: Engine,
    database_url: str,
    slack: SlackEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    caplog.set_level(logging.INFO)  # Alembic announces every migration it applies at INFO
    for name, value in process_env(database_url, slack).items():
        monkeypatch.setenv(name, value)

    code = main(args)

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        f"peercoach: the database schema is at {one_migration_behind}, not the newest "
        f"({ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()}): "
        f"{UPGRADE}"
    ]
    assert [r for r in caplog.records if r.name.startswith("alembic")] == []
    assert revision(db) == one_migration_behind
    assert slack.calls == []


@pytest.mark.slow
def test_report_on_an_absent_sqlite_file_says_to_upgrade_and_creates_nothing(
    slack: SlackEmulator, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, _, err = peercoach(
        "report", "--team", "T0PEERS", env=process_env(url, slack), cwd=tmp_path
    )

    assert code == 2
    assert err.strip().splitlines() == [
        f"peercoach: the database file {tmp_path / 'fresh.db'} does not exist yet: {UPGRADE}"
    ]
    assert not (tmp_path / "fresh.db").exists()


@pytest.mark.slow
def test_db_upgrade_migrates_then_read_only_commands_answer_quietly(
    one_migration_behind: str, db: Engine, database_url: str, slack: SlackEmulator, tmp_path: Path
) -> None:
    env = process_env(database_url, slack)

    code, out, _ = peercoach("db", "upgrade", env=env, cwd=tmp_path)
    assert code == 0 and "newest schema" in out
    assert revision(db) != one_migration_behind

    code, out, err = peercoach(
        "round", "run", "--team", "TNOBODY", "--dry-run", env=env, cwd=tmp_path
    )
    assert (code, out) == (1, "")
    assert err.strip().splitlines() == ["peercoach: no workspace TNOBODY"]  # no Alembic lines


@pytest.mark.slow
def test_match_needs_no_database_at_all(slack: SlackEmulator, tmp_path: Path) -> None:
    problem = {"members": [{"id": "U1"}, {"id": "U2"}], "seed": 1}
    env = process_env("postgresql+psycopg://nobody@127.0.0.1:1/nothing", slack)

    code, out, err = peercoach("match", env=env, cwd=tmp_path, stdin=json.dumps(problem))

    assert (code, err) == (0, "")
    assert [sorted(group["members"]) for group in json.loads(out)["groups"]] == [["U1", "U2"]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "settings"),
    [(["worker", "--no-migrate"], {}), (["worker"], {"MIGRATE_ON_START": "false"})],
    ids=["--no-migrate", "MIGRATE_ON_START=false"],
)
def test_a_worker_told_not_to_migrate_refuses_an_old_schema(
    args: list[str],
    settings: dict[str, str],
    one_migration_behind: str,
    db: Engine,
    database_url: str,
    slack: SlackEmulator,
    tmp_path: Path,
) -> None:
    env = process_env(database_url, slack, **settings)

    code, _, err = peercoach(*args, env=env, cwd=tmp_path)

    assert code == 2
    [line] = err.strip().splitlines()
    assert line.endswith(UPGRADE)
    assert revision(db) == one_migration_behind


@pytest.mark.slow
def test_a_schema_from_a_newer_version_is_named_as_such(
    db: Engine, database_url: str, slack: SlackEmulator, tmp_path: Path
) -> None:
    head = revision(db)
    with db.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    try:
        code, _, err = peercoach(
            "report", "--team", "T0PEERS", env=process_env(database_url, slack), cwd=tmp_path
        )
    finally:
        with db.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )

    assert code == 2
    assert err.strip().splitlines() == [
        "peercoach: the database schema (9999_future) is newer than this PeerCoach version: "
        "run the version that migrated it"
    ]
