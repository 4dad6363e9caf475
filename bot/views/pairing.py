"""Block Kit for the pairing DMs: intro with agenda and prompts, nudge, check-in and 1:1 notes."""

from __future__ import annotations

from collections.abc import Sequence

from bot import ids
from bot.domain.enums import CommitmentOutcome
from bot.domain.messages import Rendered
from bot.matching.model import Reason, reason_code
from bot.profile_options import GOALS
from bot.views.blocks import Block, actions, button, context, divider, header, section

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


def describe_reasons(reasons: Sequence[str]) -> list[str]:
    """Turn the matcher's machine-readable reasons into short phrases (never exclusions)."""
    parsed = [reason_code(r) for r in reasons]
    codes = {code for code, _ in parsed}
    goals = [GOALS.get(arg, arg) for code, arg in parsed if code == Reason.SHARED_GOAL and arg]
    phrases: list[str] = []
    if goals:
        phrases.append("you both want to work on " + ", ".join(f"*{g}*" for g in goals))
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


def agenda(user_ids: Sequence[str]) -> str:
    """A 30-minute peer-coaching agenda; user_ids[0] brings their challenge first."""
    if len(user_ids) == 2:
        first, second = user_ids
        turns = (
            f"2. *Challenge (10 min)*: {mention(first)} brings a real challenge; "
            f"{mention(second)} coaches with open questions (resist giving advice).\n"
            f"3. *Swap (10 min)*: {mention(second)} brings theirs; {mention(first)} coaches.\n"
        )
    else:
        order = " → ".join(mention(u) for u in user_ids)
        turns = (
            f"2. *Challenges (7 min each)*: in this order, {order}. Each brings a real challenge "
            "while the others coach with open questions.\n"
        )
    step = 4 if len(user_ids) == 2 else 3
    return (
        "*Your 30 minutes*\n"
        "1. *Check-in (5 min)*: how are you, really? What's taking your energy this week?\n"
        + turns
        + f"{step}. *Commitments (5 min)*: each names one thing they'll do before the next chat."
    )


def intro_message(
    *,
    group_id: int,
    user_ids: Sequence[str],
    reasons: Sequence[str],
    prompts: Sequence[str],
    asked_about_commitments: bool,
) -> Rendered:
    """The group DM that starts a round's conversation."""
    names = _join_names(user_ids)
    text = f"Meet your PeerCoach peers for this round: {names}."
    why = describe_reasons(reasons)
    blocks: list[Block] = [
        header("Your peer coaching chat this round"),
        section(f":wave: {text}" + (f"\nWhy you: {'; '.join(why)}." if why else "")),
        section(
            f"Find 30 minutes this week. {mention(user_ids[0])}, you go first: "
            "pick a time that works for everyone."
        ),
        section(agenda(user_ids)),
    ]
    if prompts:
        blocks.append(section("*If you need a way in*\n" + "\n".join(f"• {p}" for p in prompts)))
    if asked_about_commitments:
        blocks.append(context("I've also asked privately how last round's commitments went."))
    value = str(group_id)
    blocks += [
        divider(),
        actions(
            button("We met", ids.WE_MET, value=value, style="primary"),
            button("Can't make it this time", ids.CANT_MAKE_IT, value=value),
            button("Reflect", ids.OPEN_REFLECTION, value=value),
            block_id=f"pairing_{group_id}",
        ),
        context("Reflections are private to you unless you choose to share a takeaway."),
    ]
    return Rendered(text, blocks)


def nudge_message(group_id: int) -> Rendered:
    text = "A gentle nudge: have you found 30 minutes for your peer chat yet?"
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


def partner_cant_make_it_text(user_id: str) -> str:
    return (
        f"{mention(user_id)} can't make it this round. No problem: life happens. "
        "You'll be paired again next round."
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
                button("Leave PeerCoach", ids.LEAVE_CONFIRM, style="danger"),
            ),
        ],
    )
