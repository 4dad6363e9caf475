"""Importing an org chart: find each email's Slack user (users.lookupByEmail, honouring rate
limits), store the reporting lines, and tell the admin what could not be matched.

Runs after the ack (a background task, or the `peercoach org import` command): a chart of
thousands of emails takes minutes at Slack's tier-3 limit of about 50 lookups a minute.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import origin_of
from bot.deps import Deps
from bot.domain.enums import OutboxKind
from bot.domain.orgchart import OrgImportReport
from bot.errors import UsageError
from bot.jobs.people import with_retry
from bot.jobs.rounds import make_delivery
from bot.services import orgchart
from bot.services.membership import workspace_for

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 5_000_000
LIST_ABOVE = 200  # more emails than this: page users.list rather than one lookup each
SLACK_FILE_ORIGINS = ("https://files.slack.com",)


def lookup_emails(
    client: WebClient, emails: Iterable[str], sleep: Callable[[float], None]
) -> dict[str, str | None]:
    """Map each email to its Slack user id (None when Slack knows no one by it).

    One users.lookupByEmail per email (tier 3, about 50 a minute); beyond LIST_ABOVE emails,
    the workspace's users.list pages instead (tier 2, 200 people a page: a 10,000-person chart
    in about 50 calls, not 10,000), matched on profile emails ignoring case. An HTTP 429 is
    slept out for its Retry-After. Any other Slack error raises SlackApiError (the import
    stops, nothing stored).
    """
    wanted = set(emails)
    if len(wanted) > LIST_ABOVE:
        return _from_users_list(client, wanted, sleep)
    found: dict[str, str | None] = {}
    for email in sorted(wanted):
        try:
            answer = with_retry(sleep, client.users_lookupByEmail, email=email)
            found[email] = str(answer["user"]["id"])
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise
            found[email] = None
    return found


def _from_users_list(
    client: WebClient, wanted: set[str], sleep: Callable[[float], None]
) -> dict[str, str | None]:
    """Map emails to user ids from users.list pages (profile.email, lower-cased)."""
    found: dict[str, str | None] = dict.fromkeys(wanted)
    cursor = None
    while True:
        page = with_retry(sleep, client.users_list, limit=200, cursor=cursor)
        for user in page["members"]:
            address = str((user.get("profile") or {}).get("email") or "").strip().lower()
            if address in found and found[address] is None:
                found[address] = str(user["id"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return found


def import_org_chart(
    deps: Deps, client: WebClient, *, team_id: str, data: bytes
) -> OrgImportReport:
    """Read a CSV org chart, look its emails up in Slack and replace the workspace's
    reporting lines with what matched. Raises UsageError for a file that is not an org chart
    and SlackApiError when Slack refuses the lookups (nothing is stored then)."""
    chart = orgchart.parse_org_chart(data)
    user_ids = lookup_emails(client, chart.emails, deps.sleep)
    lines, report = orgchart.resolve_chart(chart, user_ids)
    now = deps.clock()
    with deps.unit_of_work() as session:
        workspace = workspace_for(session, team_id, now=now)
        orgchart.replace_reporting_lines(session, workspace=workspace, lines=lines, now=now)
    logger.info(
        "org chart imported: %d rows, %d lines stored, %d unknown emails, %d loops",
        report.rows,
        report.stored,
        len(report.unknown_emails),
        len(report.cycles),
    )
    return report


def download_file(deps: Deps, client: WebClient, file_id: str) -> bytes:
    """Fetch a file someone shared with the app: files.info, then its private download URL
    with the bot token (sent only to Slack's file host or the configured Slack API host).

    Raises UsageError for a file that is too big or not downloadable, SlackApiError as
    files.info answers.
    """
    info = client.files_info(file=file_id)["file"]
    if int(info.get("size") or 0) > MAX_FILE_BYTES:
        raise UsageError("That file is too big for an org chart (over 5 MB).")
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    allowed = {*SLACK_FILE_ORIGINS, origin_of(deps.settings.slack_api_url)}
    try:
        trusted = origin_of(url) in allowed
    except ValueError:
        trusted = False
    if not trusted:
        raise UsageError("I couldn't download that file from Slack.")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        data: bytes = answer.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UsageError("That file is too big for an org chart (over 5 MB).")
    return data


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: urllib would carry the bot token to wherever it points."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


def import_from_slack(
    deps: Deps, client: WebClient, *, team_id: str, user_id: str, file_id: str, key: str
) -> None:
    """Background work after an admin uploaded an org chart in Slack: import it and DM that
    admin (only them) the outcome through the outbox, once per `key`."""
    report: OrgImportReport | None = None
    failed: str | None = None
    try:
        report = import_org_chart(
            deps, client, team_id=team_id, data=download_file(deps, client, file_id)
        )
    except UsageError as problem:
        failed = problem.message
    except SlackApiError as error:
        code = str(error.response.get("error") or "error")
        logger.warning("org chart import failed: Slack answered %s", code)
        failed = f"Slack refused the import (`{code}`); nothing was changed. Please try again."
    now = deps.clock()
    with deps.unit_of_work() as session:
        workspace_id = workspace_for(session, team_id, now=now).id
        orgchart.tell_import_result(
            session,
            workspace_id=workspace_id,
            admin_user_id=user_id,
            key=key,
            now=now,
            report=report,
            failed=failed,
        )
    make_delivery(deps).run(workspace_id=workspace_id, kinds=[OutboxKind.ORG_IMPORT])
