"""A person's own data: download it, delete it (commands, App Home and confirmation buttons)."""

from __future__ import annotations

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from bot import ids
from bot.deps import Deps
from bot.listeners.common import later, refresh_home, respond_later
from bot.services import privacy
from bot.slack_client import upload_to_dm
from bot.views import privacy as views
from db.session import lost_to_a_concurrent_transaction


def send_my_data(deps: Deps, client: WebClient, *, team_id: str, user_id: str) -> None:
    """Upload the person's data file into their DM (call after the ack: it talks to Slack)."""
    with deps.unit_of_work() as session:
        data = privacy.export_my_data(session, team_id=team_id, user_id=user_id, now=deps.clock())
    upload_to_dm(client, user_id, **views.export_upload(data))


# Attempts at an erasure that PostgreSQL ended to break a deadlock (with a round start that
# seats the person at that moment): each attempt stored nothing, and the next one runs after
# the winner committed.
ERASURE_ATTEMPTS = 3


def delete_my_data(deps: Deps, *, team_id: str, user_id: str) -> privacy.DeletionReport:
    """Delete the person's data in one unit of work; a repeated press gets an empty report."""
    for attempt in range(1, ERASURE_ATTEMPTS + 1):
        try:
            with deps.unit_of_work() as session:
                report = privacy.delete_my_data(
                    session, team_id=team_id, user_id=user_id, now=deps.clock()
                )
            break
        except DBAPIError as error:
            if attempt == ERASURE_ATTEMPTS or not lost_to_a_concurrent_transaction(error):
                raise
    deps.admin_answers.clear()  # their admin row, if any, is gone
    return report


def register(app: App, deps: Deps) -> None:
    """Attach the data buttons (the subcommands are in bot.listeners.commands)."""

    def download_from_home(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        later(
            deps,
            send_my_data,
            deps,
            client,
            team_id=context.team_id or "",
            user_id=context.user_id or "",
        )

    def delete_from_home(ack: Ack, client: WebClient, context: BoltContext) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        report = delete_my_data(deps, team_id=team_id, user_id=user_id)
        later(deps, client.chat_postMessage, channel=user_id, text=views.deleted_text(report))
        # Not kept again at once: what Slack says of their role was just deleted too.
        refresh_home(deps, client, team_id=team_id, user_id=user_id, record_role=False)

    def delete_confirmed(
        ack: Ack, respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        ack()
        team_id, user_id = context.team_id or "", context.user_id or ""
        report = delete_my_data(deps, team_id=team_id, user_id=user_id)
        respond_later(deps, respond, **views.deleted_message(report))
        # Not kept again at once: what Slack says of their role was just deleted too.
        refresh_home(deps, client, team_id=team_id, user_id=user_id, record_role=False)

    def delete_cancelled(ack: Ack, respond: Respond) -> None:
        ack()
        respond_later(deps, respond, replace_original=True, text=views.DELETE_CANCELLED_TEXT)

    app.action(ids.HOME_EXPORT_DATA)(download_from_home)
    app.action(ids.HOME_DELETE_DATA)(delete_from_home)
    app.action(ids.DELETE_DATA_CONFIRM)(delete_confirmed)
    app.action(ids.DELETE_DATA_CANCEL)(delete_cancelled)
