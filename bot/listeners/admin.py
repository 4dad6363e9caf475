"""Programme admin: settings, preview, run now, invite, export. Admins only, checked each time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import ids
from bot.deps import Deps
from bot.errors import NotAdmin, StaleAction
from bot.jobs.invites import invite_channel
from bot.jobs.rounds import deliver_workspace
from bot.listeners.commands import Invocation, subcommand
from bot.listeners.common import publish_home, require_admin
from bot.matching.model import Reason, reason_code
from bot.services import admin as admin_service
from bot.services import invites, membership, rounds
from bot.services.report import report_csv
from bot.slack_client import upload_to_dm
from bot.views import admin as views
from bot.views import membership as membership_views


def open_settings(deps: Deps, client: WebClient, *, trigger_id: str, team_id: str) -> None:
    with deps.unit_of_work() as session:
        workspace = membership.workspace_for(session, team_id, now=deps.clock())
        current = admin_service.settings_of(session, workspace)
    client.views_open(trigger_id=trigger_id, view=views.settings_modal(current))


def open_preview(deps: Deps, client: WebClient, *, trigger_id: str, team_id: str) -> None:
    """Show the admin the groups a round would make now; nothing is written or sent."""
    now = deps.clock()
    with deps.unit_of_work() as session:
        workspace = membership.workspace_for(session, team_id, now=now)
        plan = rounds.plan_round(
            session, workspace, now=now, seed=rounds.seed_for(team_id, f"preview:{now.isoformat()}")
        )
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
    client.views_open(trigger_id=trigger_id, view=views.preview_modal(result, quality))


def run_now(
    deps: Deps,
    client: WebClient,
    *,
    team_id: str,
    user_id: str,
    replacing: datetime | None = None,
) -> None:
    """Start a round now and send its intros in the background; if one started moments ago,
    say so and offer to start another anyway (`replacing`: the start the admin was shown)."""
    with deps.unit_of_work() as session:
        outcome = rounds.start_manual_round(
            session, team_id=team_id, now=deps.clock(), replacing=replacing
        )
        started = outcome.started
        groups = len(started.groups) if started else 0
        workspace_id = started.workspace_id if started else None
    if started is None:
        assert outcome.last_started_at is not None
        client.chat_postMessage(
            channel=user_id, **views.round_started_moments_ago(outcome.last_started_at)
        )
        return
    assert workspace_id is not None
    deps.background.submit(deliver_workspace, deps, workspace_id)
    client.chat_postMessage(channel=user_id, text=views.round_started_text(groups))


def export_csv(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Upload the programme report (aggregates only) to the admin's DM."""
    with deps.unit_of_work() as session:
        workspace = membership.workspace_for(session, team_id, now=deps.clock())
        content = report_csv(session, workspace.id)
    upload_to_dm(
        client,
        user_id,
        content=content,
        filename="peercoach-report.csv",
        title="PeerCoach programme report",
        initial_comment="Your PeerCoach report: aggregates only, small numbers "
        "shown as “fewer than 5”.",
    )


def register(app: App, deps: Deps) -> None:
    """Attach the admin buttons and the settings modal."""

    def guarded(handler: Any) -> Any:
        def listener(
            ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext
        ) -> None:
            ack()
            team_id, user_id = context.team_id or "", context.user_id or ""
            if not require_admin(deps, client, team_id=team_id, user_id=user_id):
                raise NotAdmin()
            handler(body, client, team_id, user_id)

        return listener

    app.action(ids.ADMIN_SETTINGS)(
        guarded(
            lambda body, client, team, user: open_settings(
                deps, client, trigger_id=body["trigger_id"], team_id=team
            )
        )
    )
    app.action(ids.ADMIN_PREVIEW)(
        guarded(
            lambda body, client, team, user: open_preview(
                deps, client, trigger_id=body["trigger_id"], team_id=team
            )
        )
    )

    def run_and_refresh(body: dict[str, Any], client: WebClient, team: str, user: str) -> None:
        run_now(deps, client, team_id=team, user_id=user)
        publish_home(deps, client, team_id=team, user_id=user)

    app.action(ids.ADMIN_RUN_NOW)(guarded(run_and_refresh))

    def run_anyway(body: dict[str, Any], client: WebClient, team: str, user: str) -> None:
        try:
            replacing = datetime.fromisoformat(body["actions"][0]["value"])
        except (KeyError, IndexError, ValueError):
            raise StaleAction() from None
        run_now(deps, client, team_id=team, user_id=user, replacing=replacing)
        publish_home(deps, client, team_id=team, user_id=user)

    app.action(ids.ADMIN_RUN_ANYWAY)(guarded(run_anyway))
    app.action(ids.ADMIN_EXPORT)(
        guarded(
            lambda body, client, team, user: export_csv(deps, client, team_id=team, user_id=user)
        )
    )

    def settings_submitted(
        ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        team_id, user_id = context.team_id or "", context.user_id or ""
        new, errors = views.parse_settings(view["state"]["values"])
        if new is None:
            ack(response_action="errors", errors=errors)
            return
        if not require_admin(deps, client, team_id=team_id, user_id=user_id):
            raise NotAdmin()
        ack()
        with deps.unit_of_work() as session:
            workspace = membership.workspace_for(session, team_id, now=deps.clock())
            changes = admin_service.apply_settings(
                session, workspace, new, changed_by=user_id, now=deps.clock()
            )
            changed = [c.field for c in changes]
        client.chat_postMessage(channel=user_id, text=views.settings_saved_text(changed))
        publish_home(deps, client, team_id=team_id, user_id=user_id)

    app.view(ids.SETTINGS_MODAL)(settings_submitted)


@subcommand("admin")
def _admin(deps: Deps, call: Invocation) -> None:
    """`/peercoach admin [invite #channel | export | preview]`."""
    if not require_admin(deps, call.client, team_id=call.team_id, user_id=call.user_id):
        raise NotAdmin()
    action = call.args[0].lower() if call.args else "settings"
    if action == "invite":
        channel = invites.parse_channel(" ".join(call.args[1:]))
        call.ack(**membership_views.ephemeral("Sending invitations: I'll DM you the progress."))
        deps.background.submit(
            invite_channel,
            deps,
            call.client,
            team_id=call.team_id,
            user_id=call.user_id,
            channel=channel,
            progress_text=membership_views.invite_progress_text,
        )
    elif action == "export":
        call.ack(**membership_views.ephemeral("Preparing your report: it will arrive in your DMs."))
        export_csv(deps, call.client, team_id=call.team_id, user_id=call.user_id)
    elif action == "preview":
        call.ack()
        open_preview(deps, call.client, trigger_id=call.trigger_id, team_id=call.team_id)
    elif action == "settings":
        call.ack()
        open_settings(deps, call.client, trigger_id=call.trigger_id, team_id=call.team_id)
    else:
        call.ack(
            **membership_views.ephemeral(
                "Admin commands: `/peercoach admin` (settings), "
                "`/peercoach admin invite #channel`, `/peercoach admin export`, "
                "`/peercoach admin preview`."
            )
        )
