"""The `peercoach` command: serve, socket, db upgrade, match and the operator tools."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.config import ConfigError, configure_logging, load_settings

logger = logging.getLogger("peercoach")


def _serve(args: argparse.Namespace) -> int:
    import waitress

    from bot.runtime import start_runtime
    from bot.server import make_wsgi_app

    settings = load_settings(required=["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"])
    configure_logging(settings)
    runtime = start_runtime(settings)
    logger.info("PeerCoach listening on port %s (POST /slack/events, GET /healthz)", settings.port)
    waitress.serve(
        make_wsgi_app(runtime.app, runtime.engine), host=args.host, port=settings.port, threads=8
    )
    return 0


def _socket(args: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import start_runtime

    settings = load_settings(required=["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"])
    configure_logging(settings)
    runtime = start_runtime(settings)
    SocketModeHandler(runtime.app, settings.secret("slack_app_token")).start()
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
        "match", help="pair members: a JSON problem on stdin, JSON groups on stdout"
    ).set_defaults(func=_match)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `peercoach` command; with none, serve over HTTP."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
