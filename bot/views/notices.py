"""Render the outbox's notices into the messages Slack gets (the delivery job's renderer)."""

from __future__ import annotations

from functools import singledispatch

from bot.domain.messages import (
    AgreementNotice,
    AutoPausedNotice,
    AutoPickedNotice,
    CalendarInviteNotice,
    CheckinNotice,
    CircleMergedNotice,
    CirclePlacedNotice,
    CircleWaitingNotice,
    CommitmentNotice,
    DeliveryBlockedNotice,
    DeliveryResumedNotice,
    DigestReport,
    IntroNotice,
    IntroUndeliveredNotice,
    InviteNotice,
    KeepMeetingAgreedNotice,
    KeepMeetingEndedNotice,
    KeepMeetingOfferNotice,
    MeetingReminderNotice,
    NoNewPartnerNotice,
    NotPairableNotice,
    NudgeNotice,
    OrgImportNotice,
    PartnerCantMakeItNotice,
    PartnerUnreachableNotice,
    PulseNotice,
    Rendered,
    SharedTakeawayNotice,
    TextNotice,
    UnpairedNotice,
    Upload,
)
from bot.views import admin, calendar, membership, pairing, pulse, reflection
from bot.views.blocks import section
from bot.views.charts import participation_chart


@singledispatch
def render(notice: object) -> Rendered:
    """The message for one notice (or digest report). Raises TypeError for anything else."""
    raise TypeError(f"no renderer for {type(notice).__name__}")


@render.register
def _intro(notice: IntroNotice) -> Rendered:
    return pairing.intro_message(notice)


@render.register
def _meeting_reminder(notice: MeetingReminderNotice) -> Rendered:
    return pairing.meeting_reminder_message(notice.start)


@render.register
def _auto_picked(notice: AutoPickedNotice) -> Rendered:
    return pairing.auto_picked_message(notice.start, notice.days)


@render.register
def _calendar_invite(notice: CalendarInviteNotice) -> Rendered:
    text = (
        "Here's your calendar invite for your PeerCoach chat "
        f"({pairing.meeting_time(notice.start)} your time). Only you see this."
    )
    return Rendered(
        text,
        upload=Upload(
            content=calendar.calendar_invite(
                group_id=notice.group_id,
                start=notice.start,
                minutes=notice.minutes,
                tz_name=notice.tz_name,
                people=notice.people,
                created=notice.created,
            ),
            filename="peercoach-chat.ics",
            title=calendar.TITLE,
            alt_text="Calendar invite for your PeerCoach chat",
        ),
    )


@render.register
def _nudge(notice: NudgeNotice) -> Rendered:
    return pairing.nudge_message(notice.group_id)


@render.register
def _checkin(notice: CheckinNotice) -> Rendered:
    return pairing.checkin_message(notice.group_id)


@render.register
def _unpaired(notice: UnpairedNotice) -> Rendered:
    return pairing.unpaired_message()


@render.register
def _partner_unreachable(notice: PartnerUnreachableNotice) -> Rendered:
    return pairing.partner_unreachable_message()


@render.register
def _partner_cant_make_it(notice: PartnerCantMakeItNotice) -> Rendered:
    text = pairing.partner_cant_make_it_text(notice.user_id, looking=notice.looking)
    return Rendered(text, [section(text)])


@render.register
def _no_new_partner(notice: NoNewPartnerNotice) -> Rendered:
    return _plain(pairing.no_new_partner_text())


@render.register
def _keep_offer(notice: KeepMeetingOfferNotice) -> Rendered:
    return pairing.keep_meeting_offer(notice.group_id, notice.partners, notice.max_rounds)


@render.register
def _keep_agreed(notice: KeepMeetingAgreedNotice) -> Rendered:
    return pairing.keep_meeting_agreed(notice.group_id, notice.partners, notice.rounds)


@render.register
def _keep_ended(notice: KeepMeetingEndedNotice) -> Rendered:
    return _plain(pairing.KEEP_MEETING_ENDED_TEXT)


@render.register
def _circle_placed(notice: CirclePlacedNotice) -> Rendered:
    return _plain(
        pairing.circle_placed_text(notice.members, notice.session, notice.season_sessions)
    )


@render.register
def _circle_waiting(notice: CircleWaitingNotice) -> Rendered:
    return _plain(pairing.circle_waiting_text(notice.sessions_left))


@render.register
def _circle_merged(notice: CircleMergedNotice) -> Rendered:
    return _plain(pairing.circle_merged_text(notice.members))


@render.register
def _shared_takeaway(notice: SharedTakeawayNotice) -> Rendered:
    text = reflection.shared_takeaway_text(notice.user_id, notice.takeaway)
    return Rendered(text, [section(text)])


@render.register
def _commitment(notice: CommitmentNotice) -> Rendered:
    return pairing.commitment_followup_message(notice.reflection_id, notice.commitment)


@render.register
def _auto_paused(notice: AutoPausedNotice) -> Rendered:
    return pairing.auto_paused_message(notice.missed)


@render.register
def _agreement(notice: AgreementNotice) -> Rendered:
    return membership.agreement_request(notice.version, notice.programme_id)


@render.register
def _invite(notice: InviteNotice) -> Rendered:
    return membership.invitation_message(
        notice.inviter, programme=notice.programme, programme_id=notice.programme_id
    )


@render.register
def _digest(report: DigestReport) -> Rendered:
    png, alt = participation_chart(list(report.cycles))
    return Rendered(
        admin.digest_text(report.cycles[-1], report.membership, report.programme),
        upload=Upload(
            content=png,
            filename="peercoach-digest.png",
            title="PeerCoach participation",
            alt_text=alt,
        ),
    )


@render.register
def _pulse(notice: PulseNotice) -> Rendered:
    return pulse.pulse_message(notice.pulse_id, notice.programme)


@render.register
def _text(notice: TextNotice) -> Rendered:
    return Rendered(notice.text, list(notice.blocks))


def _plain(text: str) -> Rendered:
    return Rendered(text, [section(text)])


@render.register
def _intro_undelivered(notice: IntroUndeliveredNotice) -> Rendered:
    return _plain(membership.intro_undelivered_text())


@render.register
def _not_pairable(notice: NotPairableNotice) -> Rendered:
    return _plain(membership.not_pairable_text(notice.reason))


@render.register
def _delivery_blocked(notice: DeliveryBlockedNotice) -> Rendered:
    return _plain(admin.delivery_blocked_text(notice.error, notice.since))


@render.register
def _delivery_resumed(notice: DeliveryResumedNotice) -> Rendered:
    return _plain(admin.delivery_resumed_text(notice.error, notice.since))


@render.register
def _org_import(notice: OrgImportNotice) -> Rendered:
    return _plain(admin.org_import_text(notice))
