"""Sending the outbox: each recorded message reaches Slack once, whatever crashes in between.

Every message is in the database before any Slack call. A group DM is opened first and its
channel stored; then the message is posted and its `ts` stored in the very next write. A crash
between Slack accepting the post and that write is the one window where a restart sends the
message again: we prefer a duplicate to a lost intro (docs/delivery.md).
"""

from __future__ import annotations

import logging
import urllib.error
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import observability
from bot.domain.enums import OutboxKind, OutboxStatus
from bot.domain.messages import (
    DigestNotice,
    DigestReport,
    IntroNotice,
    IntroUndeliveredNotice,
    IntroUpdateNotice,
    Notice,
    PartnerUnreachableNotice,
    Rendered,
    notice_from_payload,
    notice_to_payload,
)
from bot.services import admin as delivery_state
from bot.services.digest import digest_report
from bot.services.meetings import meeting_fields, reminder_still_due
from bot.services.outbox import enqueue
from bot.services.rounds import intro_notice, regroup_lone_member
from db.models import Member, MemberStatus, OutboxMessage, PairGroup, Workspace
from db.session import unit_of_work
from db.upsert import affected_rows

logger = logging.getLogger(__name__)

# Slack's errors that mean "this person cannot be reached", not "try again".
UNREACHABLE_ERRORS = frozenset({"user_disabled", "user_not_found", "user_not_visible"})
# Slack's errors worth retrying later (besides HTTP 5xx and network failures).
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
# Slack's errors that mean "the app's token is no good": nothing for the workspace can go out
# until it is fixed, so delivery stops there (messages keep their place) and resumes when
# auth.test succeeds again.
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_authed",
        "missing_scope",
        "no_permission",
        "team_access_not_granted",
    }
)
MAX_ATTEMPTS = 8
# How long a sender owns a message it claimed. A sender that dies mid-send leaves its claim
# to lapse; the message is then sent by the next run (see the module docstring).
CLAIM_TTL = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=1)


# Turns a notice (or the report a digest notice stands for) into what Slack gets; the wiring
# passes bot.views.notices.render, so this job never imports views.
Renderer = Callable[[Notice | DigestReport], Rendered]


class TransientFailure(Exception):
    """Slack or the network failed in a way that may pass: try this message later."""


class TokenRefused(Exception):
    """Slack refused the app's token itself: stop the workspace's delivery."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    rate_limited_seconds: float = 0.0


class Delivery:
    """Sends pending outbox messages, honouring Retry-After on the given clock."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clients: Callable[[int], WebClient],
        *,
        render: Renderer,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        checkpoint: Callable[[str], None] = lambda _point: None,
    ) -> None:
        self.sessions = sessions
        # The Web API client of a workspace (by row id): its own installation's token.
        self.clients = clients
        self.render = render
        self.clock = clock
        self.sleep = sleep
        # Called at "sending", "opened" and "posted": tests crash delivery there to prove that
        # a restart neither loses nor repeats a message.
        self.checkpoint = checkpoint
        # Every admin gets the same digest of a round: render its figures and chart once.
        self._digests: dict[int, Rendered] = {}

    def run(
        self,
        *,
        workspace_id: int | None = None,
        kinds: Collection[OutboxKind] | None = None,
        on_sent: Callable[[DeliveryReport], None] | None = None,
    ) -> DeliveryReport:
        """Send every pending message that is due (including ones queued while sending)."""
        report = DeliveryReport()
        attempted: set[int] = set()
        self._digests.clear()  # figures move on between runs
        self._probe_blocked(workspace_id, report)
        while True:
            with unit_of_work(self.sessions) as session:
                query = select(OutboxMessage.id).where(_claimable(self.clock()))
                if workspace_id is not None:
                    query = query.where(OutboxMessage.workspace_id == workspace_id)
                if kinds is not None:
                    query = query.where(OutboxMessage.kind.in_(list(kinds)))
                pending = [
                    i
                    for i in session.scalars(query.order_by(OutboxMessage.id))
                    if i not in attempted
                ]
            if not pending:
                return report
            for message_id in pending:
                attempted.add(message_id)
                self._deliver(message_id, report)
                if on_sent is not None:
                    on_sent(report)

    def _probe_blocked(self, workspace_id: int | None, report: DeliveryReport) -> None:
        """For each workspace whose delivery stopped on its token, try again: auth.test, then
        its oldest held message. If Slack takes it (or refuses it for a reason that is not
        the token), delivery resumes and the rest goes out in this run; if Slack refuses the
        token again, it stays stopped (admins were told when it stopped, and are not again).
        """
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            query = select(Workspace.id).where(Workspace.delivery_blocked_at.is_not(None))
            if workspace_id is not None:
                query = query.where(Workspace.id == workspace_id)
            blocked = list(session.scalars(query))
        for blocked_id in blocked:
            try:
                self._call(DeliveryReport(), self.clients(blocked_id).auth_test)
            except LookupError:  # uninstalled meanwhile: nothing to probe with
                continue
            except (SlackApiError, TransientFailure, TokenRefused) as error:
                code = error.response.get("error") if isinstance(error, SlackApiError) else error
                logger.info("workspace %s: Slack still refuses the token (%s)", blocked_id, code)
                continue
            with unit_of_work(self.sessions) as session:
                held = session.scalar(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.workspace_id == blocked_id, _due(now))
                    .order_by(OutboxMessage.id)
                    .limit(1)
                )
            if held is not None and self._deliver(held, report, probe=True):
                continue
            with unit_of_work(self.sessions) as session:
                delivery_state.resume_delivery(session, blocked_id, now=self.clock())
            logger.warning("workspace %s: Slack accepts the token again", blocked_id)

    def _deliver(self, message_id: int, report: DeliveryReport, *, probe: bool = False) -> bool:
        """Send one message; True if Slack refused the token (delivery then stops).
        `probe`: the message is tried although its workspace's delivery stopped."""
        try:
            while True:  # a group may shrink (unreachable member) and be tried again
                outcome = self._attempt(message_id, report, probe=probe)
                if outcome != "retry":
                    break
        except TransientFailure as failure:
            self._defer(message_id, str(failure), report)
        except TokenRefused as refused:
            self._block(message_id, refused.code)
            return True
        return False

    def _attempt(self, message_id: int, report: DeliveryReport, *, probe: bool = False) -> str:
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            # Claim the message: another sender (a second process, an invite run in a
            # listener) that got here first wins, and this one moves on.
            claimed = affected_rows(
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id, _due(now) if probe else _claimable(now))
                    .values(status=OutboxStatus.SENDING, claimed_until=now + CLAIM_TTL)
                )
            )
            if claimed != 1:
                return "done"
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            recipients, channel = list(message.recipients), message.channel_id
            workspace_id = message.workspace_id
            replaces: str | None = None  # the ts of the message an update rewrites
            if message.kind == OutboxKind.INTRO_UPDATE:
                target = _sent_intro(session, message.group_id)
                if target is None:  # the intro never went out: nothing to update
                    message.status, message.last_error = OutboxStatus.DROPPED, "intro_not_sent"
                    return "done"
                channel, replaces = target.channel_id, target.ts
            if message.kind == OutboxKind.MEETING_REMINDER and not reminder_still_due(
                session, message, now
            ):  # the time changed (or the group met, or the round closed) since it was queued
                message.status, message.last_error = OutboxStatus.DROPPED, "time_changed"
                return "done"
            rendered = self._rendered(session, message)
            if rendered is None:
                message.status, message.last_error = OutboxStatus.FAILED, "unreadable_payload"
                report.failed += 1
                return "done"
        self.checkpoint("sending")
        try:
            client = self.clients(workspace_id)
        except LookupError as missing:  # uninstalled meanwhile: keep it for a reinstall
            raise TransientFailure(str(missing)) from None
        if channel is None:
            try:
                opened = self._call(report, client.conversations_open, users=",".join(recipients))
            except SlackApiError as error:
                code = error.response.get("error", "")
                if code in UNREACHABLE_ERRORS:
                    return self._unreachable(client, message_id, recipients)
                return self._fail(message_id, code, report)
            channel = opened["channel"]["id"]
            with unit_of_work(self.sessions) as session:
                message = session.get(OutboxMessage, message_id)
                assert message is not None
                message.channel_id = channel
                if message.group_id is not None and message.kind == OutboxKind.INTRO:
                    group = session.get(PairGroup, message.group_id)
                    if group is not None:
                        group.channel_id = channel
            self.checkpoint("opened")
        try:
            posted = self._post(report, client, channel, rendered, replaces=replaces)
        except SlackApiError as error:
            return self._fail(message_id, error.response.get("error", ""), report)
        self.checkpoint("posted")
        with unit_of_work(self.sessions) as session:  # the one write that closes the window
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.status, message.ts, message.sent_at = OutboxStatus.SENT, posted, self.clock()
            message.attempts += 1
        report.sent += 1
        observability.delivery("sent")
        return "done"

    def _rendered(self, session: Session, message: OutboxMessage) -> Rendered | None:
        """Render a stored notice; None (logged by id only) if the payload is unreadable."""
        try:
            notice = notice_from_payload(message.payload)
        except ValidationError:
            logger.error("outbox message %s has an unreadable payload", message.id)
            return None
        if isinstance(notice, IntroUpdateNotice):
            target = _sent_intro(session, message.group_id)
            assert target is not None
            intro = notice_from_payload(target.payload)
            assert isinstance(intro, IntroNotice)
            # The intro's own payload keeps its current state: who said they met first stays;
            # the meeting time is the group's as it stands now, whichever update goes first.
            group = session.get(PairGroup, message.group_id)
            assert group is not None
            meeting = meeting_fields(group)
            changed = {
                "closed": intro.closed or notice.closed,
                "met_by": intro.met_by or notice.met_by,
                **meeting,
                "reopened_by": (notice.reopened_by or intro.reopened_by)
                if meeting["picked_start"] is None
                else None,
            }
            updated = intro.model_copy(update=changed)
            target.payload = notice_to_payload(updated)
            return self.render(updated)
        if isinstance(notice, DigestNotice):
            if notice.round_id not in self._digests:
                self._digests[notice.round_id] = self.render(
                    digest_report(session, message.workspace_id, notice.round_id)
                )
            return self._digests[notice.round_id]
        return self.render(notice)

    def _post(
        self,
        report: DeliveryReport,
        client: WebClient,
        channel: str,
        rendered: Rendered,
        *,
        replaces: str | None,
    ) -> str | None:
        """Post a rendered message (or upload its file) into a channel, or rewrite the message
        `replaces` (its ts) in place; return the ts if any."""
        if replaces is not None:
            self._call(
                report,
                client.chat_update,
                channel=channel,
                ts=replaces,
                text=rendered.text,
                blocks=rendered.blocks,
            )
            return replaces
        if rendered.upload is None:
            posted = self._call(
                report,
                client.chat_postMessage,
                channel=channel,
                text=rendered.text,
                blocks=rendered.blocks,
            )
            return str(posted["ts"])
        upload = rendered.upload
        self._call(
            report,
            client.files_upload_v2,
            channel=channel,
            file=upload.content,
            filename=upload.filename,
            title=upload.title,
            alt_txt=upload.alt_text,
            initial_comment=rendered.text,
        )
        return None

    def _call(self, report: DeliveryReport, method: Callable[..., Any], **kwargs: Any) -> Any:
        """Call Slack, waiting out HTTP 429s; transient failures raise TransientFailure."""
        while True:
            try:
                return method(**kwargs)
            except SlackApiError as error:
                status = error.response.status_code
                if status == 429:
                    wait = float(error.response.headers.get("Retry-After", 1) or 1)
                    report.rate_limited_seconds += wait
                    self.sleep(wait)
                    continue
                if status >= 500 or error.response.get("error") in TRANSIENT_ERRORS:
                    raise TransientFailure(
                        error.response.get("error") or f"HTTP {status}"
                    ) from None
                if error.response.get("error") in TOKEN_ERRORS:
                    raise TokenRefused(str(error.response.get("error"))) from None
                raise
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                raise TransientFailure(type(error).__name__) from None

    def _defer(self, message_id: int, reason: str, report: DeliveryReport) -> None:
        with unit_of_work(self.sessions) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.attempts += 1
            message.last_error = reason[:200]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
                _undelivered(session, message, self.clock())
                report.failed += 1
                observability.delivery("failed")
                logger.error(
                    "giving up on outbox message %s after %s attempts: %s",
                    message_id,
                    message.attempts,
                    reason,
                )
                return
            backoff = min(timedelta(seconds=30 * 2 ** (message.attempts - 1)), MAX_BACKOFF)
            message.status, message.not_before = OutboxStatus.PENDING, self.clock() + backoff
        report.deferred += 1
        observability.delivery("deferred")

    def _fail(self, message_id: int, code: str, report: DeliveryReport) -> str:
        with unit_of_work(self.sessions) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.status, message.last_error = OutboxStatus.FAILED, code[:200]
            message.attempts += 1
            _undelivered(session, message, self.clock())
        logger.error("Slack refused outbox message %s: %s", message_id, code)
        report.failed += 1
        observability.delivery("failed")
        return "done"

    def _block(self, message_id: int, code: str) -> None:
        """Put the message back in its place and stop the workspace's delivery (admins are
        told once); the next run's probe resumes it."""
        with unit_of_work(self.sessions) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.status, message.claimed_until = OutboxStatus.PENDING, None
            message.last_error = code[:200]
            first = delivery_state.block_delivery(
                session, message.workspace_id, code, now=self.clock()
            )
        if first:
            logger.error(
                "workspace %s: Slack refuses the app's token (%s); delivery stops until it "
                "accepts it again",
                message.workspace_id,
                code,
            )

    def _unreachable(self, client: WebClient, message_id: int, recipients: list[str]) -> str:
        """Find who Slack can't reach, take them out, and go on with (or call off) the group."""
        observability.delivery("unreachable")
        gone = [u for u in recipients if not _reachable(client, u)]
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            if not gone:  # Slack said no but every user looks fine: don't loop on it
                message.status, message.last_error = OutboxStatus.FAILED, "unreachable_unknown"
                return "done"
            _deactivate(session, message.workspace_id, gone, now)
            if message.group_id is None or message.kind != OutboxKind.INTRO:
                message.status, message.last_error = OutboxStatus.FAILED, "recipient_unreachable"
                return "done"
            group = session.get(PairGroup, message.group_id)
            assert group is not None
            for seat in group.seats:
                if seat.slack_user_id in gone:
                    seat.removed_at = now
            remaining = [s.slack_user_id for s in group.seats if s.removed_at is None]
            if len(remaining) >= 2:
                message.recipients = remaining
                message.payload = notice_to_payload(intro_notice(session, group))
                message.status = OutboxStatus.PENDING  # released, so the retry can claim it
                return "retry"
            group.cancelled_at = now
            message.status, message.last_error = OutboxStatus.CANCELLED, "partner_unreachable"
            for user_id in remaining:
                if regroup_lone_member(session, group, user_id, now=now) is not None:
                    continue  # they join a pair whose intro is still to go out
                enqueue(
                    session,
                    workspace_id=message.workspace_id,
                    dedupe_key=f"partner_unreachable:group:{group.id}:{user_id}",
                    recipients=[user_id],
                    notice=PartnerUnreachableNotice(),
                    now=now,
                    group_id=group.id,
                )
        return "done"


def _due(now: datetime) -> ColumnElement[bool]:
    """Due pending messages, and messages whose sender's claim has lapsed, of workspaces
    that have the app installed (an uninstalled one's messages wait for a reinstall)."""
    installed = OutboxMessage.workspace_id.in_(
        select(Workspace.id).where(Workspace.uninstalled_at.is_(None))
    )
    return and_(
        installed,
        or_(
            and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now),
            and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
        ),
    )


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Due messages, but none of a workspace whose delivery stopped on its token except the
    admins' notice of that (sent if Slack takes it)."""
    return and_(
        _due(now),
        or_(
            OutboxMessage.kind == OutboxKind.DELIVERY_BLOCKED,
            OutboxMessage.workspace_id.not_in(
                select(Workspace.id).where(Workspace.delivery_blocked_at.is_not(None))
            ),
        ),
    )


def _undelivered(session: Session, message: OutboxMessage, now: datetime) -> None:
    """A group's intro failed for good: mark the group undelivered (it counts against no
    one) and tell each member 1:1, where Slack lets us."""
    if message.kind != OutboxKind.INTRO or message.group_id is None:
        return
    group = session.get(PairGroup, message.group_id)
    if group is None or group.undelivered_at is not None:
        return
    group.undelivered_at = now
    for user_id in message.recipients:
        enqueue(
            session,
            workspace_id=message.workspace_id,
            dedupe_key=f"intro_undelivered:group:{group.id}:{user_id}",
            recipients=[user_id],
            notice=IntroUndeliveredNotice(group_id=group.id),
            now=now,
            group_id=group.id,
        )


def _deactivate(session: Session, workspace_id: int, user_ids: list[str], now: datetime) -> None:
    for member in session.scalars(
        select(Member).where(
            Member.workspace_id == workspace_id, Member.slack_user_id.in_(user_ids)
        )
    ):
        member.status, member.updated_at = MemberStatus.INACTIVE.value, now


def _reachable(client: WebClient, user_id: str) -> bool:
    """Whether Slack still knows the person as an active account (users.info)."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        return error.response.get("error") not in UNREACHABLE_ERRORS
    return not user.get("deleted", False)


def _sent_intro(session: Session, group_id: int | None) -> OutboxMessage | None:
    """The group's intro as Slack has it (posted: a channel and a ts), if it went out."""
    return session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.group_id == group_id,
            OutboxMessage.kind == OutboxKind.INTRO,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.ts.is_not(None),
        )
    )
