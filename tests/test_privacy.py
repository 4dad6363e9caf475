"""Nobody, admins included, reads another person's reflection; small numbers stay hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cli import main
from bot.sandbox.harness import Sandbox
from tests.cycle_helpers import MONDAY_9, dms_to, go_to, intros
from tests.test_admin import ADMIN
from tests.test_rounds import open_reflection_modal, reflection_values

SECRETS = ["ZEBRA-takeaway-7781", "QUOKKA-commitment-1234", "NARWHAL-takeaway-5555"]


def test_no_admin_surface_shows_reflection_text_or_small_figures(
    sandbox: Sandbox,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox.emulator.add_user(ADMIN, is_admin=True)
    sandbox.people.command(ADMIN, "admin")
    sandbox.settle()
    for n in range(1, 7):
        sandbox.join(f"U{n:03d}")
    go_to(sandbox, MONDAY_9)
    sandbox.tick()
    # Two people reflect (usefulness 5 and 1): too few for any reflection figure to show.
    authors = [
        sandbox.emulator.conversation_members(intros(sandbox)[0].channel)[0],
        sandbox.emulator.conversation_members(intros(sandbox)[1].channel)[0],
    ]
    for author, (takeaway, commitment), score in zip(
        authors, [(SECRETS[0], SECRETS[1]), (SECRETS[2], None)], ["5", "1"], strict=True
    ):
        view = open_reflection_modal(sandbox, author)
        sandbox.people.submit(author, view, reflection_values(score, takeaway, commitment))
    sandbox.settle()
    go_to(sandbox, MONDAY_9 + timedelta(weeks=1))
    sandbox.tick()  # closes the first round: the digest goes to the admin

    # Every admin surface: Home, settings, preview, run-now note, export, digest, CLI reports.
    sandbox.people.open_home(ADMIN)
    sandbox.people.command(ADMIN, "admin")
    sandbox.people.command(ADMIN, "admin preview")
    sandbox.people.command(ADMIN, "admin export")
    sandbox.settle()
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["report", "--team", sandbox.team_id, "--format", "csv"]) == 0
    assert main(["report", "--team", sandbox.team_id, "--format", "json"]) == 0
    cli_output = capsys.readouterr().out

    admin_saw = "\n".join(
        [
            # Slack's own ids and hashes ("1700000013.000013") are not what the admin reads.
            str(
                {k: v for k, v in sandbox.emulator.homes[ADMIN].items() if k not in ("id", "hash")}
            ),
            *(str(c.args) for c in sandbox.emulator.calls if c.method.startswith("views.")),
            *(m.text + str(m.blocks) for m in dms_to(sandbox, ADMIN)),
            *(
                str({k: v for k, v in u.items() if k != "content"})
                for u in sandbox.emulator.uploads.values()
            ),
            *(
                u["content"].decode()
                for u in sandbox.emulator.uploads.values()
                if u["filename"].endswith(".csv")
            ),
            cli_output,
        ]
    )
    assert "Programme (admins)" in admin_saw and "PeerCoach digest" in admin_saw
    for secret in SECRETS:
        assert secret not in admin_saw
    # Two reflections, usefulness 5 and 1: neither the rate (2/6) nor the mean (3.0) appears.
    assert "reflections fewer than 5" in admin_saw
    assert "usefulness: fewer than 5 answers" in admin_saw
    assert "33%" not in admin_saw and "3.0" not in admin_saw and "0.3333" not in admin_saw

    # The authors themselves still see their own words.
    assert SECRETS[0] in str(sandbox.people.command(authors[0], "history").json())
    partner = next(
        u
        for u in sandbox.emulator.conversation_members(intros(sandbox)[0].channel)
        if u != authors[0]
    )
    assert SECRETS[0] not in str(sandbox.people.command(partner, "history").json())
