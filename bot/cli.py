"""The `peercoach` command: serve, socket, db upgrade, match and the operator tools."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.config import ConfigError, configure_logging, load_settings

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.scheduler import RoundScheduler

logger = logging.getLogger("peercoach")


def _serve(args: argparse.Namespace) -> int:
    import waitress

    from bot.runtime import start_runtime
    from bot.server import make_wsgi_app

    settings = load_settings(required=["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
    configure_logging(settings)
    runtime = start_runtime(settings)
    scheduler = _start_scheduler(runtime)
    logger.info("PeerCoach listening on port %s (POST /slack/events, GET /healthz)", settings.port)
    try:
        waitress.serve(
            make_wsgi_app(runtime.app, runtime.engine, settings),
            host=args.host,
            port=settings.port,
            threads=8,
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown()
    return 0


def _socket(args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import start_runtime

    settings = load_settings(required=["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
    configure_logging(settings)
    runtime = start_runtime(settings)
    scheduler = _start_scheduler(runtime)
    try:
        SocketModeHandler(runtime.app, settings.secret("slack_app_token")).start()
    finally:
        if scheduler is not None:
            scheduler.shutdown()
    return 0


def _start_scheduler(runtime: Runtime) -> RoundScheduler | None:
    from bot.scheduler import RoundScheduler

    if not runtime.settings.run_scheduler:
        logger.info("RUN_SCHEDULER=false: rounds are run by a separate `peercoach worker`")
        return None
    scheduler = RoundScheduler(runtime.deps)
    scheduler.start()
    return scheduler


def _worker(args: argparse.Namespace) -> int:
    from bot.runtime import start_runtime
    from bot.scheduler import RoundScheduler

    settings = load_settings(required=["SLACK_BOT_TOKEN"])
    configure_logging(settings)
    runtime = start_runtime(settings)
    scheduler = RoundScheduler(runtime.deps, blocking=True)
    try:
        scheduler.start()  # blocks; a second worker waits idle until the lease is free
    finally:
        scheduler.shutdown()
    return 0


def _round_run(args: argparse.Namespace) -> int:
    from bot.errors import UsageError
    from bot.jobs.rounds import make_delivery
    from bot.runtime import open_database
    from bot.services.rounds import plan_round, seed_for, start_manual_round
    from db.models import Workspace

    settings = load_settings(required=[] if args.dry_run else ["SLACK_BOT_TOKEN"])
    configure_logging(settings)
    _, deps = open_database(settings)
    now = deps.clock()
    if args.dry_run:
        from sqlalchemy import select

        with deps.unit_of_work() as session:
            workspace = session.scalar(select(Workspace).where(Workspace.team_id == args.team))
            if workspace is None:
                print(f"peercoach: no workspace {args.team}", file=sys.stderr)
                return 1
            seed = seed_for(args.team, f"manual:{now.isoformat()}")
            plan = plan_round(session, workspace, now=now, seed=seed).result
        for group in plan.groups:
            print(" + ".join(group.members), " ", ", ".join(group.reasons))
        for left in plan.unmatched:
            print(f"not paired: {left.id} ({left.reason})")
        print(
            f"{len(plan.groups)} groups, {len(plan.unmatched)} not paired (dry run: nothing sent)"
        )
        return 0
    try:
        with deps.unit_of_work() as session:
            started = start_manual_round(session, team_id=args.team, now=now)
            round_id, workspace_id = started.id, started.workspace_id
    except UsageError as problem:
        print(f"peercoach: no workspace {args.team}: {problem.message}", file=sys.stderr)
        return 1
    make_delivery(deps).run(workspace_id=workspace_id)
    print(f"round {round_id} started for {args.team}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from db.migrate import upgrade_to_head

    settings = load_settings()
    configure_logging(settings)
    upgrade_to_head(settings.database_url)
    print(f"database is at the newest schema ({_redacted(settings.database_url)})")
    return 0


def _match(args: argparse.Namespace) -> int:
    from bot.matching.cli import main as match_main

    return match_main(sys.stdin, sys.stdout, sys.stderr)


def _report(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.runtime import open_database
    from bot.services.report import report_csv, report_json
    from db.models import Workspace

    settings = load_settings()
    configure_logging(settings)
    _, deps = open_database(settings)
    with deps.unit_of_work() as session:
        workspace_id = session.scalar(select(Workspace.id).where(Workspace.team_id == args.team))
        if workspace_id is None:
            print(f"peercoach: no workspace {args.team}", file=sys.stderr)
            return 1
        render = report_csv if args.format == "csv" else report_json
        sys.stdout.write(render(session, workspace_id))
    return 0


def _digest(args: argparse.Namespace) -> int:
    from bot.domain.enums import OutboxKind
    from bot.jobs.rounds import make_delivery
    from bot.runtime import open_database
    from bot.services.digest import latest_closed_round, queue_digests

    settings = load_settings(required=["SLACK_BOT_TOKEN"])
    configure_logging(settings)
    _, deps = open_database(settings)
    now = deps.clock()
    with deps.unit_of_work() as session:
        latest = latest_closed_round(session, args.team)
        if latest is None:
            print(f"peercoach: {args.team} has no finished cycle yet", file=sys.stderr)
            return 1
        # An operator's re-send: a fresh key, so it goes out even if the digest was sent.
        suffix = f"resend:{now.isoformat()}"
        queued = queue_digests(session, latest[0], latest[1], now=now, resend_suffix=suffix)
    if queued == 0:
        print("peercoach: no programme admins to send to", file=sys.stderr)
        return 1
    workspace, round_id = latest
    sent = make_delivery(deps).run(workspace_id=workspace.id, kinds=[OutboxKind.DIGEST]).sent
    print(f"digest of round {round_id} sent to {sent} admin(s)")
    return 0


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peercoach", description="PeerCoach: peer coaching among leaders, in Slack."
    )
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", help="run the HTTP server (the default)")
    serve.add_argument("--host", default="0.0.0.0", help="address to bind (default 0.0.0.0)")
    serve.set_defaults(func=_serve)
    commands.add_parser("socket", help="run over Socket Mode (no public URL)").set_defaults(
        func=_socket
    )
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations up to head").set_defaults(
        func=_db_upgrade
    )
    commands.add_parser(
        "worker", help="run only the round scheduler (one per deployment; others stay idle)"
    ).set_defaults(func=_worker)
    round_parser = commands.add_parser("round", help="round tasks")
    round_commands = round_parser.add_subparsers(dest="round_command", required=True)
    run = round_commands.add_parser("run", help="start a new round now for a workspace")
    run.add_argument("--team", required=True, help="the Slack team id, e.g. T0123ABCD")
    run.add_argument("--dry-run", action="store_true", help="print the groups; send nothing")
    run.set_defaults(func=_round_run)
    report = commands.add_parser("report", help="programme figures (aggregates) as CSV or JSON")
    report.add_argument("--team", required=True, help="the Slack team id")
    report.add_argument("--format", choices=["csv", "json"], default="csv")
    report.set_defaults(func=_report)
    digest = commands.add_parser("digest", help="send the latest cycle's digest to admins now")
    digest.add_argument("--team", required=True, help="the Slack team id")
    digest.set_defaults(func=_digest)
    # Listed for --help; main() hands `demo ...` to the demo's own parser before this one.
    commands.add_parser(
        "demo", help="run the real app against a local Slack sandbox (no Slack needed)"
    )
    commands.add_parser(
        "match", help="pair members: a JSON problem on stdin, JSON groups on stdout"
    ).set_defaults(func=_match)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `peercoach` command; with none, serve over HTTP."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["demo"]:  # the demo parses its own options, --help included
        from bot.sandbox.demo import main as demo_main

        return demo_main(arguments[1:])
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.command is None:
        args = parser.parse_args(["serve"])
    try:
        return int(args.func(args))
    except ConfigError as problem:
        print(f"peercoach: configuration error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
