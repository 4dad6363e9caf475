"""Programme admin: settings, preview, run now, invite, export, figures, digest, new
programmes and the workspace summary. Admins only, checked each time, per programme: Slack's
admins run every programme, an added owner the programme they own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.domain.programme import FIRST_PROGRAMME_NAME, ProgrammeRef
from bot.errors import Busy, StaleAction, UsageError
from bot.jobs.invites import invite_channel
from bot.jobs.orgchart import import_from_slack
from bot.listeners.actions import programme_of
from bot.listeners.commands import Invocation, subcommand
from bot.listeners.common import (
    admin_programme,
    dm_through_outbox,
    open_view_later,
    refresh_home,
    require_slack_admin,
    send_outbox_soon,
)
from bot.matching.model import Reason, reason_code
from bot.services import admin as admin_service
from bot.services import digest, invites, membership, metrics, rounds
from bot.services.report import report_csv
from bot.slack_client import upload_to_dm
from bot.views import admin as views
from bot.views import membership as membership_views
from bot.views.blocks import programme_in_metadata


def open_settings(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    team_id: str,
    user_id: str,
    programme: ProgrammeRef,
) -> None:
    """Open a programme's settings modal (right after the ack)."""
    with deps.request_unit_of_work() as session:
        chosen = membership.programme_for(
            session, team_id=team_id, programme=programme.id, now=deps.clock()
        )
        current = admin_service.settings_of(session, chosen)
        several = len(membership.programmes_of(session, chosen.workspace_id)) > 1
    open_view_later(
        deps,
        client,
        respond,
        trigger_id=trigger_id,
        view=views.settings_modal(current, programme if several else None),
        team_id=team_id,
        user_id=user_id,
    )


def open_org_import(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    team_id: str,
    user_id: str,
) -> None:
    """Open the org-chart upload modal (right after the ack)."""
    open_view_later(
        deps,
        client,
        respond,
        trigger_id=trigger_id,
        view=views.org_import_modal(),
        team_id=team_id,
        user_id=user_id,
    )


def open_preview(
    deps: Deps,
    client: WebClient,
    respond: Respond | None,
    *,
    trigger_id: str,
    team_id: str,
    user_id: str,
    programme: ProgrammeRef,
) -> None:
    """Show the admin the groups the programme's round would make now; nothing is written
    or sent."""
    now = deps.clock()
    with deps.request_unit_of_work() as session:
        chosen = membership.programme_for(session, team_id=team_id, programme=programme.id, now=now)
        plan = rounds.preview_round(session, chosen, now=now)
    result = plan.result
    total = len(result.groups) or 1

    def share(reason: Reason) -> str:
        hits = sum(any(reason_code(r)[0] == reason for r in g.reasons) for g in result.groups)
        return f"{hits / total:.0%}"

    quality = {
        "Groups": str(len(result.groups)),
        "First meetings (repeats avoided)": share(Reason.FIRST_MEETING),
        "Same level band": share(Reason.SAME_LEVEL),
        "Adjacent level band": share(Reason.ADJACENT_LEVEL),
        "Share a goal": share(Reason.SHARED_GOAL),
        "Could not be paired": str(len(result.unmatched)),
    }
    open_view_later(
        deps,
        client,
        respond,
        trigger_id=trigger_id,
        view=views.preview_modal(result, quality),
        team_id=team_id,
        user_id=user_id,
    )


def run_now(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    programme: ProgrammeRef,
    replacing: datetime | None = None,
) -> None:
    """Start the programme's round now; its intros and the admin's note go out through the
    outbox. If one started moments ago, say so and offer to start another anyway
    (`replacing`: the start the admin was shown)."""
    now = deps.clock()
    with deps.request_unit_of_work() as session:
        outcome = rounds.start_manual_round(
            session, team_id=team_id, now=now, replacing=replacing, programme=programme.id
        )
        started = outcome.started
        if started is None:
            assert outcome.last_started_at is not None
            message = views.round_started_moments_ago(outcome.last_started_at, programme.id)
            key = f"run_now:moments_ago:{outcome.last_started_at.isoformat()}:{now.isoformat()}"
        else:
            message = {"text": views.round_started_text(len(started.groups))}
            if programme.name != FIRST_PROGRAMME_NAME:
                message["text"] = f"{programme.name}: {message['text']}"
            key = f"run_now:{started.id}"
        workspace_id = dm_through_outbox(
            deps,
            session,
            team_id=team_id,
            user_id=user_id,
            text=message["text"],
            blocks=message.get("blocks", ()),
            key=key,
        )
    send_outbox_soon(deps, workspace_id)


def export_csv(
    deps: Deps, client: WebClient, *, team_id: str, user_id: str, programme: ProgrammeRef
) -> None:
    """Upload the programme's report (aggregates only) to the admin's DM (background work)."""
    with deps.unit_of_work() as session:
        content = report_csv(session, programme.id)
    upload_to_dm(
        client,
        user_id,
        content=content,
        filename="peercoach-report.csv",
        title=f"PeerCoach programme report: {programme.name}",
        initial_comment="Your PeerCoach report: aggregates only, small numbers "
        "shown as “fewer than 5”.",
    )


def _export_later(
    deps: Deps, client: WebClient, *, team_id: str, user_id: str, programme: ProgrammeRef
) -> None:
    if (
        deps.background.try_submit(
            export_csv, deps, client, team_id=team_id, user_id=user_id, programme=programme
        )
        is None
    ):
        raise Busy()


def register(app: App, deps: Deps) -> None:
    """Attach the admin buttons and the settings modal."""

    def guarded(handler: Any) -> Any:
        def listener(
            ack: Ack,
            body: dict[str, Any],
            client: WebClient,
            respond: Respond,
            context: BoltContext,
        ) -> None:
            team_id, user_id = context.team_id or "", context.user_id or ""
            programme = admin_programme(
                deps,
                client,
                team_id=team_id,
                user_id=user_id,
                programme=programme_of(body, after_bar=body_has_bar(body)),
            )
            handler(body, client, respond, team_id, user_id, programme)
            ack()

        return listener

    app.action(ids.ADMIN_SETTINGS)(
        guarded(
            lambda body, client, respond, team, user, programme: open_settings(
                deps,
                client,
                respond,
                trigger_id=body["trigger_id"],
                team_id=team,
                user_id=user,
                programme=programme,
            )
        )
    )
    app.action(ids.ADMIN_PREVIEW)(
        guarded(
            lambda body, client, respond, team, user, programme: open_preview(
                deps,
                client,
                respond,
                trigger_id=body["trigger_id"],
                team_id=team,
                user_id=user,
                programme=programme,
            )
        )
    )

    def run_and_refresh(
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
        team: str,
        user: str,
        programme: ProgrammeRef,
    ) -> None:
        run_now(deps, team_id=team, user_id=user, programme=programme)
        refresh_home(deps, client, team_id=team, user_id=user)

    app.action(ids.ADMIN_RUN_NOW)(guarded(run_and_refresh))

    def run_anyway(
        body: dict[str, Any],
        client: WebClient,
        respond: Respond,
        team: str,
        user: str,
        programme: ProgrammeRef,
    ) -> None:
        try:
            replacing = datetime.fromisoformat(body["actions"][0]["value"].split("|")[0])
        except (KeyError, IndexError, ValueError, AttributeError):
            raise StaleAction() from None
        run_now(deps, team_id=team, user_id=user, programme=programme, replacing=replacing)
        refresh_home(deps, client, team_id=team, user_id=user)

    app.action(ids.ADMIN_RUN_ANYWAY)(guarded(run_anyway))
    app.action(ids.ADMIN_EXPORT)(
        guarded(
            lambda body, client, respond, team, user, programme: _export_later(
                deps, client, team_id=team, user_id=user, programme=programme
            )
        )
    )

    def settings_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        programme = admin_programme(
            deps,
            client,
            team_id=team_id,
            user_id=user_id,
            programme=programme_in_metadata(view.get("private_metadata", "")),
        )
        now = deps.clock()
        with deps.request_unit_of_work() as session:
            chosen = membership.programme_for(
                session, team_id=team_id, programme=programme.id, now=now
            )
            current = admin_service.settings_of(session, chosen)
        new, errors = views.parse_settings(view["state"]["values"], current)
        if new is None:
            ack(response_action="errors", errors=errors)
            return
        with deps.request_unit_of_work() as session:
            chosen = membership.programme_for(
                session, team_id=team_id, programme=programme.id, now=now
            )
            changes = admin_service.apply_settings(
                session, chosen, new, changed_by=user_id, now=now
            )
            changed = [c.field for c in changes]
            workspace_id = dm_through_outbox(
                deps,
                session,
                team_id=team_id,
                user_id=user_id,
                text=views.settings_saved_text(changed),
                key=f"settings_saved:{view.get('id')}:{view.get('hash')}",
            )
        deps.admin_answers.clear()  # the added admins may have changed
        ack()
        send_outbox_soon(deps, workspace_id)
        refresh_home(deps, client, team_id=team_id, user_id=user_id)

    app.view(ids.SETTINGS_MODAL)(settings_submitted)

    def org_chart_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        file_id = views.parse_org_import(view["state"]["values"])
        require_slack_admin(deps, client, team_id=team_id, user_id=user_id)
        started = deps.background.try_submit(
            import_from_slack,
            deps,
            client,
            team_id=team_id,
            user_id=user_id,
            file_id=file_id,
            key=f"{view.get('id')}:{view.get('hash')}",
        )
        if started is None:
            raise Busy()
        ack()

    app.view(ids.ORG_IMPORT_MODAL)(org_chart_submitted)


def body_has_bar(body: dict[str, Any]) -> bool:
    """Whether a button's value carries something before the programme id ("<start>|<id>")."""
    try:
        return "|" in (body["actions"][0].get("value") or "")
    except (KeyError, IndexError, TypeError, AttributeError):
        return False


ADMIN_HELP = (
    "Admin commands (add `--programme <name>` when there are several programmes): "
    "`/peercoach admin` (settings), `/peercoach admin invite [#channel]`, "
    "`/peercoach admin link #channel`, `/peercoach admin export`, `/peercoach admin preview`, "
    "`/peercoach admin run`, `/peercoach admin figures`, `/peercoach admin digest`, "
    "`/peercoach admin open|close`, `/peercoach admin describe <text>`; "
    "Slack admins: `/peercoach admin programme new <name>`, `/peercoach admin programmes` "
    "(a summary of every programme), `/peercoach admin org` (import the org chart)."
)


@subcommand("admin")
def _admin(deps: Deps, call: Invocation) -> None:
    """`/peercoach admin [settings | invite [#channel] | link #channel | export | preview |
    run | figures | digest | open | close | describe <text> | programme new <name> |
    programmes] [--programme <name>]`."""
    action = call.args[0].lower() if call.args else "settings"
    if action in ("programme", "program"):
        _new_programme(deps, call)
        return
    if action in ("programmes", "programs", "summary"):
        _summary(deps, call)
        return
    if action == "org":
        _org_import(deps, call)
        return
    if action not in PER_PROGRAMME:
        call.ack(**membership_views.ephemeral(ADMIN_HELP))
        return
    programme = admin_programme(
        deps, call.client, team_id=call.team_id, user_id=call.user_id, programme=call.programme
    )
    PER_PROGRAMME[action](deps, call, programme)


def _invite(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    text = " ".join(call.args[1:])
    if text:
        channel = invites.parse_channel(text)
    else:
        with deps.request_unit_of_work() as session:
            linked = membership.programme_for(
                session, team_id=call.team_id, programme=programme.id, now=deps.clock()
            ).channel_id
        if linked is None:
            raise UsageError(
                "Name a channel (`/peercoach admin invite #channel`) or link one to the "
                "programme first (`/peercoach admin link #channel`)."
            )
        channel = linked
    if (
        deps.background.try_submit(
            invite_channel,
            deps,
            call.client,
            team_id=call.team_id,
            user_id=call.user_id,
            channel=channel,
            progress_text=membership_views.invite_progress_text,
            programme_id=programme.id,
        )
        is None
    ):
        raise Busy()
    call.ack(**membership_views.ephemeral("Sending invitations: I'll DM you the progress."))


def _link(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    channel = invites.parse_channel(" ".join(call.args[1:]))
    with deps.request_unit_of_work() as session:
        chosen = membership.programme_for(
            session, team_id=call.team_id, programme=programme.id, now=deps.clock()
        )
        chosen.channel_id = channel
    call.ack(
        **membership_views.ephemeral(
            f"<#{channel}> is now {programme.name}'s channel: `/peercoach admin invite` "
            "invites its members."
        )
    )


def _export(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    _export_later(
        deps, call.client, team_id=call.team_id, user_id=call.user_id, programme=programme
    )
    call.ack(**membership_views.ephemeral("Preparing your report: it will arrive in your DMs."))


def _preview(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    call.open_modal(deps, open_preview, programme=programme)


def _settings(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    call.open_modal(deps, open_settings, programme=programme)


def _run(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    run_now(deps, team_id=call.team_id, user_id=call.user_id, programme=programme)
    call.ack(
        **membership_views.ephemeral(
            f"{programme.name}: starting a round now. I'll confirm in your DMs."
        )
    )


def _figures(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    with deps.request_unit_of_work() as session:
        members = metrics.membership_figures(session, programme.id)
        cycles = metrics.cycle_figures(session, programme.id, last=8)
    call.ack(
        **membership_views.ephemeral(
            f"*{programme.name}*\n"
            + views.programme_summary_text([(programme, members)]).split("\n", 1)[1]
            + "\n"
            + views.figures_table(cycles)
        )
    )


def _digest(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    now = deps.clock()
    with deps.request_unit_of_work() as session:
        latest = digest.latest_closed_round(session, call.team_id, programme.id)
        if latest is None:
            raise UsageError(f"{programme.name} has no finished round to digest yet.")
        digest.queue_digests(
            session, latest[0], latest[1], now=now, resend_suffix=f"asked:{now.isoformat()}"
        )
        workspace_id = latest[0].workspace_id
    send_outbox_soon(deps, workspace_id)
    call.ack(
        **membership_views.ephemeral(
            f"The digest of {programme.name}'s last finished round is on its way to its admins."
        )
    )


def _open_or_close(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    """`admin open` / `admin close`: whether the programme takes new members (its members
    carry on either way)."""
    opening = call.args[0].lower() == "open"
    with deps.request_unit_of_work() as session:
        chosen = membership.programme_for(
            session, team_id=call.team_id, programme=programme.id, now=deps.clock()
        )
        chosen.is_open = opening
    call.ack(**membership_views.ephemeral(views.programme_open_text(programme.name, opening)))


def _describe(deps: Deps, call: Invocation, programme: ProgrammeRef) -> None:
    """`admin describe <text>`: the short description people see when they pick a
    programme to join."""
    text = " ".join(call.args[1:]).strip()
    if len(text) > MAX_DESCRIPTION:
        raise UsageError(f"Keep the description under {MAX_DESCRIPTION} characters.")
    with deps.request_unit_of_work() as session:
        chosen = membership.programme_for(
            session, team_id=call.team_id, programme=programme.id, now=deps.clock()
        )
        chosen.description = text
    call.ack(**membership_views.ephemeral(f"Saved {programme.name}'s description."))


MAX_DESCRIPTION = 300
PER_PROGRAMME = {
    "open": _open_or_close,
    "close": _open_or_close,
    "describe": _describe,
    "settings": _settings,
    "invite": _invite,
    "link": _link,
    "export": _export,
    "preview": _preview,
    "run": _run,
    "figures": _figures,
    "digest": _digest,
}


def _new_programme(deps: Deps, call: Invocation) -> None:
    """`/peercoach admin programme new <name>`: Slack admins create a programme."""
    if len(call.args) < 3 or call.args[1].lower() != "new":
        raise UsageError("Try `/peercoach admin programme new <name>`.")
    require_slack_admin(deps, call.client, team_id=call.team_id, user_id=call.user_id)
    name = " ".join(call.args[2:])
    now = deps.clock()
    with deps.request_unit_of_work() as session:
        workspace = membership.workspace_for(session, call.team_id, now=now)
        created = membership.create_programme(session, workspace, name=name, now=now)
        created_name = created.name
    call.ack(**membership_views.ephemeral(views.programme_created_text(created_name)))


def _org_import(deps: Deps, call: Invocation) -> None:
    """`/peercoach admin org`: Slack admins upload the workspace's org chart (every
    programme's reporting-line rule reads it)."""
    require_slack_admin(deps, call.client, team_id=call.team_id, user_id=call.user_id)
    call.open_modal(deps, open_org_import)


def _summary(deps: Deps, call: Invocation) -> None:
    """`/peercoach admin programmes`: every programme's member counts, for Slack admins."""
    require_slack_admin(deps, call.client, team_id=call.team_id, user_id=call.user_id)
    with deps.request_unit_of_work() as session:
        rows = metrics.programme_summary(session, team_id=call.team_id, now=deps.clock())
    call.ack(**membership_views.ephemeral(views.programme_summary_text(rows)))
