"""The anonymous programme feedback pulse: asked every N rounds, answered once, unlinkable.

Every `pulse_every_cycles` rounds (0: never) a round opens a pulse and each active member gets
a DM asking how useful the programme is to them (1..5) and for an optional suggestion. An
answer is stored as two rows that nothing joins: PulseResponder says *that* a member answered
(its unique key makes a double submission one answer), PulseAnswer holds *what* was answered,
with no member, no time (the pulse names the cycle) and a random id, so neither the ids nor an
ORDER BY can line the two up. A suggestion is kept only when its author shares it with the
organisers. Answers are taken while the pulse's round is open; admins see the results only
after it closed (nothing moves while they watch) and only from K_ANONYMITY answers up.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.domain.figures import K_ANONYMITY, Figure, PulseResults
from bot.domain.messages import PulseNotice
from bot.domain.people import PulseInput
from bot.errors import StaleAction, UsageError
from bot.services.membership import memberships_of, settings_of_programme
from bot.services.outbox import add_to_outbox
from db.models import (
    Member,
    MemberStatus,
    Programme,
    Pulse,
    PulseAnswer,
    PulseResponder,
    Round,
    Workspace,
)
from db.upsert import affected_rows, insert_or_ignore

# The pulse DM waits this long after a round starts: the round's intros go out first.
PULSE_DELAY = timedelta(hours=1)
CLOSED_TEXT = "This feedback pulse has closed: its round is over. Thank you all the same."
ANSWERED_TEXT = "You have already answered this feedback pulse. Thank you!"


def open_pulse_if_due(
    session: Session, programme: Programme, new_round: Round, *, now: datetime
) -> Pulse | None:
    """Open a pulse in `new_round` if it is the programme's N-th, 2N-th ... round (N =
    `pulse_every_cycles`; 0 is off) and queue one DM per active member of the programme, sent
    PULSE_DELAY after `now`. Returns the pulse, or None when this round has none."""
    every = settings_of_programme(programme).pulse_every_cycles
    if every <= 0:
        return None
    rounds = session.scalar(
        select(func.count()).select_from(Round).where(Round.programme_id == programme.id)
    )
    if not rounds or rounds % every:
        return None
    pulse = Pulse(workspace_id=programme.workspace_id, round_id=new_round.id)
    session.add(pulse)
    session.flush()
    members = session.scalars(
        select(Member.slack_user_id)
        .where(Member.programme_id == programme.id, Member.status == MemberStatus.ACTIVE.value)
        .order_by(Member.id)
    )
    for user_id in members:
        add_to_outbox(
            session,
            workspace_id=programme.workspace_id,
            dedupe_key=f"pulse:{pulse.id}:{user_id}",
            recipients=[user_id],
            notice=PulseNotice(pulse_id=pulse.id, programme=programme.name),
            now=now,
            not_before=now + PULSE_DELAY,
        )
    return pulse


def _answerable(
    session: Session, *, team_id: str, user_id: str, pulse_id: int, once: bool = True
) -> Member:
    """The member who may answer this pulse now. Raises StaleAction for a pulse not of their
    workspace (`team_id`: answered as one that never existed, whoever asks), UsageError when
    they are not a member, the pulse closed, or (with `once`) they answered it already."""
    pulse = session.scalar(
        select(Pulse)
        .join(Workspace, Workspace.id == Pulse.workspace_id)
        .where(Pulse.id == pulse_id, Workspace.team_id == team_id)
    )
    if pulse is None:
        raise StaleAction()
    rows = memberships_of(session, team_id=team_id, user_id=user_id)
    if not rows:
        raise UsageError("Only PeerCoach members are asked for feedback.")
    # The pulse's programme's membership (someone in several programmes answers each's).
    programme_id = session.scalar(select(Round.programme_id).where(Round.id == pulse.round_id))
    member = next((m for m in rows if m.programme_id == programme_id), None)
    if member is None or pulse.workspace_id != member.workspace_id:
        raise StaleAction()
    if session.scalar(select(Round.closed_at).where(Round.id == pulse.round_id)) is not None:
        raise UsageError(CLOSED_TEXT)
    if once and session.scalar(
        select(PulseResponder.id).where(
            PulseResponder.pulse_id == pulse_id, PulseResponder.member_id == member.id
        )
    ):
        raise UsageError(ANSWERED_TEXT)
    return member


def check_can_answer(session: Session, *, team_id: str, user_id: str, pulse_id: int) -> None:
    """Before opening the pulse modal: raises (see _answerable) when it cannot be answered."""
    _answerable(session, team_id=team_id, user_id=user_id, pulse_id=pulse_id)


def record_answer(
    session: Session, *, team_id: str, user_id: str, pulse_id: int, answer: PulseInput
) -> bool:
    """Store one member's answer to a pulse, anonymously; True if stored, False when this
    member's answer was stored already (a double submission, decided by the responder row's
    unique key). Raises StaleAction or UsageError as _answerable does."""
    member = _answerable(session, team_id=team_id, user_id=user_id, pulse_id=pulse_id, once=False)
    claimed = insert_or_ignore(
        session,
        PulseResponder.__table__,  # type: ignore[arg-type]
        {"workspace_id": member.workspace_id, "pulse_id": pulse_id, "member_id": member.id},
        conflict_columns=("pulse_id", "member_id"),
    )
    if claimed is None:
        return False
    shared = answer.share and bool(answer.suggestion)
    session.add(
        PulseAnswer(
            # Random, not a sequence: the answers' ids follow no order of answering.
            id=secrets.randbelow(2**62) + 1,
            workspace_id=member.workspace_id,
            pulse_id=pulse_id,
            score=answer.score,
            suggestion=answer.suggestion if shared else None,
            shared=shared,
        )
    )
    session.flush()
    return True


def latest_results(session: Session, programme_id: int) -> PulseResults | None:
    """The newest closed pulse of a programme as admins may see it (see PulseResults), or
    None when no pulse has closed yet."""
    row = session.execute(
        select(Pulse.id, Round.started_at)
        .join(Round, Round.id == Pulse.round_id)
        .where(Round.programme_id == programme_id, Round.closed_at.is_not(None))
        .order_by(Round.started_at.desc(), Pulse.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    pulse_id, started_at = row
    score = pulse_score(session, pulse_id)
    suggestions: tuple[str, ...] = ()
    if score.people >= K_ANONYMITY:
        suggestions = tuple(
            sorted(
                s
                for s in session.scalars(
                    select(PulseAnswer.suggestion).where(
                        PulseAnswer.pulse_id == pulse_id, PulseAnswer.shared.is_(True)
                    )
                )
                if s
            )
        )
    return PulseResults(cycle_started_at=started_at, score=score, shared_suggestions=suggestions)


def pulse_score(session: Session, pulse_id: int) -> Figure:
    """A pulse's average answer (1..5) and how many answered; hidden below K_ANONYMITY."""
    answers, total = session.execute(
        select(func.count(PulseAnswer.id), func.sum(PulseAnswer.score)).where(
            PulseAnswer.pulse_id == pulse_id
        )
    ).one()
    return Figure(total / answers if answers else None, int(answers), "average")


def round_pulse_score(session: Session, round_id: int) -> Figure | None:
    """The score of a closed round's pulse; None when the round had no pulse or is open."""
    pulse_id = session.scalar(
        select(Pulse.id)
        .join(Round, Round.id == Pulse.round_id)
        .where(Pulse.round_id == round_id, Round.closed_at.is_not(None))
    )
    return None if pulse_id is None else pulse_score(session, pulse_id)


def forget_responder(session: Session, member_id: int) -> int:
    """Delete the records that a member answered pulses (delete-my-data); returns how many.
    Their answers cannot be found: nothing links them to anyone."""
    return int(
        affected_rows(
            session.execute(delete(PulseResponder).where(PulseResponder.member_id == member_id))
        )
        or 0
    )


def forget_old_suggestions(session: Session, programme_id: int, *, before: datetime) -> int:
    """Delete the suggestion text of the programme's pulses whose round started before
    `before` (the programme's text retention); scores stay. Returns how many."""
    old = (
        select(Pulse.id)
        .join(Round, Round.id == Pulse.round_id)
        .where(Round.programme_id == programme_id, Round.started_at < before)
    )
    return int(
        affected_rows(
            session.execute(
                update(PulseAnswer)
                .where(PulseAnswer.pulse_id.in_(old), PulseAnswer.suggestion.is_not(None))
                .values(suggestion=None)
                .execution_options(synchronize_session=False)
            )
        )
        or 0
    )


def answered_cycles(session: Session, member_id: int) -> list[datetime]:
    """When the rounds started whose pulse this member answered (their data export)."""
    return list(
        session.scalars(
            select(Round.started_at)
            .join(Pulse, Pulse.round_id == Round.id)
            .join(PulseResponder, PulseResponder.pulse_id == Pulse.id)
            .where(PulseResponder.member_id == member_id)
            .order_by(Round.started_at)
        )
    )
