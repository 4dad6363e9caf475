"""Block Kit for membership: the join modal (and its parser), help, status, leave, App Home."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.domain.enums import JoinOutcome
from bot.domain.messages import Rendered
from bot.domain.people import MemberStatusView, Profile
from bot.profile_options import GOALS, LEVEL_BANDS, MAX_GOALS, MAX_NEVER_PAIR, MAX_TEAM_LENGTH
from bot.views.blocks import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    header,
    option,
    plain,
    section,
    selected_users,
    selected_value,
    selected_values,
    slack_date,
    text_value,
)

HELP_TEXT = (
    "*PeerCoach* pairs you with a peer leader each cycle for a short, structured coaching chat.\n"
    "• `/peercoach join`: opt in (or edit your profile)\n"
    "• `/peercoach profile`: edit your level, team, topics and never-pair list\n"
    "• `/peercoach pause [N weeks | until YYYY-MM-DD]`: skip rounds for a while "
    "(one cycle by default); you resume on your own\n"
    "• `/peercoach skip`: sit out just the next round\n"
    "• `/peercoach resume`: come back from a pause\n"
    "• `/peercoach status`: where you stand and when the next round is\n"
    "• `/peercoach reflect`: reflect on your latest chat (private to you)\n"
    "• `/peercoach history`: your own past pairings, reflections and commitments\n"
    "• `/peercoach leave`: stop taking part\n"
    "• `/peercoach help`: this message"
)


def help_message(prefix: str = "") -> dict[str, Any]:
    text = f"{prefix}\n\n{HELP_TEXT}" if prefix else HELP_TEXT
    return {"response_type": "ephemeral", "text": text}


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


def join_modal(current: Profile | None) -> dict[str, Any]:
    """The opt-in modal, prefilled with the person's profile when they edit it."""
    level_element: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.LEVEL_ACTION,
        "placeholder": plain("Pick the closest"),
        "options": [option(label, str(level)) for level, label in LEVEL_BANDS.items()],
    }
    team_element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.TEAM_ACTION,
        "max_length": MAX_TEAM_LENGTH,
        "placeholder": plain("e.g. Sales, Platform Engineering"),
    }
    goals_element: dict[str, Any] = {
        "type": "multi_static_select",
        "action_id": ids.GOALS_ACTION,
        "placeholder": plain("Pick up to 5"),
        "max_selected_items": MAX_GOALS,
        "options": [option(label, key) for key, label in GOALS.items()],
    }
    never_element: dict[str, Any] = {
        "type": "multi_users_select",
        "action_id": ids.NEVER_PAIR_ACTION,
        "placeholder": plain("e.g. your manager or your reports"),
        "max_selected_items": MAX_NEVER_PAIR,
    }
    if current is not None:
        label = LEVEL_BANDS.get(current.level)
        if label:
            level_element["initial_option"] = option(label, str(current.level))
        team_element["initial_value"] = current.team
        chosen = [option(GOALS[g], g) for g in current.goals if g in GOALS]
        if chosen:
            goals_element["initial_options"] = chosen
        if current.never_pair:
            never_element["initial_users"] = list(current.never_pair)
    return {
        "type": "modal",
        "callback_id": ids.JOIN_MODAL,
        "title": plain("Join PeerCoach" if current is None else "Your PeerCoach profile"),
        "submit": plain("Save" if current else "Join"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"editing": current is not None}),
        "blocks": [
            section(
                "Each cycle you'll be paired with a peer at a similar level for a 30-minute "
                "coaching chat. What you enter here is used only to find you good peers."
            ),
            {
                "type": "input",
                "block_id": ids.LEVEL_BLOCK,
                "label": plain("Your level"),
                "element": level_element,
            },
            {
                "type": "input",
                "block_id": ids.TEAM_BLOCK,
                "label": plain("Your team or department"),
                "element": team_element,
            },
            {
                "type": "input",
                "block_id": ids.GOALS_BLOCK,
                "label": plain("What you'd like to work on"),
                "element": goals_element,
            },
            {
                "type": "input",
                "block_id": ids.NEVER_PAIR_BLOCK,
                "optional": True,
                "label": plain("Never pair me with"),
                "hint": plain(
                    "Private: nobody sees this list. Use it for your manager, your reports, "
                    "or anyone you can't talk freely with."
                ),
                "element": never_element,
            },
        ],
    }


def parse_join_submission(
    values: dict[str, Any], *, user_id: str
) -> tuple[Profile | None, dict[str, str]]:
    """Read the join modal's state; return the profile, or Slack inline errors by block_id.

    Raises StaleAction (under the block concerned) for an option the modal never offered or
    a never-pair entry that is not a Slack user id.
    """
    errors: dict[str, str] = {}
    level_value = selected_value(
        values, ids.LEVEL_BLOCK, ids.LEVEL_ACTION, (str(level) for level in LEVEL_BANDS)
    )
    if level_value is None:
        errors[ids.LEVEL_BLOCK] = "Pick the level closest to yours."
    team = text_value(values, ids.TEAM_BLOCK, ids.TEAM_ACTION)
    if not team:
        errors[ids.TEAM_BLOCK] = "Tell us your team or department."
    elif len(team) > MAX_TEAM_LENGTH:
        errors[ids.TEAM_BLOCK] = f"Keep it under {MAX_TEAM_LENGTH} characters."
    goals = selected_values(values, ids.GOALS_BLOCK, ids.GOALS_ACTION, GOALS)
    if not goals:
        errors[ids.GOALS_BLOCK] = "Pick at least one topic."
    elif len(goals) > MAX_GOALS:
        errors[ids.GOALS_BLOCK] = f"Pick at most {MAX_GOALS} topics."
    never = selected_users(values, ids.NEVER_PAIR_BLOCK, ids.NEVER_PAIR_ACTION)
    if user_id in never:
        errors[ids.NEVER_PAIR_BLOCK] = "You can leave yourself off this list."
    elif len(never) > MAX_NEVER_PAIR:
        errors[ids.NEVER_PAIR_BLOCK] = f"List at most {MAX_NEVER_PAIR} people."
    if errors or level_value is None:
        return None, errors
    return Profile(level=int(level_value), team=team, goals=goals, never_pair=never), {}


def joined_text(outcome: JoinOutcome) -> str:
    if outcome == JoinOutcome.UPDATED:
        return "Your PeerCoach profile is updated. It applies from the next round."
    return (
        ":wave: You're in! You'll be paired with a peer in the next round and get a group DM "
        "with a short agenda. `/peercoach help` lists what you can do."
    )


def status_text(view: MemberStatusView) -> str:
    if view.status == "none":
        return "You're not in PeerCoach. `/peercoach join` to opt in."
    if view.status == "inactive":
        return (
            "You're out of the pairing because Slack couldn't reach your account. "
            "`/peercoach join` brings you back."
        )
    next_round = f" Next round: {slack_date(view.next_round_at)}." if view.next_round_at else ""
    if view.status == "paused":
        until = f" until {slack_date(view.paused_until)}" if view.paused_until else ""
        return f":double_vertical_bar: You're paused{until}. `/peercoach resume` to come back."
    since = f" since {slack_date(view.since, '{date_short_pretty}')}" if view.since else ""
    return f":large_green_circle: You're active{since}.{next_round}"


def paused_text(view_until: Any) -> str:
    return (
        f":double_vertical_bar: Paused until {slack_date(view_until)}. You'll be back in the "
        "rounds after that on your own; `/peercoach resume` brings you back sooner."
    )


def skipped_text(until: Any) -> str:
    return (
        ":fast_forward: You'll sit out the next round and be back for the one after "
        f"(from {slack_date(until)}). `/peercoach resume` undoes this."
    )


RESUMED_TEXT = ":large_green_circle: Welcome back: you'll be paired in the next round."
LEFT_TEXT = (
    "You've left PeerCoach. Your profile, topics and never-pair list are deleted. "
    "`/peercoach join` any time to come back."
)
LEAVE_CANCELLED_TEXT = "OK, you're still in PeerCoach."
LEAVE_QUESTION = (
    "*Leave PeerCoach?* You won't be paired again. Your profile, topics and never-pair list "
    "are deleted; past rounds stay only as anonymous counts in programme figures."
)


def leave_confirmation() -> dict[str, Any]:
    return {
        "response_type": "ephemeral",
        "text": LEAVE_QUESTION,
        "blocks": [
            section(LEAVE_QUESTION),
            actions(
                button("Yes, leave", ids.LEAVE_CONFIRM, style="danger"),
                button("Stay", ids.LEAVE_CANCEL),
            ),
        ],
    }


def home_view(view: MemberStatusView) -> dict[str, Any]:
    """The App Home: the person's own status and the buttons to change it."""
    blocks: list[Block] = [header("PeerCoach"), section(status_text(view))]
    if view.status == "none":
        blocks.append(
            section(
                "Leaders learn most from peers at their own level. Join to be paired with a "
                "peer each cycle for a short, structured coaching chat."
            )
        )
        blocks.append(actions(button("Join PeerCoach", ids.HOME_JOIN, style="primary")))
    else:
        if view.profile is not None:
            level_goals = ", ".join(view.profile.goals)
            blocks.append(context(f"Team: {view.profile.team} · Topics: {level_goals}"))
        pause_or_resume = (
            button("Resume", ids.HOME_RESUME, style="primary")
            if view.status == "paused"
            else button("Pause one cycle", ids.HOME_PAUSE)
        )
        leave = button(
            "Leave",
            ids.HOME_LEAVE,
            style="danger",
            confirm=confirm_dialog("Leave PeerCoach?", LEAVE_QUESTION, "Leave"),
        )
        blocks.append(actions(button("Edit profile", ids.HOME_EDIT), pause_or_resume, leave))
    blocks += [divider(), context("`/peercoach help` lists every command.")]
    return {"type": "home", "blocks": blocks}


def invitation_message(inviter: str) -> Rendered:
    """A DM inviting someone to opt in; joining stays their own choice."""
    text = (
        f"<@{inviter}> invites you to PeerCoach: each cycle you'd be paired with a peer leader "
        "for a short, structured coaching chat. It's entirely your choice."
    )
    return Rendered(
        text,
        [
            section(f":wave: {text}"),
            actions(button("Join PeerCoach", ids.HOME_JOIN, style="primary")),
            context("Not for you? Just ignore this message: nothing happens unless you join."),
        ],
    )


def invite_progress_text(sent: int, total: int, skipped: int) -> str:
    done = " Done." if sent >= total else ""
    extra = f" ({skipped} already in PeerCoach or invited before)" if skipped else ""
    return f"Invited {sent} of {total}{extra}.{done}"
