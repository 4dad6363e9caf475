"""Steps several listeners share: the ack budget, Slack work after the ack, the join modal,
the App Home and the admin check.

What runs where (so that an ack never waits behind Slack or a long database wait):
- In the listener, before the ack: parsing and database work in `deps.request_unit_of_work()`,
  whose lock waits end within the request's budget (errors.Busy when they run out).
- After the ack, in `deps.background` (a bounded executor apart from Bolt's listener pool):
  every Slack call a request makes (views.open, views.publish, users.info, respond). Slack
  clients never sleep out a 429; work that finds the background full is shed: a refresh is
  dropped with a log line, a message the person needs goes through the outbox instead.
- Messages the app sends on its own (welcome DM, partner notices) go through the outbox.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from bot.config import origin_of
from bot.deps import Deps
from bot.domain.enums import MemberStatus
from bot.domain.messages import TextNotice
from bot.domain.people import MemberStatusView
from bot.domain.programme import ProgrammeRef
from bot.errors import SLACK_BUSY_TEXT, Busy, NotAdmin, PeerCoachError, UsageError
from bot.jobs.rounds import deliver_workspace
from bot.logs import describe_failure
from bot.services import admin, home, membership, outbox, pulse
from bot.services.metrics import cycle_figures, membership_figures
from bot.views import admin as admin_views
from bot.views import membership as views
from db.models import Workspace

logger = logging.getLogger(__name__)

# users.info in the request path (an admin check nothing remembers) gets this long, so the
# ack still fits in Slack's 3 s after the database's budget.
QUICK_SLACK_TIMEOUT_S = 0.8
# deps.admin_answers' key for "slack_roles says they are not a Slack admin" (team, user).
NOT_SLACK_ADMIN = "not_slack_admin"
IN_HAND_TEXT = "Working on it: I'll confirm here in a moment."
SORRY_TEXT = "Sorry, something went wrong on our side (reference `{ref}`). Please try again."

Answer = dict[str, Any]


@dataclass(frozen=True)
class SlackUser:
    """What users.info tells us about a person."""

    is_admin: bool
    tz_name: str | None
    tz_offset_minutes: int | None
    # The whole users.info record, for membership.why_not_pairable (guest, bot, outsider).
    record: dict[str, Any]


def slack_user(client: WebClient, user_id: str) -> SlackUser | None:
    """Ask Slack about a person; None when Slack would not say (rate limit, error)."""
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        logger.warning("users.info failed for %s: %s", user_id, error.response.get("error"))
        return None
    except OSError as error:  # a timeout or refused connection
        logger.warning("users.info failed for %s: %s", user_id, type(error).__name__)
        return None
    offset = user.get("tz_offset")
    return SlackUser(
        is_admin=bool(user.get("is_admin") or user.get("is_owner")),
        tz_name=user.get("tz"),
        tz_offset_minutes=int(offset) // 60 if offset is not None else None,
        record=dict(user),
    )


# -- after the ack ---------------------------------------------------------------------------


def later(deps: Deps, work: Callable[..., Any], /, *args: Any, **kwargs: Any) -> bool:
    """Run non-essential Slack work after the ack; False (logged) if the background is full."""
    if deps.background.try_submit(work, *args, **kwargs) is None:
        logger.warning("background full: skipped %s", getattr(work, "__name__", "work"))
        return False
    return True


def send_outbox_soon(deps: Deps, workspace_id: int) -> None:
    """Send a workspace's queued messages now if there is room; the minute tick sends them
    otherwise, and outbox claims keep the two from sending anything twice."""
    later(deps, deliver_workspace, deps, workspace_id)


def dm_through_outbox(
    deps: Deps,
    session: Session,
    *,
    team_id: str,
    user_id: str,
    text: str,
    key: str,
    blocks: Sequence[dict[str, Any]] = (),
) -> int:
    """Record a DM to the person (`text`, and `blocks` if any) in the outbox, once per `key`;
    return the workspace id."""
    now = deps.clock()
    workspace = membership.workspace_for(session, team_id, now=now)
    outbox.enqueue(
        session,
        workspace_id=workspace.id,
        dedupe_key=key,
        recipients=[user_id],
        notice=TextNotice(text=text, blocks=tuple(blocks)),
        now=now,
    )
    return workspace.id


def answerable(response_url: object, origins: tuple[str, ...]) -> bool:
    """Whether a response_url is one of Slack's (SLACK_RESPONSE_URL_ORIGINS) to answer on."""
    if not isinstance(response_url, str) or not response_url:
        return False
    try:
        origin = origin_of(response_url)
    except ValueError:
        return False
    if origin not in origins:
        logger.warning("ignored a response_url outside SLACK_RESPONSE_URL_ORIGINS")
        return False
    return True


def tell(
    deps: Deps, respond: Respond | None, *, team_id: str, user_id: str, text: str, key: str
) -> None:
    """Tell the person `text` once, after the ack: through the request's response_url when it
    has one (one call, never retried), else by a DM recorded in the outbox under `key`."""
    if respond is not None and answerable(
        respond.response_url, deps.settings.slack_response_url_origins
    ):
        try:
            respond(response_type="ephemeral", replace_original=False, text=text)
            return
        except Exception as error:  # the response_url is gone: fall back to a DM
            logger.warning("response_url failed (%s); telling by DM", type(error).__name__)
    with deps.unit_of_work() as session:
        workspace_id = dm_through_outbox(
            deps, session, team_id=team_id, user_id=user_id, text=text, key=key
        )
    send_outbox_soon(deps, workspace_id)


def respond_later(deps: Deps, respond: Respond, **message: Any) -> None:
    """Answer through the response_url after the ack (skipped, logged, if the background
    is full: what the button did is stored and shown the next time the person looks)."""
    later(deps, respond, **message)


def open_view_later(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    view: dict[str, Any],
    team_id: str,
    user_id: str,
) -> None:
    """Open a modal right after the ack (trigger_id lives 3 s). If Slack refuses (a 429, an
    expired trigger) or the background is full, the person is told to try again, once."""

    def open_now() -> None:
        try:
            client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as error:
            # The class only: Slack's answer is not ours to log (and may echo the request).
            logger.warning("views.open refused (%s)", type(error).__name__)
            tell(
                deps,
                respond,
                team_id=team_id,
                user_id=user_id,
                text=SLACK_BUSY_TEXT,
                key=f"try_again:{trigger_id}",
            )

    if deps.background.try_submit(open_now) is None:
        raise Busy(SLACK_BUSY_TEXT)


def answer_in_time(
    deps: Deps, ack: Ack, respond: Respond, work: Callable[[Session], Answer]
) -> None:
    """Do `work` and acknowledge with the answer it returns, within Slack's 3 s.

    When the database is busy past the request's budget, the ack says the work is in hand,
    the work is finished in the background (waiting as long as it must), and its answer
    (or the error it met) reaches the person through the response_url, exactly once. If
    even the background is full, the ack says nothing changed (errors.Busy).
    """
    try:
        with deps.request_unit_of_work() as session:
            answer = work(session)
    except Busy:
        if deps.background.try_submit(_finish_later, deps, respond, work) is None:
            raise
        ack(**views.ephemeral(IN_HAND_TEXT))
        return
    ack(**answer)


def _finish_later(deps: Deps, respond: Respond, work: Callable[[Session], Answer]) -> None:
    try:
        with deps.unit_of_work() as session:
            answer = work(session)
    except PeerCoachError as error:
        answer = views.ephemeral(error.message)
    except Exception as error:
        ref = uuid.uuid4().hex[:8]
        # Where it failed, never what with (bot.logs.describe_failure): a database error's
        # message can quote the values it was given.
        logger.error("work after the ack failed (ref %s): %s", ref, describe_failure(error))
        answer = views.ephemeral(SORRY_TEXT.format(ref=ref))
    respond(replace_original=False, **answer)


# -- the join modal, the admin check, the App Home -------------------------------------------


def join_modal_view(
    deps: Deps, *, team_id: str, user_id: str, programme: int | str | None = None
) -> dict[str, Any]:
    """The join modal of a programme (`programme`: id or name; None: the first), prefilled
    with the person's profile there or, joining a second programme, with the profile of
    their other membership; it asks for the programme's agreement unless the person
    accepted its current version. Raises UsageError when the programme is closed to
    newcomers and the person was never in it."""
    with deps.request_unit_of_work() as session:
        chosen = membership.programme_for(
            session, team_id=team_id, programme=programme, now=deps.clock()
        )
        rows = membership.memberships_of(session, team_id=team_id, user_id=user_id)
        member = next((m for m in rows if m.programme_id == chosen.id), None)
        if not chosen.is_open and member is None:  # no form to fill in vain
            raise UsageError(membership.closed_text(chosen))
        starting = member if member and member.status != MemberStatus.LEFT else None
        if starting is None:
            starting = next((m for m in rows if m.status != MemberStatus.LEFT), None)
        current = membership.profile_of(starting) if starting is not None else None
        agreement = (
            membership.agreement_of(chosen) if membership.needs_agreement(member, chosen) else None
        )
        version = chosen.agreement_version
        several = len(membership.programmes_of(session, chosen.workspace_id)) > 1
        ref = membership.ref_of(chosen) if several else None
    return views.join_modal(
        current,
        agreement=agreement,
        agreement_version=version,
        programme=ref,
        editing=member is not None and member.status != MemberStatus.LEFT,
    )


def open_join_modal(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    team_id: str,
    user_id: str,
    programme: int | str | None = None,
) -> None:
    """Open a programme's join modal after the ack (call this before or right after
    acking)."""
    view = join_modal_view(deps, team_id=team_id, user_id=user_id, programme=programme)
    open_view_later(
        deps, client, respond, trigger_id=trigger_id, view=view, team_id=team_id, user_id=user_id
    )


def open_goal_modal(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    team_id: str,
    user_id: str,
    programme: int | str | None = None,
) -> None:
    """Open the person's private goal modal (of one programme), prefilled with their goal,
    after the ack.

    Raises UsageError for someone who has not joined, ChooseProgramme when they are in
    several programmes and did not say which.
    """
    programme_id, goal = own_goal(deps, team_id=team_id, user_id=user_id, programme=programme)
    view = views.goal_modal(goal, programme_id=programme_id)
    open_view_later(
        deps, client, respond, trigger_id=trigger_id, view=view, team_id=team_id, user_id=user_id
    )


def own_goal(
    deps: Deps, *, team_id: str, user_id: str, programme: int | str | None = None
) -> tuple[int, str | None]:
    """The membership's programme id and the person's goal there, to prefill the goal modal.
    Raises UsageError for a non-member."""
    with deps.request_unit_of_work() as session:
        member = membership.find_member(
            session, team_id=team_id, user_id=user_id, programme=programme
        )
        if member is None or member.status == MemberStatus.LEFT:
            raise UsageError("Join first (`/peercoach join`), then set your goal.")
        return member.programme_id, member.goal


def quick(client: WebClient) -> WebClient:
    """A copy of `client` for a call made before an ack: a short timeout, no retries."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=QUICK_SLACK_TIMEOUT_S,  # type: ignore[arg-type]
        retry_handlers=[],
    )


def _slack_admin(deps: Deps, client: WebClient, team_id: str, user_id: str) -> bool | None:
    """Whether Slack says the person is an admin or owner, cached; None if Slack won't say
    within QUICK_SLACK_TIMEOUT_S."""
    cached = deps.admin_cache.get(team_id, user_id)
    if cached is not None:
        return bool(cached)
    user = slack_user(quick(client), user_id)
    if user is None:
        return None
    deps.admin_cache.put(team_id, user_id, user.is_admin)
    return user.is_admin


def require_admin(
    deps: Deps, client: WebClient, *, team_id: str, user_id: str, programme_id: int | None = None
) -> bool:
    """Answer whether the person may run the programme (`programme_id`; None: any of the
    workspace's): its added owners from the database, Slack's admins and owners (every
    programme) from users.info, remembered for a few minutes.

    Raises errors.Busy when Slack cannot be asked right now and we do not remember.
    """
    with deps.request_unit_of_work() as session:
        if admin.is_added_admin(
            session, team_id=team_id, user_id=user_id, programme_id=programme_id
        ):
            return True
    slack_admin = _slack_admin(deps, client, team_id, user_id)
    if slack_admin is None:
        raise Busy("I couldn't check your admin role with Slack just now. Please try again.")
    with deps.request_unit_of_work() as session:
        return admin.is_admin(
            session,
            team_id=team_id,
            user_id=user_id,
            is_slack_admin=slack_admin,
            now=deps.clock(),
            programme_id=programme_id,
        )


def require_slack_admin(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Let only Slack's workspace admins and owners through (workspace-wide things: new
    programmes, the summary of all of them). Raises NotAdmin, or Busy when Slack won't say."""
    slack_admin = _slack_admin(deps, client, team_id, user_id)
    if slack_admin is None:
        raise Busy("I couldn't check your admin role with Slack just now. Please try again.")
    if not slack_admin:
        raise NotAdmin()


def admin_programme(
    deps: Deps, client: WebClient, *, team_id: str, user_id: str, programme: int | str | None
) -> ProgrammeRef:
    """The programme an admin request is about, once the person may run it.

    `programme`: an id (a button's value) or a name (`--programme <name>`); None picks the
    workspace's only programme, or the one programme the person owns. Raises UsageError when
    that leaves several (naming them), NotAdmin when the person may not run the programme.
    """
    now = deps.clock()
    with deps.request_unit_of_work() as session:
        workspace = membership.workspace_for(session, team_id, now=now)
        every = [membership.ref_of(p) for p in membership.programmes_of(session, workspace.id)]
        chosen = (
            membership.ref_of(
                membership.programme_for(session, team_id=team_id, programme=programme, now=now)
            )
            if programme is not None
            else (every[0] if len(every) == 1 else None)
        )
        owned = admin.owned_programmes(session, team_id=team_id, user_id=user_id)
    if chosen is None:
        if not require_admin(deps, client, team_id=team_id, user_id=user_id):
            raise NotAdmin()
        mine = [r for r in every if r.id in owned]
        if len(mine) == 1 and not _slack_admin(deps, client, team_id, user_id):
            chosen = mine[0]
        else:
            names = ", ".join(f"`{r.name}`" for r in (mine or every))
            raise UsageError(
                f"There are several programmes here ({names}): add `--programme <name>` to "
                "say which one."
            )
    if not require_admin(deps, client, team_id=team_id, user_id=user_id, programme_id=chosen.id):
        raise NotAdmin()
    return chosen


def publish_home(
    deps: Deps,
    client: WebClient,
    *,
    team_id: str,
    user_id: str,
    skip_unchanged: bool = False,
    record_role: bool = True,
) -> None:
    """Render the person's App Home and publish it (background work: never in a listener).

    Admins also see the programme section (aggregates). Usually one session and a few
    queries of plain rows (their memberships, their recorded Slack role, their chats).
    users.info only when a member's time zone is still unknown or Slack's word on their role
    is not at hand: not remembered in this process, and not a recent "not an admin" in
    slack_roles (written by users.info and user_change events; admins are asked again every
    ADMIN_CACHE_TTL_S, since only they see aggregates). A refused publish is dropped (the
    next open renders again).

    `skip_unchanged` (for a Home open only): no publish when this process last published
    this very view, and no rendering either when what the person sees of themselves is what
    it was then (and they run no programme). After an action it is always published: with
    several web replicas, another one may have published since, and Slack would keep
    showing its view.

    `record_role=False` (the render right after someone deleted their data): what users.info
    says of their role is used, not stored.
    """
    now = deps.clock()
    slack_admin = deps.admin_cache.get(team_id, user_id)
    read: MemberStatusView | None = None
    sections: list[dict[str, Any]]
    # Most opens only read (a member whose time zone is known, with no pause to end, who
    # runs no programme): on a plain connection. The others go through a unit of work.
    with deps.reading() as connection:
        rows = membership.read_memberships(
            connection, team_id=team_id, user_id=user_id, with_reflections=True
        )
        needs_tz = any(m.status != MemberStatus.LEFT and m.tz_name is None for m in rows)
        if slack_admin is None and _recorded_non_admin(deps, connection, team_id, user_id, now):
            slack_admin = False
        if (
            slack_admin is False
            and not needs_tz
            and home.reads_only(rows, now)
            and _runs_none(deps, connection, team_id, user_id, slack_admin)
        ):
            read = home.member_home(
                connection, team_id=team_id, user_id=user_id, now=now, memberships=rows
            )
    if read is not None:
        mine, sections = read, []
    elif slack_admin is not None and not needs_tz:
        with deps.unit_of_work() as session:
            mine, sections = _home(deps, session, rows, team_id, user_id, slack_admin, now)
    else:
        user = slack_user(client, user_id)
        if user is not None:
            deps.admin_cache.put(team_id, user_id, user.is_admin)
            slack_admin = user.is_admin
        with deps.unit_of_work() as session:
            if user is not None and record_role:
                admin.record_slack_role(
                    session, team_id=team_id, user_id=user_id, is_admin=user.is_admin, now=now
                )
            if needs_tz and user is not None:
                membership.set_time_zone(
                    session,
                    team_id=team_id,
                    user_id=user_id,
                    tz_name=user.tz_name,
                    tz_offset_minutes=user.tz_offset_minutes,
                )
                rows = membership.read_memberships(
                    session, team_id=team_id, user_id=user_id, with_reflections=True
                )
            mine, sections = _home(deps, session, rows, team_id, user_id, slack_admin, now)
    # What this process last published: (the person's own view, when nothing else was
    # shown; the view's digest).
    last = deps.home_cache.get(team_id, user_id)
    if skip_unchanged and last is not None and not sections and last[0] == mine:
        return  # the same view as the one Slack shows, without building it again
    view = views.home_view(mine)
    view["blocks"] = view["blocks"] + sections
    digest = hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()
    if skip_unchanged and last is not None and last[1] == digest:
        return  # Slack shows this very view already, unless another replica changed it
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        logger.warning("views.publish dropped: %s", error.response.get("error"))
        return
    deps.home_cache.put(team_id, user_id, (None if sections else mine, digest))


def _recorded_non_admin(
    deps: Deps, session: Session | Connection, team_id: str, user_id: str, now: datetime
) -> bool:
    """admin.recorded_non_admin, a yes remembered like the admin answers
    (deps.admin_answers; a user_change event about the person forgets it in this process)."""
    key = (NOT_SLACK_ADMIN, team_id, user_id)
    if deps.admin_answers.get(*key):
        return True
    if admin.recorded_non_admin(session, team_id=team_id, user_id=user_id, now=now):
        deps.admin_answers.put(*key, True)
        return True
    return False


def _home(
    deps: Deps,
    session: Session,
    rows: list[membership.Membership],
    team_id: str,
    user_id: str,
    slack_admin: bool | None,
    now: datetime,
) -> tuple[MemberStatusView, list[dict[str, Any]]]:
    """The person's own App Home content and the programme sections of the programmes they
    run. Most people run none: that takes one query, and is then remembered like the
    per-programme answers (deps.admin_answers, forgotten with them: a new programme makes
    nobody its owner before its settings name them)."""
    mine = home.member_home(session, team_id=team_id, user_id=user_id, now=now, memberships=rows)
    if _runs_none(deps, session, team_id, user_id, slack_admin):
        return mine, []
    workspace = membership.workspace_for(session, team_id, now=now)
    programmes = membership.programmes_of(session, workspace.id)
    several = len(programmes) > 1
    sections: list[dict[str, Any]] = []
    for programme in programmes:
        if not _programme_admin(deps, session, workspace, programme.id, user_id, slack_admin, now):
            continue
        sections += admin_views.admin_home_section(
            membership_figures(session, programme.id),
            cycle_figures(session, programme.id, last=8),
            membership.next_round_at(session, programme, now),
            admin.delivery_health(session, workspace.id, programme.id),
            pulse.latest_results(session, programme.id),
            programme=membership.ref_of(programme) if several else None,
        )
    if not sections:
        deps.admin_answers.put(team_id, user_id, slack_admin, False)
    return mine, sections


def _runs_none(
    deps: Deps,
    session: Session | Connection,
    team_id: str,
    user_id: str,
    slack_admin: bool | None,
) -> bool:
    """admin.runs_no_programme, remembered (deps.admin_answers) per Slack answer."""
    key = (team_id, user_id, slack_admin)
    if deps.admin_answers.get(*key) is False:
        return True
    if admin.runs_no_programme(
        session, team_id=team_id, user_id=user_id, is_slack_admin=slack_admin
    ):
        deps.admin_answers.put(*key, False)
        return True
    return False


def _programme_admin(
    deps: Deps,
    session: Session,
    workspace: Workspace,
    programme_id: int,
    user_id: str,
    slack_admin: bool | None,
    now: datetime,
) -> bool:
    """admin.is_admin_known for one programme, remembered for a few seconds
    (deps.admin_answers) per Slack answer: a change in Slack's answer asks the database
    again (and records the change)."""
    key = (workspace.team_id, programme_id, user_id, slack_admin)
    remembered = deps.admin_answers.get(*key)
    if remembered is not None:
        return bool(remembered)
    answer = admin.is_admin_known(
        session,
        workspace,
        user_id=user_id,
        is_slack_admin=slack_admin,
        now=now,
        programme_id=programme_id,
    )
    deps.admin_answers.put(*key, answer)
    return answer


def refresh_home(
    deps: Deps,
    client: WebClient,
    *,
    team_id: str,
    user_id: str,
    opened: bool = False,
    record_role: bool = True,
) -> None:
    """Re-render the App Home after the ack if there is room (a refresh nobody waits for);
    `opened`: the person opened the tab (an unchanged view need not be published again);
    `record_role`: see publish_home."""
    later(
        deps,
        publish_home,
        deps,
        client,
        team_id=team_id,
        user_id=user_id,
        skip_unchanged=opened,
        record_role=record_role,
    )


def fill_time_zone(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Store the person's Slack time zone and role (background work after a join). If Slack
    will not say now, the next App Home render asks again; pairing works without it
    meanwhile."""
    user = slack_user(client, user_id)
    if user is None:
        return
    deps.admin_cache.put(team_id, user_id, user.is_admin)
    with deps.unit_of_work() as session:
        admin.record_slack_role(
            session, team_id=team_id, user_id=user_id, is_admin=user.is_admin, now=deps.clock()
        )
        membership.set_time_zone(
            session,
            team_id=team_id,
            user_id=user_id,
            tz_name=user.tz_name,
            tz_offset_minutes=user.tz_offset_minutes,
        )
