"""`peercoach demo`: the real app, simulated leaders and weekly rounds on a local Slack emulator."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, func, select

from bot.domain.messages import IntroNotice
from bot.sandbox import demo
from bot.sandbox.clock import ManualClock
from bot.sandbox.demo_render import blocks_to_text
from bot.sandbox.harness import BOT_TOKEN, Sandbox
from bot.views.pairing import intro_message
from db.models import Base, Reflection

PAIRED = re.compile(r"^  paired (\d+) of (\d+) eligible in (\d+) groups$")
GROUP = re.compile(r"^    • (.+?)( \(trio\))?$")
AWAY = re.compile(r"^  away: (.+) \(")
pytestmark = pytest.mark.slow  # most of these run the whole demo

COUNTS = re.compile(r"^  counts: .* reflections (\d+) ")


def run_demo(database_url: str, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    argv = ["--people", "12", "--cycles", "3", "--seed", "1", "--fast"]
    with tempfile.TemporaryDirectory() as folder:  # the chart goes here unless a test says
        chart = [] if "--chart" in extra else ["--chart", f"{folder}/chart.png"]
        code = demo.main([*argv, "--database-url", database_url, *chart, *extra], out=out)
    return code, out.getvalue()


def cycles_of(output: str) -> list[list[str]]:
    """The output lines of each cycle, from its progress bar to its counts."""
    cycles: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("cycle "):
            cycles.append([])
        if cycles:
            cycles[-1].append(line)
    return cycles


def empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def test_demo_pairs_every_eligible_person_each_cycle_and_skips_the_paused(
    db: Engine, database_url: str
) -> None:
    code, output = run_demo(database_url)

    assert code == 0, output
    cycles = cycles_of(output)
    assert len(cycles) == 3
    someone_away = False
    for lines in cycles:
        (paired, eligible, group_count) = next(
            map(int, m.groups()) for m in map(PAIRED.match, lines) if m
        )
        assert paired == eligible and eligible >= 8
        groups = [m.group(1).split(" + ") for m in map(GROUP.match, lines) if m]
        assert len(groups) == group_count
        seated = [name for group in groups for name in group]
        assert len(seated) == len(set(seated)) == paired, "each eligible person once"
        away = [m.group(1) for m in map(AWAY.match, lines) if m]
        someone_away = someone_away or bool(away)
        assert not set(away) & set(seated), "a paused or skipping person was paired"
        # Intros show as they stand at the end: a group that met keeps only Reflect.
        assert any(line.endswith("[Reflect] [How to coach]") for line in lines)
    assert someone_away
    assert "left: " in output


def test_demo_prints_the_reflection_counts_the_database_holds(
    db: Engine, database_url: str
) -> None:
    code, output = run_demo(database_url)

    assert code == 0, output
    per_cycle = [int(m.group(1)) for m in map(COUNTS.match, output.splitlines()) if m]
    total = int(re.search(r"reflections: (\d+) total", output).group(1))  # type: ignore[union-attr]
    with db.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Reflection))
    assert len(per_cycle) == 3
    assert sum(per_cycle) == total == stored > 0


def test_the_same_seed_gives_the_same_output_and_another_seed_another(
    db: Engine, database_url: str, tmp_path
) -> None:
    chart = ("--chart", str(tmp_path / "chart.png"))
    first = run_demo(database_url, *chart)
    empty(db)
    second = run_demo(database_url, *chart)
    empty(db)
    other = run_demo(database_url, "--seed", "2", *chart)

    assert first == second
    assert first[0] == other[0] == 0
    assert other[1] != first[1]


def test_the_demo_refuses_a_database_that_already_holds_its_workspace(
    db: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(database_url)[0] == 0
    code, output = run_demo(database_url)
    assert code == 2 and output == ""
    assert "use an empty database" in capsys.readouterr().err


def test_the_demos_emulator_refuses_calls_slack_would_refuse(db: Engine) -> None:
    with demo.open_world(db, ManualClock(demo.DEMO_START)) as sandbox:
        client = WebClient(token=BOT_TOKEN, base_url=sandbox.emulator.base_url)
        with pytest.raises(SlackApiError):
            client.api_call(
                "chat.postMessage", json={"channel": "C1", "text": "hi", "colour": "red"}
            )
        with pytest.raises(SlackApiError):
            client.api_call("chat.postMesage", json={"channel": "C1", "text": "hi"})
        violations = list(sandbox.emulator.violations)
    assert len(violations) == 2
    assert "colour" in violations[0] and "chat.postMesage" in violations[1]


def test_a_call_slack_would_refuse_makes_the_demo_print_it_and_fail(
    db: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open_world = demo.open_world

    @contextmanager
    def world_with_a_bad_call(engine: Engine, clock: ManualClock) -> Iterator[Sandbox]:
        with real_open_world(engine, clock) as sandbox:
            client = WebClient(token=BOT_TOKEN, base_url=sandbox.emulator.base_url)
            with pytest.raises(SlackApiError):
                client.api_call("users.info", params={"user": "UDEMO001", "shoe_size": "9"})
            yield sandbox

    monkeypatch.setattr(demo, "open_world", world_with_a_bad_call)
    code, output = run_demo(database_url)

    assert code == 1
    refused = output.split("Real Slack would have refused 1 call(s):")[1]
    assert "shoe_size" in refused


@pytest.mark.parametrize(
    "argv", [["--people", "3"], ["--cycles", "0"], ["--people", "many"], ["--colour", "red"]]
)
def test_bad_arguments_are_refused_by_argparse_without_a_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        demo.main(argv, out=io.StringIO())
    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith("usage: peercoach demo") and "Traceback" not in error


def test_an_unusable_database_url_is_reported_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert demo.main(["--database-url", "nonsense://"], out=io.StringIO()) == 2
    assert "cannot use the database" in capsys.readouterr().err


def test_blocks_render_as_plain_text_with_names_and_buttons() -> None:
    intro = intro_message(
        IntroNotice(
            group_id=7,
            user_ids=("U1", "U2"),
            reasons=("shared_goal:delegation", "same_level"),
            prompts=("What would you stop doing?",),
            asked_about_commitments=True,
        )
    )

    lines = blocks_to_text(intro.blocks, {"U1": "Amara Okafor", "U2": "Bruno Novak"})

    assert lines[:2] == ["Your peer coaching chat this round", "=" * 34]
    assert (
        ":wave: Meet your PeerCoach peers for this round: @Amara Okafor and @Bruno Novak." in lines
    )
    assert "Why you: you both want to work on Delegation; you lead at the same level." in lines
    assert "• What would you stop doing?" in lines
    assert "  I've also asked privately how last round's commitments went." in lines
    assert "[We met] [Can't make it this time] [Reflect] [How to coach]" in lines
    assert not any("<@" in line or "*" in line for line in lines)


def test_demo_ends_with_the_admins_figures_and_chart_without_anyones_words(
    db: Engine, database_url: str, tmp_path
) -> None:
    from bot.sandbox.demo_cast import COMMITMENTS, TAKEAWAYS

    chart = tmp_path / "chart.png"
    code, output = run_demo(database_url, "--chart", str(chart))

    assert code == 0, output
    figures = output.split("Programme figures, as an admin sees them")[1]
    rows = [line for line in figures.splitlines() if re.match(r"^  • \d{2} \w{3} \d{4}: ", line)]
    assert len(rows) == 3
    assert f"chart (people paired and met rate per cycle): {chart}" in figures
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert not any(text in figures for text in [*TAKEAWAYS, *COMMITMENTS])


def test_the_demo_runs_a_second_programme_on_its_own_schedule(
    db: Engine, database_url: str
) -> None:
    code, output = run_demo(database_url)

    assert code == 0, output
    assert "A second programme, Directors: every two weeks on Wednesdays" in output
    assert "6 leaders joined with /peercoach join Directors" in output
    first_round = next(line for line in output.splitlines() if "its first round, Wednesday" in line)
    assert first_round.count(" + ") == 4  # six directors, two coaching circles of three
    assert "coaching circles of 3 kept together for a season" in output
    assert "nobody paired across programmes: yes" in output
    assert "• PeerCoach: active" in output and "• Directors: active 6" in output


def test_show_messages_prints_every_message_and_view_people_saw_as_text(
    db: Engine, database_url: str
) -> None:
    code, output = run_demo(database_url, "--show-messages")

    assert code == 0, output
    seen = output[output.index("Everything people saw while joining") :]
    assert "── modal opened: “Join PeerCoach”" in seen
    assert "│ :wave: Meet your PeerCoach peers for this round:" in seen  # an intro
    assert "── modal opened: “Reflect”" in seen and "│ How useful was it?: [" in seen
    assert re.search(r"── file for Pat Quinn \(programme admin\): .*\n.*│ PeerCoach digest", seen)
    assert "── App Home of " in seen and "<@" not in seen


def test_the_demo_shows_what_happens_to_the_person_who_never_answers(
    db: Engine, database_url: str
) -> None:
    code, output = run_demo(database_url, "--cycles", "4")

    assert code == 0, output
    ghost = re.search(r"one of them, (.+?), will never respond", output).group(1)  # type: ignore[union-attr]
    watch = [line.strip() for line in output.splitlines() if line.startswith("    ")]
    assert any(line.startswith(f"{ghost} never answers.") and "a nudge" in line for line in watch)
    assert "Silent rounds in a row: 1 of 3" in output and "Silent rounds in a row: 3 of 3" in output
    last = cycles_of(output)[-1]
    assert f"  auto-paused: {ghost} (silent three rounds running)" in last
    assert not any(ghost in line for line in last if GROUP.match(line))
    assert any("I've paused your pairing" in line for line in last)
