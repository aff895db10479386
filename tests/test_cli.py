"""The `rolecall` command as an operator meets it."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from handlers.cli import main
from sandbox.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return subprocess.run(
        [sys.executable, "-m", "handlers", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
        cwd=cwd,
    )


def test_a_missing_setting_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("serve", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "rolecall: missing required setting(s): SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET\n"
    )


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/none"})
    assert result.returncode == 2
    assert result.stderr.startswith("rolecall: cannot use the database: OperationalError")
    assert len(result.stderr.splitlines()) == 1


def test_migrate_creates_the_default_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    result = run_cli("migrate", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rolecall.db").exists()


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`rolecall serve` in a subprocess; yields it and its base URL once it is listening."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    slack = FakeSlack().start()  # auth.test names the bot token's workspace at start
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers", "serve", "--host", "127.0.0.1", *args],
        env={
            **clean,
            "SLACK_BOT_TOKEN": "xoxb-cli",
            "SLACK_SIGNING_SECRET": "cli-secret",
            "SLACK_API_URL": slack.api_url,
            **env,
        },
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = ""
        while "listening on" not in line:
            line = process.stderr.readline()
            assert line, "serve exited before listening"
        yield process, line.split("listening on ")[1].strip().removesuffix("/slack/events")
    finally:
        process.terminate()
        code = process.wait(timeout=20)
        slack.stop()
        assert code == 0, process.stderr.read()[-4000:] if process.stderr else ""


def test_serve_answers_health_and_signed_requests(tmp_path: Path) -> None:
    with (
        FakeSlack() as fake,
        serving(
            {
                "SLACK_API_URL": fake.api_url.rstrip("/"),
                "PORT": "0",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
            }
        ) as (_, url),
    ):
        assert httpx.get(f"{url}/healthz").json() == {"ok": True}
        assert httpx.post(f"{url}/slack/events", content=b"{}").status_code == 401


def test_serve_with_two_workers_shares_one_port(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'workers.db'}"}
    with serving(env, "--port", "0", "--workers", "2") as (process, url):
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) >= 2  # the spawned worker (and multiprocessing's resource tracker)
        for _ in range(10):  # new connections are spread across both processes
            assert httpx.get(f"{url}/healthz", headers={"Connection": "close"}).status_code == 200


def demo_step(out: str, step: str) -> str:
    """What the demo transcript shows for one step (`▶ who: action`), up to the next step."""
    start = out.index(f"\n▶ {step}")
    end = out.find("\n▶ ", start + 1)
    return out[start : end if end != -1 else len(out)]


def test_demo_shows_the_loop_and_exits_zero() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "DM to maya:" in out and "[Plan] [Decline] [Duplicate]" in out
    assert "I counted your +1." in out
    # Raised from a message: the reporter hears back in its thread, named.
    acknowledged = demo_step(out, "omar: presses Acknowledge on the blocker card")
    assert "in #launch, a reply in the thread of @lee's message:" in acknowledged
    assert "@lee The blocker you raised in #launch was acknowledged by @omar" in acknowledged
    # Resolve asks for an optional note first; the reporter reads it.
    assert "a modal opens for omar: «Resolve»" in demo_step(out, "omar: presses Resolve")
    resolved = demo_step(out, "omar: writes a note and presses Resolve in the modal")
    assert "@lee The blocker you raised in #launch was resolved by @omar" in resolved
    assert "*Note:* Restarted the primary and added a disk alert." in resolved
    # A near-copy is suggested for a merge; merged, its reporter hears when the original moves.
    near_copy = demo_step(out, "lee: /feedback acme asked for sso")
    assert "Looks like *#1* (0 +1s): Acme asked for SSO before their renewal in March" in near_copy
    assert "[Merge] [Plan]" in near_copy
    merged = demo_step(out, "maya: presses Merge")
    assert "was merged into #1 by @maya: your +1 counts there" in merged
    assert "*Merged into #1* by @maya" in merged
    assert "Raised by @sam in #launch · +1 · #1" in merged  # the original's card counts it
    planned = demo_step(out, "maya: presses Plan on the SSO card")
    assert "DM to lee:\n      │ Something you +1'd in #launch was planned by @maya" in planned
    assert "DM to sam:\n      │ The feedback you raised in #launch was planned by @maya" in planned
    # Feedback that is really a blocker: the project manager gets the card.
    moved = demo_step(out, "maya: presses Move to blockers")
    assert "DM to omar:\n      │ *:no_entry: Blocker* for the project manager of #launch" in moved
    assert "*Moved to the blocker queue* by @maya" in moved
    assert "in #launch, a reply in the thread of @sam's message:" in moved
    assert "was moved to the blocker queue by @maya" in moved
    # Decline asks why; the reporter reads the reason.
    assert "Sorry, only the product manager of #launch can decline this." in out
    assert "a modal opens for maya: «Decline»" in demo_step(out, "maya: presses Decline")
    declined = demo_step(out, "maya: says why and presses Decline in the modal")
    assert (
        "DM to sam:\n      │ The feedback you raised in #launch was declined by @maya." in declined
    )
    assert "*Reason:* Not this quarter: the public beta comes first." in declined
    # Capture with details: the message shortcut's modal opens prefilled.
    shortcut = demo_step(out, "lee: uses “Send to product queue” on sam's message")
    assert "a modal opens for lee: «Feedback»" in shortcut
    assert "Title: [Bulk exports should email a download link when they finish]" in shortcut
    captured = demo_step(out, "lee: retitles it")
    assert "in #product-triage:\n      │ *:bulb: Feedback* for the product manager" in captured
    assert "*Email a link when a bulk export finishes*" in captured
    assert "written by @sam · customer: Globex · impact: high" in captured
    # The time loop.
    assert ":calendar: Milestone *Public beta* is due tomorrow (Wed 2 Dec 2026)" in out
    escalated = demo_step(out, "scheduler: tick at Thu 3 Dec 10:00")
    assert "DM to omar:\n      │ :rotating_light: blocker *#5* from @sam is not" in escalated
    assert "*#8* from @lee is not acknowledged after 24 working hours" in escalated
    assert "is 1 day overdue (was due Wed 2 Dec 2026)" in out
    snoozed = demo_step(out, "lee: presses Snooze until Monday on his reminder")
    assert ":zzz: Snoozed until Mon 7 Dec 2026 by @lee" in snoozed
    assert "Weekly digest — 30 Nov \N{EN DASH} 6 Dec" in out  # the week before Monday
    assert "_lee · 6 days old · owned by omar_" in out  # acknowledged from the digest thread
    # The roadmap, planning as a handoff, scope creep and risks, until the beta ships.
    assert "Theme *Self-serve onboarding* is on #launch's roadmap for 2026-Q4." in out
    assert "Milestone *Public beta* now delivers *Self-serve onboarding* (2026-Q4)." in out
    assert "a modal opens for maya: «Plan»" in demo_step(out, "maya: presses Plan on sam's card")
    planned = demo_step(out, "maya: picks Public beta and presses Plan")
    assert (
        "in #launch, a reply in the thread of @sam's message:\n      │ @sam The feedback you "
        "raised in #launch was planned by @maya for *Public beta* (due Wed 9 Dec 2026)" in planned
    )
    assert "DM to lee:\n      │ Something you +1'd in #launch was planned by @maya" in planned
    frozen = demo_step(out, "omar: /milestone freeze Public beta 2026-12-07")
    assert "*Public beta*'s scope is frozen (since Mon 7 Dec 2026)" in frozen
    creep = demo_step(out, "maya: presses Plan on lee's card and picks Public beta")
    assert "DM to omar:\n      │ *Scope creep* into *Public beta* of #launch" in creep
    assert "[Accept] [Defer]" in creep and "Waiting for the project manager: scope creep" in creep
    accepted = demo_step(out, "omar: presses Accept on the scope creep card")
    assert (
        "DM to maya:\n      │ Scope creep accepted into *Public beta*: due Wed 9 Dec 2026 with 1 "
        "item added after the freeze." in accepted
    )
    assert "*Accepted* by @omar: due Wed 9 Dec 2026" in accepted
    assert "DM to lee:\n      │ The feedback you raised in #launch was planned" in accepted
    market = demo_step(out, "sam: /risk Competitor Zeta cut prices 20%")
    assert "in #product-triage:\n      │ *:chart_with_downwards_trend: Market risk* for" in market
    assert "a modal opens for lee: «Risk»" in demo_step(out, "lee: opens the “Feedback, blocker")
    operational = demo_step(out, "lee: sets Impact to High")
    assert (
        "DM to omar:\n      │ *:warning: Operational risk* for the project manager of #launch · "
        ":rotating_light: *High risk*" in operational
    )
    assert "threatens milestone *Public beta*" in operational
    shown = demo_step(out, "lee: /milestone show Public beta")
    assert "*State:* :warning: at risk: 1 open blocker, 1 high risk" in shown
    assert "*Theme:* Self-serve onboarding (2026-Q4)" in shown
    assert "*Scope creep accepted:* 1 item" in shown
    assert "*Why*: 2 feedback items planned into it" in shown
    assert "*Open high risks* (1)\n      │ • *#12* Our payments vendor may sunset the API" in shown
    assert (
        "*Self-serve onboarding* — 0/1 done\n      │ • *Public beta* — Wed 9 Dec 2026 · "
        ":warning: at risk" in demo_step(out, "sam: /roadmap")
    )
    shipped = demo_step(out, "omar: /milestone done Public beta")
    assert (
        "in #launch, a reply in the thread of @sam's message:\n      │ @sam :rocket: Shipped in "
        "*Public beta*: Trial admins get stuck after signup" in shipped
    )
    assert (
        "DM to lee:\n      │ :rocket: Shipped in *Public beta*: 2 things you asked for in #launch"
        in shipped
    )
    assert out.count("Shipped in") == 2  # once each
    # Each person's Home shows what their role owns.
    maya = demo_step(out, "maya: opens Rolecall's Home tab")
    assert "*Product queue:* 2 open" in maya and "*Product manager* · feedback for #launch" in maya
    assert "*Market risks:* 1 open" in maya
    assert "customer: Globex · impact: high" in maya
    omar = demo_step(out, "omar: opens Rolecall's Home tab")
    assert "*Blockers:* 2 open (1 unacknowledged)" in omar
    assert "*Operational risks:* 1 open, 1 high" in omar
    assert "*Open blockers, unacknowledged first*" in omar
    assert "*Milestones due in the next 14 days*" in omar
    lee = demo_step(out, "lee  (holds no role): opens Rolecall's Home tab")
    assert "You hold no role yet" in lee and "*What you raised*" in lee
    assert "*Product manager*" not in lee and "*Project manager*" not in lee
    assert "Demo finished in" in out


def test_help_lists_the_contract_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "socket", "tick", "migrate", "demo"):
        assert command in out


def test_tick_runs_once_at_the_given_instant_and_exits_zero(tmp_path: Path) -> None:
    with FakeSlack() as fake:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-cli",
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'tick.db'}",
        }
        result = run_cli("tick", "--at", "2026-12-07T09:00", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "tick 2026-12-07T09:00:00+00:00: 0 reminders sent in 0 messages, 0 digests posted, "
        "0 cards and 0 notices re-sent, 0 failed (retried next run)\n"
    )


def test_tick_refuses_an_instant_it_cannot_read(tmp_path: Path) -> None:
    result = run_cli("tick", "--at", "next tuesday", env={"SLACK_BOT_TOKEN": "xoxb-cli"})
    assert result.returncode == 2
    assert "not an ISO-8601 instant: 'next tuesday'" in result.stderr


def seed_export(database_url: str, workspaces: tuple[str, ...] = ("T0001",)) -> list[int]:
    """Three feedback items and a blocker in #launch of the first workspace, one elsewhere."""
    from datetime import UTC, datetime

    from storage.db import Database, make_engine
    from storage.items import ItemStore
    from storage.models import Item, ItemKind, ItemStatus
    from storage.workspaces import WorkspaceStore

    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    engine = make_engine(database_url)
    db = Database(engine)
    for workspace in workspaces:
        WorkspaceStore(db).known(workspace, workspace, None, at)
    ids = []
    for n, (kind, status, text) in enumerate(
        [
            (ItemKind.FEEDBACK, ItemStatus.OPEN, "=1+1 in the sheet"),
            (ItemKind.FEEDBACK, ItemStatus.PLANNED, 'quotes " and, commas\nand lines'),
            (ItemKind.BLOCKER, ItemStatus.OPEN, "db down"),
            (ItemKind.FEEDBACK, ItemStatus.OPEN, "other team"),
        ]
    ):
        item = Item(
            kind=kind,
            team_channel_id="CLAUNCH" if n < 3 else "COTHER",
            text=text,
            reporter_id="UCAROL",
            status=status,
            created_at=at,
            updated_at=at,
        )
        filed, _ = ItemStore(db, workspaces[0]).file(item)
        assert filed.id is not None
        ids.append(filed.id)
    engine.dispose()
    return ids


def test_export_streams_a_teams_items_as_csv_to_stdout(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io

    from bot.export import COLUMNS

    ids = seed_export(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["export", "--team", "CLAUNCH", "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == list(COLUMNS)
    by_column = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [(int(r["id"]), r["kind"], r["status"]) for r in by_column] == [
        (ids[0], "feedback", "open"),
        (ids[1], "feedback", "planned"),
        (ids[2], "blocker", "open"),
    ]
    assert by_column[0]["text"] == "'=1+1 in the sheet"  # never a formula
    assert by_column[1]["text"] == 'quotes " and, commas\nand lines'
    assert by_column[0]["created_at"] == "2026-11-30T08:00:00Z"
    assert err == "exported 3 items of CLAUNCH\n"


def test_export_writes_json_lines_to_a_file(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    ids = seed_export(database_url, ("T0001", "T0002"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    output = tmp_path / "out.jsonl"
    args = ["export", "--team", "CLAUNCH", "--format", "json", "--kind", "feedback"]
    assert main([*args, "--status", "open", "--workspace", "T0001", "--output", str(output)]) == 0
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(line["id"], line["text"]) for line in lines] == [(ids[0], "=1+1 in the sheet")]
    assert lines[0]["votes"] == 0 and lines[0]["title"] is None
    assert main([*args, "--workspace", "T0002", "--output", str(output)]) == 0
    assert output.read_text() == ""  # another workspace's rows are never its


def test_export_refuses_what_it_cannot_do_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_export(database_url, ("T0001", "T0002"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["export", "--team", "CLAUNCH"]) == 2
    assert capsys.readouterr().err == (
        "rolecall: name the workspace with --workspace (this database has: T0001, T0002)\n"
    )
    assert main(["export", "--team", "CLAUNCH", "--workspace", "T0001", "--status", "planned"]) == 2
    assert capsys.readouterr().err == (
        "rolecall: --status planned is not a blocker filter (open acknowledged resolved all); "
        "pick one kind with --kind\n"
    )
    assert main(["export", "--team", "#launch", "--workspace", "T0001"]) == 2
    assert "--team takes a team channel's id" in capsys.readouterr().err
