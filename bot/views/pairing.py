"""Block Kit for the pairing DMs: intro with agenda and prompts, nudge, check-in and 1:1 notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import ids
from bot.domain.enums import CommitmentOutcome
from bot.domain.meetings import CHAT_MINUTES, MeetingSlot
from bot.domain.messages import IntroNotice, Rendered
from bot.errors import StaleAction
from bot.matching.model import Reason, reason_code
from bot.profile_options import GOALS
from bot.views.blocks import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    header,
    record_id,
    section,
    slack_date,
)

# The follow-up's buttons: action id -> (the outcome it records, its label).
COMMITMENT_OUTCOMES = {
    ids.COMMITMENT_DONE: (CommitmentOutcome.DONE, "Done"),
    ids.COMMITMENT_PARTLY: (CommitmentOutcome.PARTLY, "Partly"),
    ids.COMMITMENT_NOT_YET: (CommitmentOutcome.NOT_YET, "Not yet"),
}


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def _join_names(user_ids: Sequence[str]) -> str:
    names = [mention(u) for u in user_ids]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_reasons(reasons: Sequence[str], *, group_size: int = 2) -> list[str]:
    """Turn the matcher's machine-readable reasons into short phrases (never exclusions),
    worded for a pair or for a trio or circle (where a goal is shared by two or more)."""
    parsed = [reason_code(r) for r in reasons]
    codes = {code for code, _ in parsed}
    goals = [GOALS.get(arg, arg) for code, arg in parsed if code == Reason.SHARED_GOAL and arg]
    phrases: list[str] = []
    if goals:
        who = "you both want" if group_size == 2 else "two or more of you want"
        phrases.append(f"{who} to work on " + ", ".join(f"*{g}*" for g in goals))
    if Reason.SAME_LEVEL in codes:
        phrases.append("you lead at the same level")
    elif Reason.ADJACENT_LEVEL in codes:
        phrases.append("you lead at similar levels")
    if Reason.TZ_OVERLAP in codes:
        phrases.append("your working hours overlap")
    if Reason.CROSS_TEAM in codes:
        phrases.append("you sit in different teams, so you bring fresh eyes")
    if Reason.FIRST_MEETING in codes:
        phrases.append("it's your first PeerCoach chat together")
    elif codes & {Reason.REPEAT, Reason.KEPT_TOGETHER}:
        phrases.append("you've met before, a chance to go deeper")
    return phrases


CHECK_IN_MINUTES = 5
COMMITMENT_MINUTES = 5
# The one-line agreement every intro restates (docs/coaching.md).
AGREEMENT_LINE = (
    ":lock: What's said here stays here. You meet as equals: no evaluation, no reporting "
    "back, and anyone can pause at any time."
)


def agenda_minutes(people: int) -> tuple[int, int]:
    """(minutes of each person's turn, minutes for commitments) in a CHAT_MINUTES chat of
    `people`: equal turns, and what they cannot share evenly goes to commitments."""
    turn = (CHAT_MINUTES - CHECK_IN_MINUTES - COMMITMENT_MINUTES) // people
    return turn, CHAT_MINUTES - CHECK_IN_MINUTES - turn * people


def agenda(user_ids: Sequence[str]) -> str:
    """A CHAT_MINUTES peer-coaching agenda whose steps add up to it; user_ids[0] goes first.

    Each person gets an equal turn bringing a challenge; what the turns cannot share evenly
    goes to commitments, so a trio or circle of four still fits the same half hour.
    """
    turn, commitments = agenda_minutes(len(user_ids))
    if len(user_ids) == 2:
        first, second = user_ids
        turns = (
            f"2. *Challenge ({turn} min)*: {mention(first)} brings a real challenge; "
            f"{mention(second)} coaches with open questions (resist giving advice).\n"
            f"3. *Swap ({turn} min)*: {mention(second)} brings theirs; {mention(first)} coaches.\n"
        )
    else:
        order = " → ".join(mention(u) for u in user_ids)
        turns = (
            f"2. *Challenges ({turn} min each)*: in this order, {order}. Each brings a real "
            "challenge while the others coach with open questions.\n"
        )
    step = 4 if len(user_ids) == 2 else 3
    return (
        f"*Your {CHAT_MINUTES} minutes*\n"
        f"1. *Check-in ({CHECK_IN_MINUTES} min)*: how are you, really? What's taking your "
        "energy this week?\n"
        + turns
        + f"{step}. *Commitments ({commitments} min)*: each names one thing they'll do before "
        "the next chat."
    )


def meeting_window(cadence_weeks: int) -> str:
    """When the group should meet, in words that match the programme's cadence."""
    if cadence_weeks <= 1:
        return "this week"
    words = {2: "two", 3: "three", 4: "four"}
    return (
        f"in the next {words.get(cadence_weeks, str(cadence_weeks))} weeks, before the next round"
    )


def intro_message(notice: IntroNotice) -> Rendered:
    """The group DM that starts a round's conversation, as it stands (met, closed)."""
    user_ids = notice.user_ids
    names = _join_names(user_ids)
    text = f"Meet your PeerCoach peers for this round: {names}."
    why = describe_reasons(notice.reasons, group_size=len(user_ids))
    blocks: list[Block] = [header("Your peer coaching chat this round")]
    if notice.rescue:
        blocks.append(
            section(
                ":handshake: Your peers this round couldn't make it, and so couldn't theirs: "
                "you're both free, so here's a new chat."
            )
        )
    blocks.append(section(f":wave: {text}" + (f"\nWhy you: {'; '.join(why)}." if why else "")))
    if notice.circle_session is not None:
        blocks.append(section(circle_line(notice)))
    blocks += [
        *_meeting_time_blocks(notice),
        section(agenda(user_ids)),
    ]
    if notice.prompts:
        blocks.append(
            section("*If you need a way in*\n" + "\n".join(f"• {p}" for p in notice.prompts))
        )
    if notice.coach_questions:
        blocks.append(
            section(
                "*For whoever coaches*: two questions that fit\n"
                + "\n".join(f"• {q}" for q in notice.coach_questions)
            )
        )
    if notice.asked_about_commitments:
        blocks.append(context("I've also asked privately how last round's commitments went."))
    blocks += [context(AGREEMENT_LINE), divider()]
    value = str(notice.group_id)
    if notice.met_by:
        blocks.append(section(f":white_check_mark: {mention(notice.met_by)} said you met. Nice!"))
    if notice.closed:
        blocks.append(context("This round has closed: these buttons are retired."))
    else:
        buttons = (
            []
            if notice.met_by
            else [
                button("We met", ids.WE_MET, value=value, style="primary"),
                button("Can't make it this time", ids.CANT_MAKE_IT, value=value),
            ]
        )
        blocks.append(
            actions(
                *buttons,
                button("Reflect", ids.OPEN_REFLECTION, value=value),
                button("How to coach", ids.HOW_TO_COACH, value=value),
                block_id=f"pairing_{notice.group_id}",
            )
        )
    blocks.append(context("Reflections are private to you unless you choose to share a takeaway."))
    return Rendered(text, blocks)


def meeting_time(moment: datetime) -> str:
    """A meeting time as each reader sees it in their own time zone ("Wed 2 Dec 15:00 UTC"
    where Slack cannot format dates)."""
    return slack_date(moment, "{date_short_pretty} {time}", "%A %d %b %H:%M UTC")


def _costs_text(slot: MeetingSlot) -> str:
    return " and ".join(f"{mention(user_id)}'s {kind}" for user_id, kind in slot.costs)


def _meeting_time_blocks(notice: IntroNotice) -> list[Block]:
    """When to meet: the picked time (with its buttons), or the suggested slots to pick."""
    window = (
        f"Find {CHAT_MINUTES} minutes {meeting_window(notice.cadence_weeks)}. "
        f"{mention(notice.user_ids[0])}, you go first in the chat."
    )
    open_round = not notice.closed and not notice.met_by
    if notice.picked_start is not None:
        who = mention(notice.picked_by) if notice.picked_by else "PeerCoach"
        reminder = " I'll remind you all 10 minutes before." if open_round else ""
        blocks = [
            section(
                f":calendar: *{meeting_time(notice.picked_start)} your time*, picked by {who}."
                + reminder
            )
        ]
        if open_round:
            value = f"{notice.group_id}:{notice.pick_version}"
            blocks.append(
                actions(
                    button("Add to my calendar", ids.ADD_TO_CALENDAR, value=value),
                    button("Doesn't work for me", ids.TIME_DOESNT_WORK, value=value),
                    block_id=f"meeting_{notice.group_id}",
                )
            )
        return blocks
    if not notice.slots or not open_round:
        return [section(f"{window} Pick a time that works for everyone.")]
    if notice.slots[0].costs:
        intro = (
            f"{window} Your working hours don't overlap at all, so here "
            + ("are the least-bad times" if len(notice.slots) > 1 else "is the least-bad time")
            + f": it costs {_costs_text(notice.slots[0])}. Next time the cost goes to "
            "someone else. Press one to pick it for everyone (shown in your own time zone):"
        )
    else:
        intro = (
            f"{window} These suit everyone's working hours (shown in your own time zone). "
            "Press one to pick it for everyone:"
        )
    blocks = [section(intro)]
    if notice.reopened_by:
        blocks.append(
            context(f"{mention(notice.reopened_by)} said the picked time doesn't work: pick again.")
        )
    for number, slot in enumerate(notice.slots, start=1):
        block = section(f"• *{meeting_time(slot.start)}* ({slot.minutes} min)")
        block["accessory"] = button(
            "Pick this time", ids.PICK_SLOT, value=f"{notice.group_id}:{number}"
        )
        blocks.append(block)
    return blocks


def meeting_reminder_message(start: datetime) -> Rendered:
    """The group's reminder shortly before its picked time."""
    text = f"Your PeerCoach chat starts soon: {meeting_time(start)} your time."
    return Rendered(
        text,
        [section(f":alarm_clock: {text} The agenda is in the intro above. Enjoy it!")],
    )


def auto_picked_message(start: datetime, days: int) -> Rendered:
    """Told to a group when PeerCoach picked its time after `days` without one."""
    text = (
        f"Nobody picked a time in {days} day{'s' if days != 1 else ''}, so I picked "
        f"{meeting_time(start)} your time for you. If it doesn't work, press "
        "*Doesn't work for me* on the intro and pick another."
    )
    return Rendered(text, [section(f":calendar: {text}")])


def circle_line(notice: IntroNotice) -> str:
    """The circle's session and who brings the challenge this time (the seat rotates)."""
    of = f" of {notice.season_sessions}" if notice.season_sessions else ""
    return (
        f":repeat: Coaching circle, session {notice.circle_session}{of}. This session "
        f"{mention(notice.user_ids[0])} brings a challenge first; the turn moves on each session."
    )


def nudge_message(group_id: int) -> Rendered:
    text = f"A gentle nudge: have you found {CHAT_MINUTES} minutes for your peer chat yet?"
    return Rendered(
        text,
        [
            section(f":alarm_clock: {text} Press *We met* once you have."),
            actions(
                button("We met", ids.WE_MET, value=str(group_id), style="primary"),
                button("Can't make it this time", ids.CANT_MAKE_IT, value=str(group_id)),
            ),
        ],
    )


def checkin_message(group_id: int) -> Rendered:
    text = "The round is closing: did you meet?"
    return Rendered(
        text,
        [
            section(f":calendar: {text}"),
            actions(
                button("Yes, we met", ids.WE_MET, value=str(group_id), style="primary"),
                button("Not this time", ids.DIDNT_MEET, value=str(group_id)),
                button("Reflect", ids.OPEN_REFLECTION, value=str(group_id)),
            ),
        ],
    )


def unpaired_message() -> Rendered:
    text = (
        "I couldn't find a peer for you this round, sorry: the numbers (or the never-pair "
        "lists) didn't work out. You're first in line next round."
    )
    return Rendered(text, [section(f":seedling: {text}")])


def partner_unreachable_message() -> Rendered:
    text = (
        "Your peer for this round can't be reached on Slack any more, so this round's chat is "
        "off. Sorry about that: you'll be paired again next round."
    )
    return Rendered(text, [section(text)])


def partner_cant_make_it_text(user_id: str, *, looking: bool = False) -> str:
    """Told to the group; `looking`: the one left is being offered someone else who is free."""
    then = (
        "I'll look for someone else who is free this round."
        if looking
        else "You'll be paired again next round."
    )
    return f"{mention(user_id)} can't make it this round. No problem: life happens. {then}"


def no_new_partner_text() -> str:
    return (
        "Nobody else is free this round, sorry. If someone becomes free I'll introduce you; "
        "otherwise you'll be paired again next round."
    )


def keep_value(group_id: int, rounds: int) -> str:
    """The value a keep-meeting button carries: the group and the rounds chosen."""
    return f"{group_id}:{rounds}"


def parse_keep_value(value: object) -> tuple[int, int]:
    """Read a keep-meeting button's value; StaleAction for anything this app never wrote."""
    group, _, rounds = str(value or "").partition(":")
    if not rounds.isascii() or not rounds.isdigit() or len(rounds) > 2:
        raise StaleAction()
    return record_id(group), int(rounds)


def keep_meeting_offer(group_id: int, partners: Sequence[str], max_rounds: int) -> Rendered:
    """A private 1:1 question after a chat: keep meeting these partners for a few rounds?"""
    names = _join_names(partners)
    text = f"Would you like to keep meeting {names} for the next rounds?"
    return Rendered(
        text,
        [
            section(f":seedling: {text}"),
            actions(
                *(
                    button(
                        f"{n} more round" + ("s" if n > 1 else ""),
                        f"{ids.KEEP_MEETING}_{n}",
                        value=keep_value(group_id, n),
                    )
                    for n in range(1, max_rounds + 1)
                )
            ),
            context(
                "Only you see this. You stay together only if everyone chooses it; nobody is "
                "told who didn't."
            ),
        ],
    )


def keep_meeting_chosen(group_id: int, agreed: bool, rounds: int) -> Rendered:
    """The answer to a keep-meeting press, replacing the question (with a way out)."""
    text = (
        f"You'll keep meeting for {rounds} more round" + ("s" if rounds > 1 else "") + "."
        if agreed
        else "Noted, privately. If your peers choose it too, you'll meet again next round."
    )
    return Rendered(text, [section(text), keep_meeting_end(group_id)])


def keep_meeting_end(group_id: int) -> Block:
    return actions(button("End it", ids.KEEP_MEETING_END, value=str(group_id)))


def keep_meeting_agreed(group_id: int, partners: Sequence[str], rounds: int) -> Rendered:
    """Told 1:1 to each member once everyone chose to keep meeting."""
    plural = "s" if rounds > 1 else ""
    text = f"You and {_join_names(partners)} will keep meeting for {rounds} more round{plural}."
    return Rendered(
        text,
        [
            section(f":handshake: {text}"),
            keep_meeting_end(group_id),
            context("Either of you can end it at any time; nobody is told why."),
        ],
    )


KEEP_MEETING_ENDED_TEXT = "Change of plan: next round you'll meet a new peer."
KEEP_MEETING_STOPPED_TEXT = "Done: next round you'll meet a new peer. Nobody is told why."


def circle_placed_text(members: Sequence[str], session: int, season_sessions: int) -> str:
    who = _join_names(members) if members else "a circle of its own"
    return (
        f"Welcome! The circles of this season are already meeting, and there was room for "
        f"you: you join {who} from session {session} of {season_sessions}."
    )


def circle_waiting_text(sessions_left: int) -> str:
    plural = "s" if sessions_left != 1 else ""
    return (
        "Welcome! Every coaching circle is full this season, so you'll be placed in a new "
        f"circle when the next season starts (in about {sessions_left} session{plural})."
    )


def circle_merged_text(members: Sequence[str]) -> str:
    who = _join_names(members) if members else "another circle"
    return (
        "Your circle became too small to carry on, so you now join "
        f"{who} for the rest of the season."
    )


def commitment_followup_message(reflection_id: int, commitment: str) -> Rendered:
    """A private 1:1 DM: the commitment is the author's own, never shown in the group DM."""
    text = f"Last round you committed to: “{commitment}”. How did it go?"
    value = str(reflection_id)
    return Rendered(
        text,
        [
            section(f":dart: {text}"),
            actions(
                *(
                    button(label, action, value=value)
                    for action, (_, label) in COMMITMENT_OUTCOMES.items()
                )
            ),
            context("Only you see this."),
        ],
    )


def commitment_answer_text(outcome_label: str, commitment: str) -> str:
    return f":dart: “{commitment}”: *{outcome_label}*. Thanks for keeping yourself accountable."


def auto_paused_message(missed: int) -> Rendered:
    text = (
        f"You haven't responded in the last {missed} rounds, so I've paused your pairing to "
        "keep your peers' time well spent. Come back whenever you like."
    )
    return Rendered(
        text,
        [
            section(f":double_vertical_bar: {text}"),
            actions(
                button("Resume pairing", ids.RESUME_FROM_DM, style="primary"),
                button(
                    "Leave PeerCoach",
                    ids.LEAVE_CONFIRM,
                    style="danger",
                    confirm=confirm_dialog(
                        "Leave PeerCoach?",
                        "You won't be paired again. You can rejoin any time with "
                        "`/peercoach join`.",
                        "Leave",
                    ),
                ),
            ),
        ],
    )
