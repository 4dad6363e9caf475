"""Extract the facts our fake Slack needs from Slack's method reference.

Run from the repo root when the app starts calling a new method:
    python -m bot.sandbox.build_reference ../shared/slack-api-ref
It writes bot/sandbox/slack_reference.json (method names, argument names, required
arguments, rate-limit tier, bot scopes, error codes; events with their scopes) and copies the
reference's licence beside it. No prose descriptions are kept.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

# Every Web API method PeerCoach calls. The fake Slack refuses any method not listed here.
METHODS = [
    "apps.connections.open",
    "auth.test",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.members",
    "conversations.open",
    "files.completeUploadExternal",
    "files.getUploadURLExternal",
    "files.info",
    "oauth.v2.access",
    "users.info",
    "users.list",
    "users.lookupByEmail",
    "views.open",
    "views.publish",
    "views.update",
]
EVENTS = ["app_home_opened", "app_uninstalled", "tokens_revoked", "user_change"]

HERE = Path(__file__).resolve().parent


def extract(reference_root: Path) -> dict[str, dict[str, object]]:
    """Return the compact reference for METHODS and EVENTS."""
    docs = reference_root / "docs.slack.dev"
    methods: dict[str, object] = {}
    for name in METHODS:
        spec = json.loads((docs / "methods" / f"{name}.json").read_text())
        args = spec.get("args", {})
        methods[name] = {
            "args": sorted(args.get("properties", {})),
            "required": sorted(args.get("required", [])),
            "tier": spec.get("rate_limits"),
            "bot_scopes": sorted((spec.get("scope") or {}).get("bot") or []),
            "errors": sorted(spec.get("errors", {})),
        }
    all_events = {e["name"]: e for e in json.loads((docs / "events" / "events.json").read_text())}
    events: dict[str, object] = {
        name: {"scopes": sorted(all_events[name].get("scopes", []))} for name in EVENTS
    }
    return {"methods": methods, "events": events}


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/slack-api-ref")
    data = extract(root)
    (HERE / "slack_reference.json").write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    shutil.copy(root / "LICENSE.md", HERE / "SLACK_REFERENCE_LICENSE.md")
    print(f"wrote {len(data['methods'])} methods and {len(data['events'])} events")


if __name__ == "__main__":
    main()
