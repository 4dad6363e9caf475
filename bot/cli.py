"""The `peercoach` command: serve, socket, db upgrade, match and the operator tools."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.config import ConfigError, Settings, configure_logging, load_settings
from bot.crypto import KeyRingMissing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.runtime import Runtime, Stop
    from bot.scheduler import RoundScheduler

logger = logging.getLogger("peercoach")


def _known_workspace(session: Session, team_id: str) -> int | None:
    """The workspace row id of a Slack team; None, after saying so on stderr, if there is
    none (the operator commands answer an unknown team id alike)."""
    from sqlalchemy import select

    from db.models import Workspace

    workspace_id = session.scalar(select(Workspace.id).where(Workspace.team_id == team_id))
    if workspace_id is None:
        print(f"peercoach: no workspace {team_id}", file=sys.stderr)
    return workspace_id


# The serve, socket and worker commands read their settings before importing the app, so a
# misconfigured start names the variable at once instead of after a second of imports.


def _migrates(args: argparse.Namespace, settings: Settings) -> bool:
    """serve/socket/worker migrate at start unless --no-migrate or MIGRATE_ON_START=false."""
    return settings.migrate_on_start and not args.no_migrate


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings(required=["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
    configure_logging(settings)

    import waitress

    from bot.runtime import Stop, start_runtime
    from bot.server import make_wsgi_app

    runtime = start_runtime(settings, migrate=_migrates(args, settings))
    host = args.host or settings.host
    server = waitress.create_server(
        make_wsgi_app(runtime.app, runtime.engine, settings),
        host=host,
        port=settings.port,
        threads=8,
    )
    scheduler = _start_scheduler(runtime)
    stop = Stop()
    stop.install(interrupt=True)  # SIGTERM ends server.run(): no new connections are read
    logger.info(
        "Serving on http://%s:%s%s (POST /slack/events; GET /healthz, /metrics)",
        server.effective_host,
        server.effective_port,
        " on every interface (set HOST to narrow it)" if host in ("0.0.0.0", "::", "") else "",
    )
    try:
        server.run()  # waitress gives running requests up to 5 s once it is told to stop
    finally:
        server.close()
        _wind_down(runtime, scheduler, stop)
    return 0


def _socket(args: argparse.Namespace) -> int:
    settings = load_settings(required=["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
    configure_logging(settings)

    from bot.runtime import start_runtime
    from bot.server import serve_metrics_in_background
    from bot.socket_mode import make_socket_handler

    runtime = start_runtime(settings, migrate=_migrates(args, settings))
    serve_metrics_in_background(runtime.engine, settings)
    scheduler = _start_scheduler(runtime)
    try:
        make_socket_handler(runtime.app, settings.secret("slack_app_token")).start()
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
    from bot.runtime import Stop, start_runtime
    from bot.scheduler import RoundScheduler
    from bot.server import serve_metrics_in_background

    settings = load_settings(required=["SLACK_BOT_TOKEN"])
    configure_logging(settings)
    runtime = start_runtime(settings, migrate=_migrates(args, settings))
    serve_metrics_in_background(runtime.engine, settings)
    stop = Stop()
    stop.install()
    scheduler = RoundScheduler(runtime.deps)
    scheduler.start()  # a second worker checks the lease and stays idle while it is held
    try:
        stop.wait()
    finally:
        _wind_down(runtime, scheduler, stop)
    return 0


def _wind_down(runtime: Runtime, scheduler: RoundScheduler | None, stop: Stop) -> None:
    """Finish in-flight work within SHUTDOWN_GRACE_SECONDS, release the lease, log one line.

    Work still running when the grace period ends is abandoned by exiting at once; it is
    safe to redo (outbox claims lapse, round keys are unique), see docs/operations.md.
    """
    grace = runtime.settings.shutdown_grace_seconds
    logger.debug("winding down: up to %g s for in-flight work", stop.remaining(grace))
    unfinished = runtime.listeners.drain(stop.remaining(grace))
    # Slack work after the acks (and deliveries a listener started) get the same grace.
    unfinished += runtime.deps.background.drain(stop.remaining(grace))
    report = scheduler.stop(stop.remaining(grace)) if scheduler is not None else None
    lease = (
        "released the scheduler lease"
        if report is not None and report.released_lease
        else "held no scheduler lease"
    )
    cause = f"stopped on {stop.signal_name}" if stop.signal_name else "stopped"
    cut_short = unfinished > 0 or (report is not None and not report.tick_finished)
    if not cut_short:
        logger.info("%s in %.1f s: in-flight work finished; %s", cause, stop.elapsed(), lease)
        runtime.engine.dispose()
        return
    abandoned = [f"{unfinished} listener(s) or background task(s)"] if unfinished else []
    if report is not None and not report.tick_finished:
        abandoned.append("the running tick")
    logger.warning(
        "%s in %.1f s: SHUTDOWN_GRACE_SECONDS=%g ran out, abandoned %s; %s",
        cause,
        stop.elapsed(),
        grace,
        " and ".join(abandoned),
        lease,
    )
    logging.shutdown()  # flush the line: the threads still running would keep the process up
    os._exit(0)


def _round_run(args: argparse.Namespace) -> int:
    from bot.errors import RoundRaced, UsageError
    from bot.jobs.rounds import make_delivery
    from bot.runtime import open_database
    from bot.services.membership import programme_for
    from bot.services.rounds import preview_round, start_manual_round

    settings = load_settings(required=[] if args.dry_run else ["SLACK_BOT_TOKEN"])
    configure_logging(settings)
    _, deps = open_database(settings)  # checks the schema is at head; never migrates
    now = deps.clock()
    if args.dry_run:
        with deps.unit_of_work() as session:
            if _known_workspace(session, args.team) is None:
                return 1
            try:
                programme = programme_for(
                    session, team_id=args.team, programme=args.programme, now=now
                )
            except UsageError as problem:
                print(f"peercoach: {problem.message}", file=sys.stderr)
                return 1
            plan = preview_round(session, programme, now=now).result
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
            outcome = start_manual_round(
                session, team_id=args.team, now=now, force=args.force, programme=args.programme
            )
            started = outcome.started
            round_id = started.id if started else None
            workspace_id = started.workspace_id if started else None
    except UsageError as problem:
        print(f"peercoach: no workspace {args.team}: {problem.message}", file=sys.stderr)
        return 1
    except RoundRaced as problem:
        print(f"peercoach: {problem.message}", file=sys.stderr)
        return 1
    if round_id is None or workspace_id is None:
        assert outcome.last_started_at is not None
        print(
            f"peercoach: a round started moments ago for {args.team} "
            f"({outcome.last_started_at.isoformat(timespec='seconds')}); not starting another. "
            "Use --force to start one anyway.",
            file=sys.stderr,
        )
        return 3
    make_delivery(deps).run(workspace_id=workspace_id)
    print(f"round {round_id} started for {args.team}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.runtime import configure_encryption
    from db.migrate import upgrade_to_head

    settings = load_settings()
    configure_logging(settings)
    configure_encryption(settings)  # migration 0006 encrypts text written before it
    upgrade_to_head(settings.database_url)
    print(f"database is at the newest schema ({_redacted(settings.database_url)})")
    return 0


def _match(args: argparse.Namespace) -> int:
    from bot.matching.cli import main as match_main

    return match_main(sys.stdin, sys.stdout, sys.stderr)


def _report(args: argparse.Namespace) -> int:

    from bot.errors import UsageError
    from bot.runtime import open_database
    from bot.services.membership import programme_for
    from bot.services.report import report_csv, report_json

    settings = load_settings()
    configure_logging(settings)
    _, deps = open_database(settings)
    with deps.unit_of_work() as session:
        if _known_workspace(session, args.team) is None:
            return 1
        try:
            programme = programme_for(
                session, team_id=args.team, programme=args.programme, now=deps.clock()
            )
        except UsageError as problem:
            print(f"peercoach: {problem.message}", file=sys.stderr)
            return 1
        render = report_csv if args.format == "csv" else report_json
        sys.stdout.write(render(session, programme.id))
    return 0


def _digest(args: argparse.Namespace) -> int:
    from bot.domain.enums import OutboxKind
    from bot.errors import UsageError
    from bot.jobs.rounds import make_delivery
    from bot.runtime import open_database
    from bot.services.digest import latest_closed_round, queue_digests
    from bot.services.membership import programme_for

    settings = load_settings(required=["SLACK_BOT_TOKEN"])
    configure_logging(settings)
    _, deps = open_database(settings)
    now = deps.clock()
    with deps.unit_of_work() as session:
        programme_id = None
        if args.programme is not None:
            try:
                programme_id = programme_for(
                    session, team_id=args.team, programme=args.programme, now=now
                ).id
            except UsageError as problem:
                print(f"peercoach: {problem.message}", file=sys.stderr)
                return 1
        latest = latest_closed_round(session, args.team, programme_id)
        if latest is None:
            print(f"peercoach: {args.team} has no finished cycle yet", file=sys.stderr)
            return 1
        # An operator's re-send: a fresh key, so it goes out even if the digest was sent.
        suffix = f"resend:{now.isoformat()}"
        queued = queue_digests(session, latest[0], latest[1], now=now, resend_suffix=suffix)
    if queued == 0:
        print("peercoach: no programme admins to send to", file=sys.stderr)
        return 1
    programme, round_id = latest
    sent = (
        make_delivery(deps).run(workspace_id=programme.workspace_id, kinds=[OutboxKind.DIGEST]).sent
    )
    print(f"digest of round {round_id} sent to {sent} admin(s)")
    return 0


def _org_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from slack_sdk.errors import SlackApiError

    from bot.errors import UsageError
    from bot.installations import SlackClients
    from bot.jobs.orgchart import import_org_chart
    from bot.runtime import open_database

    settings = load_settings()
    configure_logging(settings)
    _, deps = open_database(settings)
    with deps.unit_of_work() as session:
        workspace_id = _known_workspace(session, args.team)
    if workspace_id is None:
        return 1
    try:
        data = Path(args.file).read_bytes()
    except OSError as problem:
        print(f"peercoach: cannot read {args.file}: {problem.strerror}", file=sys.stderr)
        return 1
    client = SlackClients(settings, deps.sessions, deps.installation_store).for_workspace(
        workspace_id
    )
    try:
        report = import_org_chart(deps, client, team_id=args.team, data=data)
    except UsageError as problem:
        print(f"peercoach: {problem.message}", file=sys.stderr)
        return 1
    except SlackApiError as error:
        print(
            f"peercoach: Slack refused the lookups ({error.response.get('error')}); "
            "nothing was changed",
            file=sys.stderr,
        )
        return 1
    print(
        f"imported {report.stored} reporting line(s) between {report.people} people "
        f"from {report.rows} row(s) for {args.team} (replacing the previous import)"
    )
    if report.unknown_emails:
        print(
            f"unknown emails: {len(report.unknown_emails)} (Slack knows no one by them); "
            f"{report.rows_with_unknown} row(s) naming them were not imported:"
        )
        for email in report.unknown_emails:
            print(f"  {email}")
    if report.bad_lines:
        lines = ", ".join(str(n) for n in report.bad_lines)
        print(f"rows that are not two emails (skipped): {len(report.bad_lines)}, line(s) {lines}")
    for loop in report.cycles:
        print(f"loop in the chart (imported; fix it at the source): {' -> '.join(loop)}")
    return 0


def _keys_generate(args: argparse.Namespace) -> int:
    from bot.crypto import generate_key

    print(generate_key())
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from bot.runtime import open_database
    from bot.services.privacy import (
        UndecryptableValue,
        encrypted_column_names,
        rotate_all,
        rotate_batch,
    )

    settings = load_settings(required=["PEERCOACH_ENCRYPTION_KEYS"])
    configure_logging(settings)
    _, deps = open_database(settings)

    def run_batch(table: str, column: str, after_id: int) -> tuple[int | None, int]:
        with deps.unit_of_work() as session:  # one transaction per batch
            return rotate_batch(
                session,
                table_name=table,
                column_name=column,
                after_id=after_id,
                limit=args.batch_size,
            )

    try:
        rewritten = rotate_all(run_batch, encrypted_column_names())
    except UndecryptableValue as problem:
        print(
            f"peercoach: {problem}; put its key back in PEERCOACH_ENCRYPTION_KEYS", file=sys.stderr
        )
        return 1
    print(
        f"re-encrypted {rewritten} value(s) with the newest key; every stored value now opens "
        "with it, so older keys can be removed from PEERCOACH_ENCRYPTION_KEYS"
    )
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
    serve.add_argument(
        "--host", default=None, help="address to bind (default: the HOST setting, 0.0.0.0)"
    )
    serve.set_defaults(func=_serve)
    socket_mode = commands.add_parser("socket", help="run over Socket Mode (no public URL)")
    socket_mode.set_defaults(func=_socket)
    db = commands.add_parser("db", help="database tasks")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations up to head").set_defaults(
        func=_db_upgrade
    )
    worker = commands.add_parser(
        "worker", help="run only the round scheduler (one active per deployment, others standby)"
    )
    worker.set_defaults(func=_worker)
    for long_running in (serve, socket_mode, worker):
        long_running.add_argument(
            "--no-migrate",
            action="store_true",
            help="do not migrate at start (also MIGRATE_ON_START=false); refuse an old schema",
        )
    round_parser = commands.add_parser("round", help="round tasks")
    round_commands = round_parser.add_subparsers(dest="round_command", required=True)
    run = round_commands.add_parser("run", help="start a new round now for a workspace")
    run.add_argument("--team", required=True, help="the Slack team id, e.g. T0123ABCD")
    run.add_argument(
        "--programme",
        help="the programme's name (default: the workspace's first programme)",
    )
    run.add_argument("--dry-run", action="store_true", help="print the groups; send nothing")
    run.add_argument(
        "--force",
        action="store_true",
        help="start a round even if one started moments ago (it closes that one)",
    )
    run.set_defaults(func=_round_run)
    report = commands.add_parser("report", help="programme figures (aggregates) as CSV or JSON")
    report.add_argument("--team", required=True, help="the Slack team id")
    report.add_argument(
        "--programme",
        help="the programme's name (default: the workspace's first programme)",
    )
    report.add_argument("--format", choices=["csv", "json"], default="csv")
    report.set_defaults(func=_report)
    digest = commands.add_parser("digest", help="send the latest cycle's digest to admins now")
    digest.add_argument("--team", required=True, help="the Slack team id")
    digest.add_argument(
        "--programme",
        help="the programme's name (default: the workspace's first programme)",
    )
    digest.set_defaults(func=_digest)
    org = commands.add_parser("org", help="the org chart (reporting lines)")
    org_commands = org.add_subparsers(dest="org_command", required=True)
    org_import = org_commands.add_parser(
        "import",
        help="replace a workspace's reporting lines from a CSV (person email, manager email)",
    )
    org_import.add_argument("--team", required=True, help="the Slack team id")
    org_import.add_argument("file", help="the CSV file, with a header row")
    org_import.set_defaults(func=_org_import)
    keys = commands.add_parser("keys", help="encryption keys for text stored at rest")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser(
        "generate", help="print a new key (put it first in PEERCOACH_ENCRYPTION_KEYS)"
    ).set_defaults(func=_keys_generate)
    rotate = keys_commands.add_parser(
        "rotate", help="re-encrypt every stored value with the newest key (safe to repeat)"
    )
    rotate.add_argument(
        "--batch-size", type=int, default=500, help="values per transaction (default 500)"
    )
    rotate.set_defaults(func=_keys_rotate)
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
    from db.migrate import SchemaNotCurrent

    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.command is None:
        args = parser.parse_args(["serve"])
    try:
        return int(args.func(args))
    except (ConfigError, KeyRingMissing) as problem:
        print(f"peercoach: configuration error: {problem}", file=sys.stderr)
        return 2
    except SchemaNotCurrent as problem:
        print(f"peercoach: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
