"""Rolecall end to end under faults: is every acked item stored, carded once, and its reporter
told once when it is planned, with nobody told to "try again" for work that was done?

Runs the fake Slack here and `rolecall serve` as a subprocess (as bench/ack_latency.py does) on
a fresh database per scenario, with a project manager who adds an open milestone: signed
/feedback commands from distinct reporters, then the PM plans some of the cards into that
milestone (presses Plan, picks it from the modal's menu, submits), one card after another as
one person does (Slack keeps one modal open per person), faults on during both; then `rolecall
tick --at` instants minutes later, to let retries land. Each tick runs in a process whose clock
reads --at (as the tests' FixedClock): the plain CLI claims by the wall clock, so no backoff
(1 min, doubling) or claim lease (10 min) would have run out yet (--wall-clock-ticks runs it
plain). Scenarios:
- timeouts: SLACK_TIMEOUT=1; chat.postMessage and chat.update stall 3 s, then land late;
- lost-5xx: a quarter of the cards and notices are posted but answered 500;
- 429-storm: chat.postMessage (and chat.update for plans) answered 429, Retry-After 1 s;
- pg-kills: the server's PostgreSQL connections terminated every 0.05 s (PostgreSQL only);
- kill-9: the server killed after a third of the acks, its cards stalled in Slack (landing
  after it died), and restarted on the same database.
Exits 1 if an acked item is lost, an item uncarded or carded twice, a submitted Plan (its modal
closed) left its item unplanned, a planned item's reporter told never or twice (or not of the
milestone), or anyone told to try again (SORRY, NOT_STORED) for stored work.

Usage: python bench/faults.py [--database-url URL] [--scenario NAME] [--reporters 40]
       [--clicks 10] [--keep-logs DIR] [--wall-clock-ticks]
Without --database-url: SQLite files; with postgresql+psycopg://..., a scratch database per
scenario on that server, dropped afterwards.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from ack_latency import PM, SECRET, TEAM
from sqlalchemy import create_engine, make_url, text

from bot.blocks.handoff import PICK_PLAN_MILESTONE, PLAN
from bot.blocks.modals import metadata
from handlers.errors import SORRY
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("timeouts", "lost-5xx", "429-storm", "pg-kills", "kill-9")
HOLD = 3.0  # seconds a held Slack call stalls: longer than SLACK_TIMEOUT=1
TICKS = (2, 5, 12, 25)  # minutes after the scenario began: past backoffs and the claim lease
RATE = 20.0  # commands per second: faults land mid-burst
PROJECT, MILESTONE = "UPROJECT", "Beta"  # the project manager, and the milestone they add
MODAL_WAIT = 5.0  # seconds a Plan click has to open its modal (Slack's trigger lasts 3)
ACKED = ("sent to", "still filing your")
TRY_AGAIN = (SORRY, "I couldn't store your")
PINNED_TICK = (
    "import sys; from datetime import datetime; import bot.clock as clock; "
    "at = datetime.fromisoformat(sys.argv[1]); clock.utc_now = lambda: at; "
    "from handlers.cli import main; sys.exit(main(['tick', '--at', sys.argv[1]]))"
)


@dataclass
class Row:
    scenario: str
    sent: int = 0
    acked: int = 0
    stored: int = 0
    carded: int = 0
    duplicate_cards: int = 0
    clicks: int = 0
    submitted: int = 0  # Plan modals submitted and closed
    lost_plans: int = 0  # submitted, yet the item is not planned
    planned: int = 0
    told: int = 0
    duplicate_notices: int = 0
    wrong_try_again: int = 0
    lost: int = 0
    stale_cards: int = 0  # planned items whose card still offers Plan (shown, not failed)
    tracebacks: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def failed(self) -> bool:
        doubled = self.duplicate_cards or self.duplicate_notices
        missed = self.carded < self.stored or self.told < self.planned
        lost = self.lost or self.lost_plans
        return bool(lost or doubled or missed or self.wrong_try_again)


class Server:
    """`rolecall serve` on loopback; its stderr and the ticks' output go to `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = {**os.environ, **env}, log
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str, wait: bool = False) -> None:
        with self.log.open("ab") as sink:
            command = [sys.executable, *args]
            if wait:
                subprocess.run(command, env=self.env, cwd=ROOT, stdout=sink, stderr=sink)
            else:
                self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stderr=sink)

    def start(self) -> str:
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.run("-m", "handlers", "serve", "--host", "127.0.0.1", "--port", "0")
        assert self.process is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            found = re.search(r"listening on (\S+)", self.log.read_text()[offset:])
            if found:
                return found.group(1)
            time.sleep(0.05)
        self.stop(kill=True)
        raise RuntimeError(f"rolecall serve did not start; see {self.log}")

    def stop(self, kill: bool = False) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(timeout=60)

    def tick(self, at: datetime, wall_clock: bool) -> None:
        with self.log.open("ab") as sink:
            sink.write(f"--- tick {at.isoformat()}\n".encode())
        if wall_clock:
            self.run("-m", "handlers", "tick", "--at", at.isoformat(), wait=True)
        else:
            self.run("-c", PINNED_TICK, at.isoformat(), wait=True)


def settle(fake: FakeSlack, quiet: float = 2.5, limit: float = 120.0) -> None:
    """Wait until the fake Slack has seen no call for `quiet` seconds (after-ack work done)."""
    deadline, last, since = time.monotonic() + limit, -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(fake.calls) != last:
            last, since = len(fake.calls), time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def paced(count: int, job: Callable[[int], None]) -> None:
    """Run job(0..count-1) open loop at RATE per second, on threads."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        begin = time.monotonic()
        for index in range(count):
            time.sleep(max(0.0, begin + index / RATE - time.monotonic()))
            pool.submit(job, index)


def arm(scenario: str, fake: FakeSlack, phase: str, targets: list[str], db_url: str) -> Any:
    """Turn the scenario's faults on for a phase ("burst" or "clicks"); returns a thread to join
    (or None) once the phase's requests are sent."""
    held = {"timeouts": ["chat.postMessage", "chat.update"], "kill-9": ["chat.postMessage"]}
    if scenario in held and (phase == "burst" or scenario == "timeouts"):
        gates = [fake.hold(method) for method in held[scenario]]
        timer = threading.Timer(HOLD, lambda: any(map(threading.Event.set, gates)))
        timer.start()
        return timer
    if scenario == "lost-5xx":  # a quarter of the cards (burst) or notices (clicks)
        for user in targets[::4]:
            fake.lose_response("chat.postMessage", concerning(user, phase))
    if scenario == "429-storm":
        fake.rate_limit_next("chat.postMessage", retry_after=1, times=len(targets))
        if phase == "clicks":
            fake.rate_limit_next("chat.update", retry_after=1, times=len(targets))
    if scenario == "pg-kills":
        killer = threading.Thread(target=terminate_backends, args=(db_url,))
        killer.start()
        return killer
    return None


def concerning(user: str, phase: str) -> Callable[[dict[str, Any]], bool]:
    """Matches a post of `user`'s card (burst) or of the notice DMed to `user` (clicks)."""
    if phase == "burst":
        return lambda params: f"<@{user}>" in str(params.get("text"))
    return lambda params: params.get("channel") == user


def terminate_backends(db_url: str, times: int = 50, every: float = 0.05) -> None:
    kill = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{make_url(db_url).database}' AND pid <> pg_backend_pid()"
    )
    for _ in range(times):
        time.sleep(every)
        admin(db_url, kill)


@dataclass(frozen=True)
class Card:
    ts: str
    item_id: int
    reporter: str
    plannable: bool


def cards_in(fake: FakeSlack, user: str) -> list[Card]:
    """Rolecall's cards in a person's DM, one per message, read from their blocks."""
    found = []
    for message in fake.dms_to(user):
        blocks = message.get("blocks") or []
        facts = next((b for b in blocks if b.get("block_id") == "item_context"), None)
        parsed = facts and re.search(r"<@(\w+)>.*#(\d+)$", facts["elements"][0]["text"])
        if parsed:
            plannable = "'item_plan'" in repr(blocks)
            found.append(Card(message["ts"], int(parsed.group(2)), parsed.group(1), plannable))
    return found


def seen_texts(fake: FakeSlack, user: str) -> list[str]:
    return [s.text for s in fake.seen_by(user) if s.kind == "ephemeral"]


def set_up(client: SignedClient, fake: FakeSlack, user: str, line: str, done: str) -> None:
    """A setup command (`line`: as typed) in the team channel, waited for until its reply
    says `done`."""
    command, text = line.split(" ", 1)
    before = len(seen_texts(fake, user))
    client.command(command, text, user, TEAM).raise_for_status()
    try:
        fake.wait_for(lambda: any(done in s for s in seen_texts(fake, user)[before:]), 30)
    except TimeoutError:
        said = seen_texts(fake, user)[before:]
        raise RuntimeError(f"{line}: not {done!r}; {user} was told {said}") from None


def plan_modal(fake: FakeSlack, item_id: int) -> dict[str, Any] | None:
    """The PM's Plan modal for the item, once the click opened it; None if it did not open
    within MODAL_WAIT seconds."""

    def shown() -> dict[str, Any] | None:
        views = fake.open_views(PM)
        return next(
            (v for v in views if v["callback_id"] == PLAN and metadata(v).get("item") == item_id),
            None,
        )

    try:
        fake.wait_for(lambda: shown() is not None, MODAL_WAIT)
    except TimeoutError:
        return None
    return shown()


def run_scenario(scenario: str, db_url: str, log: Path, args: argparse.Namespace) -> Row:
    reporters = [f"UR{n:03d}" for n in range(args.reporters)]
    with FakeSlack() as fake:
        assert fake._server is not None  # a client that gave up is no news: no traceback
        fake._server.handle_error = lambda *_: None  # type: ignore[method-assign]
        fake.add_user(PM, "pm")
        fake.add_user(PROJECT, "pj")
        for user in reporters:
            fake.add_user(user, user.lower())
        fake.add_channel(TEAM, "bench", [PM, PROJECT, *reporters])
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": db_url,
            "SLACK_TIMEOUT": "1" if scenario == "timeouts" else "10",
        }
        server, began = Server(env, log), datetime.now(UTC)
        clients = [SignedClient(server.start(), SECRET, fake)]
        acked: set[str] = set()
        lock = threading.Lock()

        def feedback(index: int) -> None:
            user = reporters[index]
            try:
                reply = clients[-1].command("/feedback", f"Idea {index} of {user}", user, TEAM)
            except httpx.HTTPError:
                return  # the server is down: Slack shows the user an error
            if reply.status_code == 200 and any(a in reply.text for a in ACKED):
                with lock:
                    acked.add(user)
                    if scenario == "kill-9" and len(acked) == args.reporters // 3:
                        server.stop(kill=True)

        def plan(card: Card) -> bool:
            """The PM presses Plan on the card, picks the milestone from the modal's menu and
            submits: whether the submission was taken (the modal closed)."""
            client = clients[-1]
            try:
                reply = client.click(PM, dm, card.ts, "item_plan", str(card.item_id))
                if SORRY in reply.text:  # an apology in the ack itself
                    fake.record_reply(PM, dm, reply)
                    return False
                view = plan_modal(fake, card.item_id)
                if view is None:
                    return False  # no modal opened: its apology, if any, is counted
                menu = client.block_suggestion(
                    PICK_PLAN_MILESTONE, "milestone", MILESTONE, PM, view
                )
                options = menu.json()["options"] if menu.status_code == 200 else []
                if not options:
                    return False
                answers = state_values(view, {PICK_PLAN_MILESTONE: options[0]["value"]})
                reply = client.view_submission(view, PM, answers)
            except httpx.HTTPError:
                return False
            return reply.status_code == 200 and not reply.content

        try:
            set_up(clients[0], fake, PM, f"/role <@{PM}|pm> product", "is now the")
            set_up(clients[0], fake, PM, f"/role <@{PROJECT}|pj> project", "is now the")
            due = (began + timedelta(days=60)).date()  # open (unfrozen) past every tick
            set_up(clients[0], fake, PROJECT, f"/milestone add {MILESTONE} {due}", "added for")
            settle(fake)
            waiting = arm(scenario, fake, "burst", reporters, db_url)
            paced(len(reporters), feedback)
            if waiting is not None:
                waiting.join()
            if scenario == "kill-9":
                server.stop(kill=True)  # if a third of the acks never came, it dies here
                clients.append(SignedClient(server.start(), SECRET, fake))
            settle(fake)
            buttons = [card for card in cards_in(fake, PM) if card.plannable][: args.clicks]
            dm = fake.dm_channel(PM)
            waiting = arm(scenario, fake, "clicks", [c.reporter for c in buttons], db_url)
            submitted = {card.item_id for card in buttons if plan(card)}
            if waiting is not None:
                waiting.join()
            settle(fake)
            for minutes in TICKS:
                server.tick(began + timedelta(minutes=minutes), args.wall_clock_ticks)
                settle(fake)
        finally:
            for client in clients:
                client.close()
            server.stop()
    clicked = {card.item_id for card in buttons}
    row = measure(Row(scenario, args.reporters), fake, db_url, acked, clicked, submitted)
    row.tracebacks = tracebacks(log)
    row.details.append(f"server and tick ERROR lines: {log.read_text().count(' ERROR ')}")
    return row


def measure(
    row: Row,
    fake: FakeSlack,
    db_url: str,
    acked: set[str],
    clicked: set[int],
    submitted: set[int],
) -> Row:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            items = connection.execute(text("SELECT id, reporter_id, status FROM item")).all()
    finally:
        engine.dispose()
    stored = {str(reporter): (int(item_id), str(status)) for item_id, reporter, status in items}
    cards = Counter(card.item_id for card in cards_in(fake, PM))
    row.acked, row.stored = len(acked), len(items)
    row.carded = sum(1 for item_id, _ in stored.values() if cards[item_id])
    row.duplicate_cards = sum(count - 1 for count in cards.values() if count > 1)
    seen = row.details.append
    for item_id, status in stored.values():
        if cards[item_id] != 1:
            seen(f"item #{item_id} ({status}): {cards[item_id]} cards")
    for user in (u for u in fake.users if u.startswith("UR")):
        said = seen_texts(fake, user)
        if user in acked and user not in stored and not any(TRY_AGAIN[1] in s for s in said):
            row.lost += 1
            seen(f"{user}: acked, never stored")
        item_id, status = stored.get(user, (0, ""))
        for wrong in [s for s in said if item_id and any(t in s for t in TRY_AGAIN)]:
            row.wrong_try_again += 1
            seen(f"{user}: item #{item_id} stored, yet told {wrong[:50]!r}...")
        if status == "planned":
            told = f"was planned by <@{PM}> for *{MILESTONE}*"
            notices = [m for m in fake.dms_to(user) if told in m["text"]]
            row.planned, row.told = row.planned + 1, row.told + bool(notices)
            row.duplicate_notices += len(notices) > 1
            if len(notices) != 1:
                seen(f"{user}: item #{item_id} planned, reporter told {len(notices)} times")
    planned = {item_id for item_id, status in stored.values() if status == "planned"}
    row.clicks, row.submitted = len(clicked), len(submitted)
    row.lost_plans = len(submitted - planned)
    for item_id in sorted(submitted - planned):
        seen(f"item #{item_id}: its Plan was submitted, yet it is not planned")
    row.stale_cards = sum(c.plannable and c.item_id in planned for c in cards_in(fake, PM))
    sorry = sum(1 for s in seen_texts(fake, PM) if SORRY in s)
    if sorry:  # at most one apology per click that did not plan its item is deserved
        row.wrong_try_again += max(0, sorry - len(clicked - planned))
        seen(f"{PM}: told SORRY {sorry}x; {len(clicked & planned)}/{len(clicked)} clicks stored")
    answers = Counter(f"{c.method} {c.status}" for c in fake.calls if c.error)
    seen(f"Slack answered errors: {dict(answers)}")
    return row


def tracebacks(log: Path) -> list[str]:
    """The exception each logged traceback ended in (the last of a chain)."""
    found = []
    for record in re.split(r"\n(?=\d{4}-\d\d-\d\d |--- tick)", log.read_text(errors="replace")):
        ends = re.findall(r"^Traceback.*\n(?:[ \t].*\n)*(.+)", record, re.MULTILINE)
        if ends:
            found.append(ends[-1][:160])
    return found


def database_for(base: str | None, folder: Path, scenario: str) -> str:
    """A fresh database for a scenario: an SQLite file, or a scratch PostgreSQL database."""
    if base is None:
        return f"sqlite:///{folder}/{scenario}.db"
    name = f"faults_bench_{os.getpid()}_{scenario.replace('-', '_')}"
    admin(base, f'CREATE DATABASE "{name}"')
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--database-url", help="default: a fresh SQLite file per scenario")
    options.add_argument("--scenario", choices=SCENARIOS, help="default: all")
    options.add_argument("--reporters", type=int, default=40)
    options.add_argument("--clicks", type=int, default=10)
    options.add_argument("--keep-logs", metavar="DIR", help="copy the server logs there")
    options.add_argument("--wall-clock-ticks", action="store_true", help="the plain CLI's ticks")
    args = options.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="faults-") as name:
        for scenario in [args.scenario] if args.scenario else SCENARIOS:
            if scenario == "pg-kills" and not (args.database_url or "").startswith("postgres"):
                print("pg-kills: skipped (needs --database-url postgresql...)", file=sys.stderr)
                continue
            started, log = time.monotonic(), Path(name) / f"{scenario}.log"
            db_url = database_for(args.database_url, Path(name), scenario)
            try:
                rows.append(run_scenario(scenario, db_url, log, args))
            finally:
                if args.database_url:
                    dropped = make_url(db_url).database
                    admin(args.database_url, f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')
                if args.keep_logs:
                    Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                    (Path(args.keep_logs) / log.name).write_bytes(log.read_bytes())
            print(f"{scenario}: {time.monotonic() - started:.0f}s", file=sys.stderr)
            for line in rows[-1].details:
                print(f"  {line}", file=sys.stderr)
            for line, count in Counter(rows[-1].tracebacks).most_common(5):
                print(f"  traceback {count} x {line}", file=sys.stderr)
    report(rows, "PostgreSQL" if args.database_url else "SQLite", args)
    return 1 if any(row.failed() for row in rows) else 0


def report(rows: list[Row], backend: str, args: argparse.Namespace) -> None:
    total = Row("**total**")
    for row in rows:
        for name, value in vars(row).items():
            if isinstance(value, int):
                setattr(total, name, getattr(total, name) + value)
        total.tracebacks += row.tracebacks
    print(
        f"\n{backend}: {args.reporters} /feedback commands from distinct reporters and up to "
        f"{args.clicks} Plans (click, modal, milestone picked, submit) per scenario; ticks at "
        f"+{', +'.join(map(str, TICKS))} min\n"
    )
    print(
        "| scenario | acked | stored | carded | duplicate cards | Plan submitted (of clicks) "
        "| submitted, not planned | reporters told (of planned) | duplicate notices "
        '| wrongly told "try again" | lost | planned, card still offers Plan '
        "| server tracebacks |"
    )
    print("|---" * 13 + "|")
    for row in [*rows, total]:
        print(
            f"| {row.scenario} | {row.acked}/{row.sent} | {row.stored} | "
            f"{row.carded}/{row.stored} | {row.duplicate_cards} | {row.submitted}/{row.clicks} | "
            f"{row.lost_plans} | {row.told}/{row.planned} | {row.duplicate_notices} | "
            f"{row.wrong_try_again} | {row.lost} | {row.stale_cards} | {len(row.tracebacks)} |"
        )


if __name__ == "__main__":
    sys.exit(main())
