"""Block Kit for membership: the join modal (and its parser), help, status, leave, App Home."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot import ids
from bot.domain.enums import JoinOutcome, MemberStatus
from bot.domain.messages import Rendered
from bot.domain.people import MemberStatusView, Profile
from bot.domain.programme import FIRST_PROGRAMME_NAME, GOAL_PROGRESS, ProgrammeRef
from bot.errors import StaleAction
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
from bot.views.meetings import parse_working_hours, working_hours_blocks, working_hours_line
from bot.views.privacy import privacy_actions

HELP_TEXT = (
    "*PeerCoach* pairs you with a peer leader each cycle for a short, structured coaching chat.\n"
    "• `/peercoach join [programme]`: opt in (or edit your profile); with several "
    "programmes, pick one or name it\n"
    "• `/peercoach profile`: edit your level, team, topics and never-pair list\n"
    "• `/peercoach pause [N weeks | until YYYY-MM-DD]`: skip rounds for a while "
    "(one cycle by default); you resume on your own\n"
    "• `/peercoach skip`: sit out just the next round\n"
    "• `/peercoach resume`: come back from a pause\n"
    "• `/peercoach status`: where you stand and when the next round is\n"
    "• `/peercoach reflect`: reflect on your latest chat (private to you)\n"
    "• `/peercoach goal`: set your private development goal\n"
    "• `/peercoach history`: your own past pairings, reflections and commitments\n"
    "• `/peercoach leave`: stop taking part\n"
    "• `/peercoach my-data`: get a file with everything PeerCoach stores about you\n"
    "• `/peercoach delete-my-data`: delete your data (asks first)\n"
    "• `/peercoach help`: this message\n"
    "In several programmes? Add `--programme <name>` to say which one."
)


def help_message(prefix: str = "") -> dict[str, Any]:
    text = f"{prefix}\n\n{HELP_TEXT}" if prefix else HELP_TEXT
    return {"response_type": "ephemeral", "text": text}


def ephemeral(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


MAX_GOAL_LENGTH = 300


def _goal_element(goal: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.GOAL_ACTION,
        "multiline": True,
        "max_length": MAX_GOAL_LENGTH,
        "placeholder": plain("e.g. Delegate the weekly planning to my leads by March"),
    }
    if goal:
        element["initial_value"] = goal
    return element


GOAL_HINT = "Private: only you ever see it. Each reflection asks how it's going."


def _agreement_blocks(text: str) -> list[Block]:
    return [
        section(f"*Our agreement*\n{text}"),
        {
            "type": "input",
            "block_id": ids.AGREEMENT_BLOCK,
            "label": plain("Agreement"),
            "element": {
                "type": "checkboxes",
                "action_id": ids.AGREEMENT_ACTION,
                "options": [option("I agree to keep our chats confidential", "agree")],
            },
        },
    ]


def join_modal(
    current: Profile | None,
    *,
    agreement: str | None = None,
    agreement_version: int = 1,
    programme: ProgrammeRef | None = None,
    editing: bool | None = None,
) -> dict[str, Any]:
    """The opt-in modal, prefilled with the person's profile when they edit it (or with
    their profile from another programme, joining a second); with `agreement`, the text they
    accept (version `agreement_version`) by joining. `programme`: the programme joined, named
    in the modal and carried in its metadata (None: the workspace's only programme).
    `editing`: whether they are already in it (default: whether a profile is given)."""
    editing = current is not None if editing is None else editing
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
        "title": plain("Your PeerCoach profile" if editing else "Join PeerCoach"),
        "submit": plain("Save" if editing else "Join"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(
            {
                "editing": editing,
                "agreement_version": agreement_version if agreement else None,
                **({"programme_id": programme.id} if programme else {}),
            }
        ),
        "blocks": [
            *([section(f"*Programme: {programme.name}*")] if programme else []),
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
            {
                "type": "input",
                "block_id": ids.GOAL_BLOCK,
                "optional": True,
                "label": plain("Your development goal"),
                "hint": plain(GOAL_HINT),
                "element": _goal_element(current.goal if current else None),
            },
            *working_hours_blocks(current.working_hours if current else None),
            *(_agreement_blocks(agreement) if agreement else []),
        ],
    }


def parse_join_submission(
    values: dict[str, Any], *, user_id: str, view_metadata: str = ""
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
    goal = _goal_of(values)
    if goal is not None and len(goal) > MAX_GOAL_LENGTH:
        errors[ids.GOAL_BLOCK] = f"Keep it under {MAX_GOAL_LENGTH} characters."
    version = _agreement_version_asked(view_metadata)
    if version is not None and not _agreed(values):
        errors[ids.AGREEMENT_BLOCK] = "Tick the agreement to join: it's what makes candour safe."
    hours, hours_errors = parse_working_hours(values)
    errors.update(hours_errors)
    if errors or level_value is None:
        return None, errors
    return Profile(
        working_hours=hours,
        level=int(level_value),
        team=team,
        goals=goals,
        never_pair=never,
        goal=goal,
        agreement_version=version,
    ), {}


def _goal_of(values: dict[str, Any]) -> str | None:
    return text_value(values, ids.GOAL_BLOCK, ids.GOAL_ACTION) or None


def _agreed(values: dict[str, Any]) -> bool:
    return "agree" in selected_values(values, ids.AGREEMENT_BLOCK, ids.AGREEMENT_ACTION, ("agree",))


def _agreement_version_asked(metadata: str) -> int | None:
    """The agreement version a modal asked the person to accept (we wrote it), if any."""
    try:
        version = json.loads(metadata or "{}").get("agreement_version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def goal_modal(goal: str | None, programme_id: int | None = None) -> dict[str, Any]:
    """Set or change one's private development goal (in the programme `programme_id`)."""
    return {
        "type": "modal",
        "callback_id": ids.GOAL_MODAL,
        "private_metadata": json.dumps({"programme_id": programme_id}),
        "title": plain("Your goal"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": [
            section(
                "One development goal you're working on as a leader. Your peers help you "
                "toward it; nobody else sees it, admins included."
            ),
            {
                "type": "input",
                "block_id": ids.GOAL_BLOCK,
                "optional": True,
                "label": plain("Your development goal"),
                "hint": plain("Leave it empty to clear it."),
                "element": _goal_element(goal),
            },
        ],
    }


def parse_goal(values: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """The goal from the goal modal (None clears it), or inline errors by block id."""
    goal = _goal_of(values)
    if goal is not None and len(goal) > MAX_GOAL_LENGTH:
        return None, {ids.GOAL_BLOCK: f"Keep it under {MAX_GOAL_LENGTH} characters."}
    return goal, {}


def agreement_modal(text: str, version: int, programme_id: int | None = None) -> dict[str, Any]:
    """Review and accept the programme's (changed) agreement."""
    return {
        "type": "modal",
        "callback_id": ids.AGREEMENT_MODAL,
        "private_metadata": json.dumps(
            {"agreement_version": version, "programme_id": programme_id}
        ),
        "title": plain("Our agreement"),
        "submit": plain("Accept"),
        "close": plain("Not now"),
        "blocks": _agreement_blocks(text),
    }


def parse_agreement(values: dict[str, Any], metadata: str) -> tuple[int | None, dict[str, str]]:
    """The agreement version accepted, or inline errors (nothing ticked, or a forged form)."""
    version = _agreement_version_asked(metadata)
    if version is None:
        raise StaleAction(block_id=ids.AGREEMENT_BLOCK)
    if not _agreed(values):
        return None, {ids.AGREEMENT_BLOCK: "Tick the box to accept, or close this for now."}
    return version, {}


def agreement_request(version: int, programme_id: int | None = None) -> Rendered:
    """The DM asking a member to accept a changed agreement before their next round."""
    text = (
        "The programme's confidentiality agreement has changed. Please review and accept it: "
        "until then you'll sit out the rounds."
    )
    return Rendered(
        text,
        [
            section(f":lock: {text}"),
            actions(
                button(
                    "Review and accept",
                    ids.AGREEMENT_REVIEW,
                    value=f"{version}|{programme_id}" if programme_id else str(version),
                    style="primary",
                )
            ),
        ],
    )


def joined_text(outcome: JoinOutcome, paused_until: datetime | None = None) -> str:
    """The answer to a join modal: never leaves someone paused without saying so."""
    if outcome == JoinOutcome.UPDATED:
        return "Your PeerCoach profile is updated. It applies from the next round."
    if outcome == JoinOutcome.RESUMED:
        return (
            ":large_green_circle: Welcome back! You were paused; now you're active again and "
            "you'll be paired in the next round. Your profile is updated."
        )
    if outcome == JoinOutcome.STILL_PAUSED:
        back = f" You're back for the round of {slack_date(paused_until)}." if paused_until else ""
        return (
            "Your PeerCoach profile is updated. :double_vertical_bar: You're still paused, "
            f"as you asked.{back} `/peercoach resume` brings you back for the next round."
        )
    return (
        ":wave: You're in! You'll be paired with a peer in the next round and get a group DM "
        "with a short agenda. `/peercoach help` lists what you can do."
    )


def status_text(view: MemberStatusView) -> str:
    if view.status == "none":
        return "You're not in PeerCoach. `/peercoach join` to opt in."
    if view.status == MemberStatus.INACTIVE:
        return (
            "You're out of the pairing because Slack couldn't reach your account. "
            "`/peercoach join` brings you back."
        )
    next_round = f" Next round: {slack_date(view.next_round_at)}." if view.next_round_at else ""
    if view.status == MemberStatus.PAUSED:
        until = (
            f": back for the round of {slack_date(view.paused_until)}" if view.paused_until else ""
        )
        return f":double_vertical_bar: You're paused{until}. `/peercoach resume` to come back."
    since = f" since {slack_date(view.since, '{date_short_pretty}')}" if view.since else ""
    return f":large_green_circle: You're active{since}.{next_round}"


def paused_text(back: datetime) -> str:
    """`back`: the start of the first round the member is back for (shown in their time zone)."""
    return (
        f":double_vertical_bar: Paused until the round of {slack_date(back)}: you're back for "
        "that one on your own; `/peercoach resume` brings you back sooner."
    )


def skipped_text(back: datetime) -> str:
    """`back`: the start of the round after the one they sit out."""
    return (
        ":fast_forward: You'll sit out the next round and be back for the round of "
        f"{slack_date(back)}. `/peercoach resume` undoes this."
    )


NOT_PAIRABLE_TEXT = {
    "guest": "You weren't paired this round: PeerCoach here is open to full members of the "
    "workspace, and guest accounts aren't included at the moment. A programme admin can "
    "change that; `/peercoach leave` if you'd rather stop.",
    "external": "You weren't paired this round: PeerCoach pairs people within this "
    "organisation, and your account belongs to another one.",
}


def not_pairable_text(reason: str) -> str:
    return NOT_PAIRABLE_TEXT.get(reason, "You weren't paired this round.")


def intro_undelivered_text() -> str:
    return (
        "Slack wouldn't let me deliver your PeerCoach intro this round, so you have no group "
        "this time. It won't count against you, and you'll be paired again in the next round."
    )


RESUMED_TEXT = ":large_green_circle: Welcome back: you'll be paired in the next round."


def left_text(programme: str | None = None) -> str:
    """What someone who just left `programme` (its name; None: the only one) is told."""
    name = programme or FIRST_PROGRAMME_NAME
    again = "`/peercoach join`" if name == FIRST_PROGRAMME_NAME else f"`/peercoach join {name}`"
    return (
        f"You've left {name}. Your profile, topics and never-pair list are deleted. "
        "What stays: your past pairings (with whom, when) and your own reflections and "
        "commitments, which only you can see and whose text is deleted after the programme's "
        "retention period (12 months unless your admins chose otherwise). Delete them now with "
        f"`/peercoach delete-my-data`. {again} any time to come back."
    )


LEFT_TEXT = left_text()
LEAVE_CANCELLED_TEXT = "OK, you're still in PeerCoach."


def leave_question(programme: str | None = None) -> str:
    """Are you sure you want to leave `programme` (its name; None: the only one)?"""
    return (
        f"*Leave {programme or FIRST_PROGRAMME_NAME}?* You won't be paired again. Your profile, "
        "topics and never-pair list are deleted. Your past pairings and your own private "
        "reflections stay until the programme's retention period ends, unless you also delete "
        "them: `/peercoach delete-my-data`."
    )


LEAVE_QUESTION = leave_question()


def leave_confirmation(
    programme_id: int | None = None, programme: str | None = None
) -> dict[str, Any]:
    """Are you sure? (the button carries the programme left, when named; `programme`: its
    name, for the question)."""
    value = str(programme_id) if programme_id is not None else ""
    question = leave_question(programme)
    return {
        "response_type": "ephemeral",
        "text": question,
        "blocks": [
            section(question),
            actions(
                button("Yes, leave", ids.LEAVE_CONFIRM, value=value, style="danger"),
                button("Stay", ids.LEAVE_CANCEL),
            ),
        ],
    }


def home_view(view: MemberStatusView) -> dict[str, Any]:
    """The App Home: the person's own status and the buttons to change it; someone in
    several programmes sees each one (its buttons carry the programme's id)."""
    blocks: list[Block] = [header("PeerCoach")]
    if view.status == "none":
        blocks.append(section(status_text(view)))
        blocks.append(
            section(
                "Leaders learn most from peers at their own level. Join to be paired with a "
                "peer each cycle for a short, structured coaching chat."
            )
        )
        if view.joinable:
            blocks += _join_buttons(view.joinable)
        else:
            blocks.append(actions(button("Join PeerCoach", ids.HOME_JOIN, style="primary")))
    elif not view.others:
        blocks += _membership_blocks(view, "")
    else:
        for one in (view, *view.others):
            blocks.append(section(f"*{one.programme}*"))
            blocks += _membership_blocks(one, str(one.programme_id or ""))
            blocks.append(divider())
    blocks += [
        divider(),
        privacy_actions(),
        context("`/peercoach help` lists every command."),
    ]
    return {"type": "home", "blocks": blocks}


def _membership_blocks(view: MemberStatusView, value: str) -> list[Block]:
    """One membership's part of the App Home; `value`: the programme id its buttons carry
    ("" when the person is in one programme)."""
    blocks: list[Block] = [section(status_text(view))]
    if view.profile is not None:
        topics = ", ".join(GOALS.get(g, g) for g in view.profile.goals)
        blocks.append(context(f"Team: {view.profile.team} · Topics: {topics}"))
        blocks.append(context(working_hours_line(view.profile.working_hours, view.tz_name)))
    blocks += _own_programme(view, value)
    goal = view.profile.goal if view.profile else None
    pause_or_resume = (
        button("Resume", ids.HOME_RESUME, value=value, style="primary")
        if view.status == MemberStatus.PAUSED
        else button("Pause one cycle", ids.HOME_PAUSE, value=value)
    )
    leave = button(
        "Leave",
        ids.HOME_LEAVE,
        value=value,
        style="danger",
        confirm=confirm_dialog("Leave PeerCoach?", LEAVE_QUESTION, "Leave"),
    )
    blocks.append(
        actions(
            button("Edit profile", ids.HOME_EDIT, value=value),
            pause_or_resume,
            button("How to coach", ids.HOW_TO_COACH, value="home"),
            button("Set my goal" if not goal else "Change my goal", ids.HOME_GOAL, value=value),
            button("Working hours", ids.HOME_WORKING_HOURS, value=value),
            leave,
        )
    )
    return blocks


def invitation_message(
    inviter: str, *, programme: str = "", programme_id: int | None = None
) -> Rendered:
    """A DM inviting someone to opt in (to `programme`, when it is not the workspace's
    first); joining stays their own choice."""
    where = f"the PeerCoach programme *{programme}*" if programme else "PeerCoach"
    text = (
        f"<@{inviter}> invites you to {where}: each cycle you'd be paired with a peer leader "
        "for a short, structured coaching chat. It's entirely your choice."
    )
    join = (
        button("Join PeerCoach", ids.HOME_JOIN, style="primary")
        if programme_id is None
        else button(
            f"Join {programme}"[:75], ids.JOIN_PROGRAMME, value=str(programme_id), style="primary"
        )
    )
    return Rendered(
        text,
        [
            section(f":wave: {text}"),
            actions(join),
            context("Not for you? Just ignore this message: nothing happens unless you join."),
        ],
    )


def invite_progress_text(sent: int, total: int, skipped: int, left_out: int = 0) -> str:
    """The admin's invitation progress; bots and deactivated accounts are not counted."""
    done = " Done." if sent >= total else ""
    extra = f" ({skipped} already in PeerCoach or invited before)" if skipped else ""
    outside = (
        f" {left_out} guest or external account(s) left out (guests can be included in Settings)."
        if left_out
        else ""
    )
    return f"Invited {sent} of {total}{extra}.{outside}{done}"


def _own_programme(view: MemberStatusView, value: str = "") -> list[Block]:
    """The member's own programme: current chat, commitment, goal, recent chats, agreement.

    Only their own words appear, and only here, in their own App Home.
    """
    lines: list[str] = []
    if view.current is not None:
        with_whom = ", ".join(f"<@{p}>" for p in view.current.partners) or "your peers"
        state = "it happened :white_check_mark:" if view.current.met else "not yet"
        when = view.current.picked_start
        at = (
            f" (picked for {slack_date(when, '{date_short_pretty} {time}')} your time)"
            if when is not None and not view.current.met
            else ""
        )
        lines.append(f"*This round*: your chat with {with_whom}, {state}{at}.")
    if view.open_commitment:
        lines.append(f"*Your open commitment*: “{view.open_commitment}”")
    goal = view.profile.goal if view.profile else None
    if goal:
        progress = GOAL_PROGRESS.get(view.last_goal_progress or -1)
        lines.append(f"*Your goal*: {goal}" + (f" ({progress.lower()} so far)" if progress else ""))
    blocks: list[Block] = [section("\n".join(lines))] if lines else []
    if view.recent:
        chats = [
            f"• {slack_date(e.started_at, '{date_short_pretty}')} with "
            + ", ".join(f"<@{p}>" for p in e.partners)
            + (" · met" if e.met else " · didn't meet")
            + (f" · useful {e.usefulness}/5" if e.usefulness else "")
            + (f"\n   _{e.takeaway}_" if e.takeaway else "")
            for e in view.recent
        ]
        blocks.append(section("*Your recent chats* (only you see these)\n" + "\n".join(chats)))
    if view.agreement_text:
        blocks.append(context(f":lock: {view.agreement_text}"))
    if view.agreement_pending:
        blocks.append(
            actions(
                button(
                    "Review and accept the agreement",
                    ids.AGREEMENT_REVIEW,
                    value=f"0|{value}" if value else "",
                    style="primary",
                )
            )
        )
    return blocks


def _join_buttons(programmes: Sequence[ProgrammeRef]) -> list[Block]:
    """One section per programme with its description and a Join button (its value the
    programme's id) that opens that programme's join modal."""
    blocks: list[Block] = []
    for ref in programmes:
        text = f"*{ref.name}*" + (f"\n{ref.description}" if ref.description else "")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": text[:3000]},
                "accessory": button("Join", ids.JOIN_PROGRAMME, value=str(ref.id)),
            }
        )
    return blocks


def join_picker(programmes: Sequence[ProgrammeRef]) -> dict[str, Any]:
    """`/peercoach join` when several programmes are open: the programmes to pick from."""
    blocks: list[Block] = [
        section("Which PeerCoach programme would you like to join?"),
        *_join_buttons(programmes),
    ]
    blocks.append(context("Or type `/peercoach join <programme name>`."))
    return {
        "response_type": "ephemeral",
        "text": "Which programme would you like to join? " + ", ".join(r.name for r in programmes),
        "blocks": blocks,
    }


def no_open_programme_text() -> str:
    return "No PeerCoach programme is taking new members right now."
