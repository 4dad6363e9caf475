"""Reflection text and every copy of it are encrypted at rest; keys rotate; no key, no start."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine

from bot import crypto
from bot.cli import main
from bot.sandbox.harness import Sandbox
from db.migrate import alembic_config, upgrade_to_head
from db.models import Base
from db.types import UtcDateTime, encrypted_columns
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intro_groups
from tests.migration_helpers import insert_row
from tests.test_data_rights import every_stored_value, reflect

TAKEAWAY, COMMITMENT = "IBEX-takeaway-3141", "TAPIR-commitment-2718"


def reflect_and_get_asked(sandbox: Sandbox) -> str:
    """Two people meet; U001 commits to something and is asked about it a round later."""
    for user in ("U001", "U002"):
        sandbox.join(user)
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    assert len(intro_groups(sandbox)) == 1
    reflect(sandbox, "U001", TAKEAWAY, COMMITMENT)
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()
    follow_up = next(m for m in dms_to(sandbox, "U001") if "you committed to" in m.text)
    return follow_up.text


def raw_encrypted_values(engine: Engine) -> list[str]:
    """Every stored value of every encrypted column, as the database holds it."""
    with engine.connect() as connection:
        return [
            value
            for column in encrypted_columns(Base.metadata)
            for value in connection.execute(
                sa.text(f"SELECT {column.name} FROM {column.table.name}")
            ).scalars()
            if value is not None
        ]


def test_reflection_text_and_its_outbox_copy_are_stored_only_encrypted(sandbox: Sandbox) -> None:
    assert COMMITMENT in reflect_and_get_asked(sandbox)  # the person still sees their words

    stored = every_stored_value(sandbox.engine)
    for secret in (TAKEAWAY, COMMITMENT):
        assert not any(secret in v for _, c, v in stored if not c.endswith("*")), secret
    decrypted = {(t, c) for t, c, v in stored if COMMITMENT in v}
    # The copies exist, encrypted: the reflection and the follow-up in the outbox.
    assert decrypted >= {("reflections", "commitment*"), ("outbox", "payload*")}
    assert any(TAKEAWAY in v for t, c, v in stored if (t, c) == ("reflections", "takeaway*"))
    assert TAKEAWAY in str(sandbox.people.command("U001", "history").json())


def test_keys_rotate_moves_every_value_to_the_new_key_and_repeats_as_a_no_op(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reflect_and_get_asked(sandbox)
    old_key = os.environ["PEERCOACH_ENCRYPTION_KEYS"].split(",")[0]
    plaintexts = sorted(crypto.decrypt(v) for v in raw_encrypted_values(sandbox.engine))
    new_key = crypto.generate_key()
    monkeypatch.setenv("PEERCOACH_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert main(["keys", "rotate", "--batch-size", "2"]) == 0
    first = capsys.readouterr().out
    assert f"re-encrypted {len(plaintexts)} value(s)" in first
    assert main(["keys", "rotate"]) == 0
    assert "re-encrypted 0 value(s)" in capsys.readouterr().out

    raw = raw_encrypted_values(sandbox.engine)
    assert len(raw) == len(plaintexts) > 3
    for token in raw:
        with pytest.raises(InvalidToken):
            Fernet(old_key).decrypt(token)
    assert sorted(Fernet(new_key).decrypt(t).decode() for t in raw) == plaintexts


def test_keys_rotate_without_the_old_key_names_the_value_it_cannot_open(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reflect_and_get_asked(sandbox)
    monkeypatch.setenv("PEERCOACH_ENCRYPTION_KEYS", crypto.generate_key())
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["keys", "rotate"]) == 1
    error = capsys.readouterr().err
    assert "opens with none of the configured keys" in error
    assert TAKEAWAY not in error and COMMITMENT not in error


def test_a_database_with_encrypted_text_and_no_key_refuses_to_start(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reflect_and_get_asked(sandbox)
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.delenv("PEERCOACH_ENCRYPTION_KEYS")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["report", "--team", sandbox.team_id]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "peercoach: configuration error: PEERCOACH_ENCRYPTION_KEYS is not set but the database "
        "holds encrypted text: set it to comma-separated Fernet keys, newest first "
        "(make one with `peercoach keys generate`)"
    ]
    assert not Path(f"{sa.make_url(database_url).database}.key").exists()


def test_serving_postgresql_without_a_key_stops_with_one_line(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_", "PORT", "PEERCOACH_"))
    }
    env |= {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        # Never reached: the missing key stops start-up before any connection.
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "peercoach: configuration error: PEERCOACH_ENCRYPTION_KEYS is not set: set it to "
        "comma-separated Fernet keys, newest first (make one with `peercoach keys generate`)"
    ]


def test_a_sqlite_database_without_a_key_gets_a_private_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PEERCOACH_ENCRYPTION_KEYS")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'self-host.db'}")
    assert main(["db", "upgrade"]) == 0
    key_file = tmp_path / "self-host.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    assert crypto.parse_keys(key) == [key]
    assert main(["db", "upgrade"]) == 0  # a restart reads the same key
    assert key_file.read_text().strip() == key


def test_migration_0006_encrypts_text_written_before_it_and_downgrade_restores_it(
    db: Engine, database_url: str
) -> None:
    config = alembic_config(database_url)
    db.dispose()
    command.downgrade(config, "0004")
    moment = datetime(2026, 11, 2, 9, tzinfo=UTC)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": COMMITMENT}}]

    with db.begin() as connection:
        row = {"workspace_id": 1}
        connection.execute(
            sa.text(
                "INSERT INTO workspaces (id, team_id, created_at, cadence_weeks, day_of_week, "
                "hour, timezone, group_size) VALUES (1, 'TOLD', :at, 1, 0, 9, 'UTC', 2)"
            ).bindparams(sa.bindparam("at", moment, type_=UtcDateTime()))
        )
        insert_row(
            connection,
            "members",
            id=1,
            slack_user_id="U001",
            status="active",
            joined_at=moment,
            updated_at=moment,
            goals=[],
            **row,
        )
        insert_row(
            connection,
            "rounds",
            id=1,
            period_key="p",
            kind="scheduled",
            seed=1,
            started_at=moment,
            nudge_at=moment,
            checkin_at=moment,
            unmatched=[],
            **row,
        )
        insert_row(
            connection,
            "pair_groups",
            id=1,
            round_id=1,
            first_user_id="U001",
            reasons=[],
            prompt_ids=[],
            **row,
        )
        insert_row(
            connection,
            "reflections",
            id=1,
            group_id=1,
            member_id=1,
            usefulness=4,
            takeaway=TAKEAWAY,
            commitment=COMMITMENT,
            share_takeaway=False,
            created_at=moment,
            updated_at=moment,
            **row,
        )
        insert_row(
            connection,
            "outbox",
            id=1,
            dedupe_key="commitment:reflection:1",
            kind="commitment",
            recipients=["U001"],
            text=f"You committed to {COMMITMENT}",
            blocks=blocks,
            status="sent",
            attempts=1,
            created_at=moment,
            not_before=moment,
            **row,
        )

    upgrade_to_head(database_url)
    db.dispose()
    raw = raw_encrypted_values(db)
    # The takeaway, the commitment and the outbox payload (0005 turned text and blocks into it).
    assert len(raw) == 3 and not any(COMMITMENT in v or TAKEAWAY in v for v in raw)
    with db.connect() as connection:
        takeaway, commitment, made = connection.execute(
            sa.text("SELECT takeaway, commitment, commitment_made FROM reflections")
        ).one()
        payload_token = connection.execute(sa.text("SELECT payload FROM outbox")).scalar_one()
        # Since 0013 the workspace's settings live on its first programme.
        stored = connection.execute(sa.text("SELECT settings FROM programmes")).scalar()
        retention = (json.loads(stored) if isinstance(stored, str) else stored)["retention_months"]
    assert (crypto.decrypt(takeaway), crypto.decrypt(commitment), bool(made)) == (
        TAKEAWAY,
        COMMITMENT,
        True,
    )
    payload = json.loads(crypto.decrypt(payload_token))
    assert payload["kind"] == "text" and payload["text"] == f"You committed to {COMMITMENT}"
    assert COMMITMENT in json.dumps(payload["blocks"])
    assert retention == 12

    db.dispose()
    command.downgrade(config, "0004")
    db.dispose()
    with db.connect() as connection:
        assert connection.execute(
            sa.text("SELECT takeaway, commitment FROM reflections")
        ).one() == (
            TAKEAWAY,
            COMMITMENT,
        )
        assert (
            connection.execute(sa.text("SELECT text FROM outbox")).scalar()
            == f"You committed to {COMMITMENT}"
        )
    upgrade_to_head(database_url)
    db.dispose()
