"""What a round start records stays the same for the same seed, however it is written.

Six weekly rounds of an eleven-person programme, once in pairs and once in coaching circles of
3 (a trio every round, a never-pair wish, a pause, someone who has not accepted the agreement,
silent members auto-paused, reflections with commitments, cant-make-its, intros delivered and
retired when their round closes, follow-ups dropped, a digest for the admin, suggested
meeting times) recorded as groups, seats, prompts shown, outbox messages and member states,
compared with the record kept in tests/data/round_recording.json (made by the round code
before round starts were batched for speed; `python tests/test_round_recording.py --write`
rewrites it from the code as it is).
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import crypto
from bot.domain.enums import CommitmentOutcome, OutboxKind, OutboxStatus, RoundKind
from bot.domain.people import Profile, ReflectionInput
from bot.profile_options import GOALS
from bot.services import membership, pairing, rounds
from db.migrate import upgrade_to_head
from db.models import (
    GroupSeat,
    Member,
    OutboxMessage,
    PairGroup,
    ProgramAdmin,
    Programme,
    PromptShown,
    Pulse,
    Reflection,
    Round,
)
from db.session import make_engine, make_session_factory

EXPECTED = Path(__file__).parent / "data" / "round_recording.json"
TEAM = "TRECORD"
FIRST = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
USERS = [f"U{n:03d}" for n in range(1, 12)]


def _programme(session: Session) -> Programme:
    programme = session.scalars(select(Programme).order_by(Programme.id)).first()
    assert programme is not None
    return programme


def _join_everyone(session: Session, format: str) -> None:
    goals = list(GOALS)
    for n, user in enumerate(USERS):
        membership.save_profile(
            session,
            team_id=TEAM,
            user_id=user,
            profile=Profile(
                level=1 + n % 4,
                team=f"T{n % 3}",
                goals=(goals[n % 12], goals[(n * 5) % 12]),
                never_pair=("U004",) if user == "U003" else (),
                # U011 never accepts the agreement: asked each round, never paired.
                agreement_version=None if user == "U011" else 1,
            ),
            tz_name="UTC",
            tz_offset_minutes=60 * (n % 3 - 1),
            now=FIRST - timedelta(days=1),
        )
    programme = _programme(session)
    if format == "circles":
        programme.settings = {
            **programme.settings,
            "format": format,
            "circle_size": 3,
            "season_sessions": 2,
        }
    session.add(
        ProgramAdmin(
            workspace_id=programme.workspace_id,
            programme_id=programme.id,
            slack_user_id="U001",
            source="added",
            added_at=FIRST - timedelta(days=1),
        )
    )


def _live_the_round(session: Session, started: Round, week: int) -> None:
    """What people do during a round: meet, reflect, can't make it, or stay silent."""
    groups = session.scalars(
        select(PairGroup).where(PairGroup.round_id == started.id).order_by(PairGroup.id)
    ).all()
    for index, group in enumerate(groups):
        # Delivered, as the outbox would have recorded it (a group whose intro never went out
        # counts against no one when its round closes).
        group.channel_id = f"G{week:02d}{index:02d}"
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.group_id == group.id, OutboxMessage.kind == OutboxKind.INTRO)
            .values(
                status=OutboxStatus.SENT, channel_id=group.channel_id, sent_at=started.started_at
            )
        )
        first = group.seats[0].slack_user_id
        moment = started.started_at + timedelta(days=1)
        match (index + week) % 4:
            case 0:
                pairing.record_met(
                    session, team_id=TEAM, group_id=group.id, user_id=first, now=moment
                )
            case 1:
                pairing.save_reflection(
                    session,
                    team_id=TEAM,
                    group_id=group.id,
                    user_id=first,
                    entry=ReflectionInput(
                        usefulness=4, takeaway=None, commitment="Try it", share_takeaway=False
                    ),
                    now=moment,
                )
            case 2:
                pairing.record_not_meeting(
                    session,
                    team_id=TEAM,
                    group_id=group.id,
                    user_id=first,
                    now=moment,
                    tell_partners=False,
                )
    session.flush()
    rounds.enqueue_follow_ups(session, _programme(session), now=started.nudge_at)
    if week == 3:  # someone answers how last round's commitment went
        answered = session.scalars(select(Reflection).order_by(Reflection.id)).first()
        assert answered is not None
        owner = session.get(Member, answered.member_id)
        assert owner is not None
        pairing.record_commitment_outcome(
            session,
            team_id=TEAM,
            reflection_id=answered.id,
            user_id=owner.slack_user_id,
            outcome=CommitmentOutcome.DONE,
            now=started.started_at + timedelta(days=2),
        )


class _Names:
    """Stable names for database ids, so SQLite and PostgreSQL sequences compare equal."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, int], str] = {}

    def __call__(self, kind: str, value: int | None) -> str | None:
        if value is None:
            return None
        key = (kind, value)
        if key not in self.names:
            self.names[key] = f"{kind}{sum(k == kind for k, _ in self.names)}"
        return self.names[key]

    def key(self, dedupe_key: str) -> str:
        return re.sub(
            r"(group|round|reflection|pulse):(\d+)",
            lambda m: f"{m[1]}:{self(m[1], int(m[2]))}",
            dedupe_key,
        )

    def payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        kinds = {
            "group_id": "group",
            "round_id": "round",
            "reflection_id": "reflection",
            "programme_id": "programme",
            "pulse_id": "pulse",
        }
        return {k: self(kinds[k], v) if k in kinds else v for k, v in payload.items()}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _record(session: Session) -> dict[str, Any]:
    names = _Names()
    for table, kind in (
        (Round, "round"),
        (PairGroup, "group"),
        (Reflection, "reflection"),
        (Programme, "programme"),
        (Pulse, "pulse"),
    ):
        for row_id in session.scalars(select(table.id).order_by(table.id)):
            names(kind, row_id)
    users = {
        member_id: user
        for member_id, user in session.execute(select(Member.id, Member.slack_user_id))
    }
    return {
        "rounds": [
            [r.period_key, r.seed, r.unmatched, _iso(r.closed_at)]
            for r in session.scalars(select(Round).order_by(Round.id))
        ],
        "groups": [
            [
                names("round", g.round_id),
                g.first_user_id,
                g.reasons,
                g.prompt_ids,
                _iso(g.met_at),
                g.slots,
                g.circle_id is not None,
                [
                    [
                        s.slack_user_id,
                        users[s.member_id],
                        s.position,
                        _iso(s.removed_at),
                        s.slot_cost,
                    ]
                    for s in g.seats
                ],
            ]
            for g in session.scalars(select(PairGroup).order_by(PairGroup.id))
        ],
        "seat_order": [
            [names("group", s.group_id), s.slack_user_id]
            for s in session.scalars(select(GroupSeat).order_by(GroupSeat.id))
        ],
        "prompts_shown": [
            [users[p.member_id], p.prompt_id, names("round", p.round_id)]
            for p in session.scalars(select(PromptShown).order_by(PromptShown.id))
        ],
        "outbox": [
            [
                o.kind,
                names.key(o.dedupe_key),
                o.recipients,
                names.payload(o.payload),
                o.status,
                names("group", o.group_id),
                _iso(o.created_at),
                _iso(o.not_before),
            ]
            # By kind, in the order each kind was recorded (sending order within a kind; which
            # kind a round start writes first changes nothing anyone sees).
            for o in session.scalars(
                select(OutboxMessage).order_by(OutboxMessage.kind, OutboxMessage.id)
            )
        ],
        "members": [
            [m.slack_user_id, m.status, m.missed_streak, _iso(m.paused_until), _iso(m.updated_at)]
            for m in session.scalars(select(Member).order_by(Member.slack_user_id))
        ],
    }


def run_programme(session: Session, format: str) -> dict[str, Any]:
    """Six weekly rounds as people live them; return what was recorded."""
    _join_everyone(session, format)
    for week in range(6):
        now = FIRST + timedelta(weeks=week)
        if week == 1:
            membership.pause_for_rounds(session, team_id=TEAM, user_id="U005", args=["2"], now=now)
        started = rounds.start_round(
            session,
            _programme(session),
            now=now,
            period_key=now.isoformat(),
            kind=RoundKind.SCHEDULED,
        )
        assert started is not None
        session.flush()
        _live_the_round(session, started, week)
        session.flush()
    return _record(session)


@pytest.mark.parametrize("format", ["pairs", "circles"])
def test_round_starts_record_the_same_groups_prompts_and_messages_as_before(
    session: Session, format: str
) -> None:
    recorded = run_programme(session, format)
    session.rollback()

    assert recorded == json.loads(EXPECTED.read_text())[format]


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    # Rewrite the recording from the code as it is (only when a change of behaviour is meant).
    crypto.configure([crypto.generate_key()])
    recordings = {}
    for format in ("pairs", "circles"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/recording.db"
            upgrade_to_head(url)
            with make_session_factory(make_engine(url))() as writing:
                recordings[format] = run_programme(writing, format)
    EXPECTED.write_text(json.dumps(recordings, indent=1) + "\n")
