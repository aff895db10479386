"""One team with 100,000 items, served by `rolecall serve`: lists, App Home, an export and a
role taken over a backlog, each timed over the wire, with the server's memory.

Why: a team's queue grows without bound, and every read of it must stay a page. Before the
paged queues (commit 20cac3c) `/feedback list` took 3.0 s with 80,000 feedback and 20,000
blockers, the server grew from 79 MB to 226 MB, and taking a role over the backlog sent
1,848 DMs in 30 s. The targets (issue): `/feedback list` acked < 100 ms, App Home built
< 100 ms, RSS < 200 MB after a list, Home and export; a role taken over a 10,000-item backlog
sends one message.

Seeds (bulk inserts, all filed more than a day ago): team #big-team with --feedback open
feedback and --blockers open blockers (some +1'd, some #tagged), its project manager set and no
product manager; team #backlog-team with --backlog open feedback and no roles at all. Then starts
`rolecall serve` (as bench/ack_latency.py starts it: its own process, so its RSS is its own)
against a fake Slack that notes when each call arrives, waits for the server's first scheduled
run of the time loop (at start; its blockers escalate), and measures:
1. `/feedback list` and `/blocker list`: the signed command's HTTP response (the page is in
   the ack), --runs times each; the "More" button: click to the next page at the response_url;
2. App Home: `app_home_opened` to the `views.publish` the fake receives (the project manager's);
3. `/feedback export`: the command to the file shared in the person's DM, and its CSV rows;
4. taking the product role: `/role @pm product` in #backlog-team (by the PM) and in #big-team
   (by its project manager), then every DM to the PM until a scheduled run after it has
   finished (or --watch seconds); then the PM's Home, now over the feedback backlog;
5. `/feedback` filed in #big-team: the ack, and the card the PM receives;
6. the server's RSS (VmRSS, and its peak VmHWM) at start and after each step;
7. in this process, after the server stops: `Home.view` (reads and Block Kit, no publish) on
   the same database, for comparison with (2) (as bench/home.py measures it).
A step is started clear of the server's minute runs (it waits for one due meanwhile).

Usage: python bench/scale.py [--feedback 80000] [--blockers 20000] [--backlog 10000]
       [--runs 10] [--exports 2] [--watch 75] [--database-url URL]
Without --database-url it uses a fresh SQLite file (not ANALYZEd: Rolecall never runs it on
SQLite); with a PostgreSQL URL, a schema of its own (rolecall_bench_scale), ANALYZEd after the
seed as autovacuum would, and dropped at the end.
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from ack_latency import SECRET, machine_speed, scratch_databases, start
from slack_sdk import WebClient
from sqlalchemy import insert, select
from sqlmodel import col
from time_loop import analyze
from workspaces import scheduled_runs

from bot.blocks.lists import MORE_ACTION
from bot.export import EXPORTING
from bot.home import Home
from bot.membership import Membership
from handlers.runtime import TICK_SECONDS, connect
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import Database, make_engine
from storage.models import Item, ItemKind, ItemStatus, ItemVote, Role
from storage.planning import PlanningStore
from storage.queues import QueueStore
from storage.teams import TeamStore

WORKSPACE = "T0001"  # the fake Slack's workspace
BIG, BACKLOG = "CBIGTEAM", "CBACKLOG"
PM, PROJECT, REPORTER = "UPM", "UPROJECT", "UREPORTER"
SPAN = timedelta(days=200)  # the items were filed over this long, the newest a day ago
TARGET_MS, TARGET_MB = 100.0, 200.0


@dataclass(frozen=True)
class Timed:
    """A Web API call (or a response_url post) as the fake received it."""

    at: float  # time.perf_counter() on arrival
    method: str
    params: dict[str, Any]
    ok: bool


class TimedFake(FakeSlack):
    """The fake Slack, noting when each call arrives: the benches time what an app does after
    its ack (a modal opened, a Home published, a reply sent) by when Slack received it."""

    def __init__(self) -> None:
        super().__init__()
        self.timed: list[Timed] = []

    def _api(
        self, method: str, params: dict[str, Any], headers: Any
    ) -> tuple[int, dict[str, Any], int | None]:
        at = time.perf_counter()
        status, body, retry_after = super()._api(method, params, headers)
        self._note(Timed(at, method, params, bool(body.get("ok"))))
        return status, body, retry_after

    def _respond(self, channel_id: str, user_id: str, params: dict[str, Any]) -> tuple[int, Any]:
        at = time.perf_counter()
        status, body = super()._respond(channel_id, user_id, params)
        self._note(Timed(at, "response_url", params, status == 200))
        return status, body

    def __enter__(self) -> "TimedFake":
        self.start()
        return self

    def _note(self, call: Timed) -> None:
        with self._changed:
            self.timed.append(call)
            self._changed.notify_all()

    def first(
        self,
        method: str,
        since: float,
        matches: Callable[[dict[str, Any]], bool] = lambda _: True,
        timeout: float = 60.0,
    ) -> Timed:
        """The first call to `method` received after `since` (time.perf_counter()) whose
        parameters match, waited for."""
        found: list[Timed] = []

        def seen() -> bool:
            calls = (c for c in self.timed if c.method == method and c.at >= since)
            found[:] = [c for c in calls if matches(c.params)][:1]
            return bool(found)

        self.wait_for(seen, timeout)
        return found[0]


@dataclass
class Server:
    """`rolecall serve` in its own process, and what it logged as warnings or errors."""

    process: subprocess.Popen[str]
    url: str
    started: float  # time.monotonic() when it said it was listening
    problems: list[str] = field(default_factory=list)
    memory: list[tuple[str, float, float]] = field(default_factory=list)  # (after, RSS, peak)

    @property
    def base(self) -> str:
        return self.url.removesuffix("/slack/events")

    def ticks(self) -> tuple[int, float]:
        """The server's runs of the time loop so far, and their seconds added up."""
        return scheduled_runs(httpx.get(f"{self.base}/metrics", timeout=30).text)

    def wait_for_tick(self, after: int, timeout: float = 300.0) -> tuple[int, float]:
        """Until the server has finished more than `after` scheduled runs."""
        deadline = time.monotonic() + timeout
        while (found := self.ticks())[0] <= after:
            if time.monotonic() > deadline:
                raise TimeoutError("the server's time loop did not run")
            time.sleep(1.0)
        return found

    def clear_of_tick(self, seconds: float) -> None:
        """Make sure no scheduled run starts in the next `seconds` (its runs come every minute
        from start): if one is due sooner, wait until it has finished."""
        since_start = time.monotonic() - self.started
        due_in = TICK_SECONDS - since_start % TICK_SECONDS
        if due_in < seconds:
            count = self.ticks()[0]
            time.sleep(due_in)
            self.wait_for_tick(count)

    def note_memory(self, after: str) -> None:
        rss, peak = memory_mb(self.process.pid)
        self.memory.append((after, rss, peak))
        print(f"  RSS after {after}: {rss:.0f} MB (peak {peak:.0f} MB)", flush=True)


def memory_mb(pid: int) -> tuple[float, float]:
    """A process's resident memory now and at its peak, in MB (Linux /proc)."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def seed(db: Database, feedback: int, blockers: int, backlog: int) -> None:
    """The teams' items, filed over `SPAN` up to a day ago (so no run of the time loop owes
    them a card), every tenth feedback +1'd, one in twenty #pricing, one in fifty #mobile."""
    now = datetime.now(UTC)
    TeamStore(db, WORKSPACE).assign(BIG, PROJECT, Role.PROJECT, PROJECT, now)
    rows: list[dict[str, Any]] = []
    for team, kind, count in (
        (BIG, ItemKind.FEEDBACK, feedback),
        (BIG, ItemKind.BLOCKER, blockers),
        (BACKLOG, ItemKind.FEEDBACK, backlog),
    ):
        step = SPAN / max(count, 1)
        for n in range(count):
            at = now - timedelta(days=1) - SPAN + step * n
            rows.append(
                {
                    "workspace_id": WORKSPACE,
                    "kind": kind.value,
                    "team_channel_id": team,
                    "text": f"{kind.value} {n}: exports time out over 10k rows, says a customer",
                    "reporter_id": f"U{n % 50:04d}",
                    "source_channel_id": team,
                    "source_ts": f"{1_600_000_000 + n}.000100",
                    "status": ItemStatus.OPEN.value,
                    "tags": " pricing " if n % 20 == 3 else " mobile " if n % 50 == 7 else "",
                    "vote_count": n % 7 + 1 if kind is ItemKind.FEEDBACK and n % 10 == 2 else 0,
                    "created_at": at,
                    "updated_at": at,
                }
            )
    with db.engine.begin() as connection:
        for first in range(0, len(rows), 5_000):
            connection.execute(insert(Item), rows[first : first + 5_000])
        voted = connection.execute(
            select(col(Item.id), col(Item.vote_count), col(Item.created_at)).where(
                col(Item.vote_count) > 0
            )
        ).all()
        votes = [
            {"workspace_id": WORKSPACE, "item_id": item_id, "user_id": f"UV{v}", "created_at": at}
            for item_id, count, at in voted
            for v in range(count)
        ]
        for first in range(0, len(votes), 5_000):
            connection.execute(insert(ItemVote), votes[first : first + 5_000])
    analyze(db)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(values: list[float]) -> str:
    return f"median {ms(statistics.median(values))}, max {ms(max(values))} ({len(values)} runs)"


def dm(user_id: str) -> str:
    return "D" + user_id[1:]


class Bench:
    """The measures, against one server, one fake Slack and its signed client."""

    def __init__(self, fake: TimedFake, server: Server, runs: int) -> None:
        self.fake = fake
        self.server = server
        self.runs = runs
        self.slack = SignedClient(server.url, SECRET, fake)
        self.results: dict[str, list[float]] = {}
        self.notes: list[str] = []

    def keep(self, name: str, value: float) -> None:
        self.results.setdefault(name, []).append(value)

    def lists(self) -> None:
        for command in ("/feedback", "/blocker"):
            more = ""
            for _ in range(self.runs):
                started = time.perf_counter()
                response = self.slack.command(command, "list", REPORTER, BIG)
                self.keep(f"{command} list ack", time.perf_counter() - started)
                reply = response.json()
                if not reply.get("blocks"):
                    self.notes.append(f"{command} list acked without its page: {reply.get('text')}")
                more = more_value(reply.get("blocks") or [])
            for _ in range(self.runs):  # the second page, as "More" shows it
                started = time.perf_counter()
                self.slack.click(REPORTER, BIG, "1.0", MORE_ACTION, more, ephemeral=True)
                shown = self.fake.first("response_url", started, lambda p: "blocks" in p)
                self.keep(f"{command} list More", shown.at - started)

    def home(self, user_id: str, name: str) -> None:
        for _ in range(self.runs):
            started = time.perf_counter()
            event = {"type": "app_home_opened", "user": user_id, "channel": dm(user_id)}
            self.slack.event({**event, "tab": "home", "event_ts": f"{time.time():.6f}"})
            published = self.fake.first("views.publish", started, lambda p: p["user_id"] == user_id)
            self.keep(name, published.at - started)

    def export(self, exports: int) -> None:
        for _ in range(exports):
            started = time.perf_counter()
            response = self.slack.command("/feedback", "export", PROJECT, BIG)
            self.keep("/feedback export ack", time.perf_counter() - started)
            if response.text != EXPORTING:
                self.notes.append(f"/feedback export acked with: {response.text}")
            self.fake.first("files.completeUploadExternal", started, timeout=300)
            self.keep("/feedback export, to the file in the DM", time.perf_counter() - started)
            _, data, _ = self.fake.files_in(dm(PROJECT))[-1]
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
            self.keep("/feedback export rows", len(rows) - 1)

    def file(self) -> None:
        """New feedback into #big-team once it has a PM: the ack, and the PM's card (filing
        compares new feedback with the team's newest open items)."""
        for n in range(self.runs):
            text = f"Scale check {n}: the bulk editor drops changes after an hour"
            started = time.perf_counter()
            self.slack.command("/feedback", text, REPORTER, BIG).raise_for_status()
            self.keep("/feedback filed in #big-team: ack", time.perf_counter() - started)
            card = self.fake.first("chat.postMessage", started, partial(carries, text))
            self.keep("/feedback filed in #big-team: to the PM's card", card.at - started)

    def take_roles(self, watch: float) -> list[str]:
        """`/role @pm product` in both teams, then every DM to the PM until a scheduled run
        after them has finished (or `watch` seconds). Returns what the PM was sent."""
        before = len(self.fake.dms_to(PM))
        ticks = self.server.ticks()[0]
        started = time.perf_counter()
        for team, actor in ((BACKLOG, PM), (BIG, PROJECT)):
            sent = time.perf_counter()
            self.slack.command("/role", f"<@{PM}> product", actor, team).raise_for_status()
            reply = self.fake.first("response_url", sent, lambda p: "product" in p.get("text", ""))
            self.keep(f"/role in #{team}: reply", reply.at - sent)
            self.notes.append(f"/role <@{PM}> product in {team}, reply: {reply.params['text']}")
        self.server.note_memory("the /role commands")
        deadline = time.monotonic() + watch
        while time.monotonic() < deadline and self.server.ticks()[0] <= ticks:
            time.sleep(1.0)
        waited = time.perf_counter() - started
        sent_to_pm = [m["text"] for m in self.fake.dms_to(PM)[before:]]
        posts = [c for c in self.fake.timed if c.method == "chat.postMessage" and c.at >= started]
        self.notes.append(
            f"in the {waited:.0f} s after the /role commands (through "
            f"{self.server.ticks()[0] - ticks} scheduled run(s)): {len(sent_to_pm)} DMs to the "
            f"PM, {len(posts)} chat.postMessage calls in all"
        )
        return sent_to_pm


def carries(text: str, params: dict[str, Any]) -> bool:
    """Whether a post's text carries `text` (a card's does: who raised it, then the text)."""
    return text in str(params.get("text", ""))


def more_value(blocks: list[dict[str, Any]]) -> str:
    """The value of a list page's "More" button."""
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == MORE_ACTION:
                return str(element["value"])
    raise AssertionError("the list page has no More button")


def build_times(fake: FakeSlack, url: str, runs: int) -> dict[str, list[float]]:
    """`Home.view` in this process (every read and the Block Kit, nothing published; Slack
    is asked who is in each team's channel, once a minute)."""
    engine = make_engine(url)
    db = Database(engine)
    client = WebClient(token=fake.token, base_url=fake.api_url)
    home = Home(
        QueueStore(db, WORKSPACE),
        TeamStore(db, WORKSPACE),
        PlanningStore(db, WORKSPACE),
        client,
        lambda: datetime.now(UTC),
        membership=Membership(client),
    )
    times: dict[str, list[float]] = {}
    try:
        for user_id, name in ((PROJECT, "project manager"), (PM, "product manager")):
            for _ in range(runs):
                started = time.perf_counter()
                home.view(user_id)
                times.setdefault(f"Home.view in process, {name}", []).append(
                    time.perf_counter() - started
                )
    finally:
        engine.dispose()
    return times


def serve(fake: FakeSlack, database_url: str) -> Server:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": database_url,
    }
    command = [sys.executable, "-m", "handlers", "serve", "--host", "127.0.0.1", "--port", "0"]
    problems: list[str] = []
    process, url = start(command, env, problems)
    return Server(process, url, time.monotonic(), problems)


def run(args: argparse.Namespace, fake: TimedFake, database_url: str) -> int:
    settings = Settings(
        slack_bot_token="xoxb-bench", slack_api_url=fake.api_url, database_url=database_url
    )
    db = connect(settings).tenants.db  # migrated, the workspace recorded
    started = time.perf_counter()
    seed(db, args.feedback, args.blockers, args.backlog)
    db.dispose()
    print(
        f"seeded {args.feedback:,} feedback + {args.blockers:,} blockers in #big-team and "
        f"{args.backlog:,} feedback in #backlog-team in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    server = serve(fake, database_url)
    bench = Bench(fake, server, args.runs)
    sent_to_pm: list[str] = []
    try:
        server.note_memory("start")
        _, seconds = server.wait_for_tick(0)
        posts = [c for c in fake.timed if c.method == "chat.postMessage"]
        size = sum(len(json.dumps(c.params.get("blocks") or [])) for c in posts)
        bench.notes.append(
            f"the first scheduled run (at start) took {seconds:.1f}s and posted {len(posts)} "
            f"messages ({', '.join(c.params.get('text', '') for c in posts)}; "
            f"{size / 1000:.0f} kB of blocks in all)"
        )
        server.note_memory("the first scheduled run")
        server.clear_of_tick(20)
        bench.lists()
        server.note_memory("the lists")
        server.clear_of_tick(10)
        bench.home(PROJECT, "App Home, project manager: event to views.publish")
        server.note_memory("App Home")
        server.clear_of_tick(30)
        bench.export(args.exports)
        server.note_memory("the exports")
        server.clear_of_tick(10)
        sent_to_pm = bench.take_roles(args.watch)
        server.note_memory("a scheduled run after them")
        server.clear_of_tick(10)
        bench.home(PM, "App Home, product manager: event to views.publish")
        server.note_memory("the product manager's Home")
        server.clear_of_tick(10)
        bench.file()
        server.note_memory("filing feedback")
        ticks, tick_seconds = server.ticks()
    finally:
        server.process.terminate()
        server.process.wait(timeout=60)
        bench.slack.close()
    bench.results.update(build_times(fake, database_url, args.runs))
    report(args, bench, sent_to_pm, (ticks, tick_seconds))
    return 0


def report(
    args: argparse.Namespace, bench: Bench, sent_to_pm: list[str], ticks: tuple[int, float]
) -> None:
    results, server = bench.results, bench.server
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{backend}; {os.cpu_count()} cores shared by the server, this bench and the fake")
    print("| measure | value | target | |")
    print("|---|---|---|---|")

    def row(name: str, value: str, target: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else "met" if met else "**MISSED**"
        print(f"| {name} | {value} | {target} | {verdict} |")

    for name, values in results.items():
        if name == "/feedback export rows":
            want = args.feedback
            row(
                "export CSV rows",
                ", ".join(f"{v:,.0f}" for v in values),
                f"= {want:,}",
                all(v == want for v in values),
            )
        elif name.endswith(" list ack") or name.startswith("App Home"):
            median = statistics.median(values) * 1000
            row(name, spread(values), f"< {TARGET_MS:.0f} ms (median)", median < TARGET_MS)
        else:
            row(name, spread(values))
    for after, rss, peak in server.memory:
        judged = after not in ("start", "the first scheduled run")
        target = f"< {TARGET_MB:.0f} MB" if judged else ""
        row(
            f"RSS after {after} (peak)",
            f"{rss:.0f} MB ({peak:.0f} MB)",
            target,
            rss < TARGET_MB if judged else None,
        )
    backlog = [t for t in sent_to_pm if "waited for" in t]
    for team in (BACKLOG, BIG):
        told = [t for t in backlog if f"<#{team}>" in t]
        row(f"backlog messages to the new PM, #{team}", str(len(told)), "1", len(told) == 1)
    row("all DMs to the new PM after /role", str(len(sent_to_pm)))
    print()
    for note in bench.notes:
        print(f"- {note}")
    for text in sent_to_pm:
        print(f"- DM to the PM: {text}")
    count, seconds = ticks
    print(f"- the server's scheduled runs: {count}, {seconds:.1f}s in all")
    failed = [c for c in bench.fake.timed if not c.ok]
    print(
        f"- Web API calls that failed: {len(failed)}; server warnings and errors: "
        f"{len(server.problems)}"
    )
    for line in server.problems[:10]:
        print(f"    {line}")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--feedback", type=int, default=80_000, help="open, in #big-team")
    options.add_argument("--blockers", type=int, default=20_000, help="open, in #big-team")
    options.add_argument("--backlog", type=int, default=10_000, help="feedback in #backlog-team")
    options.add_argument("--runs", type=int, default=10, help="of each list, More and Home")
    options.add_argument("--exports", type=int, default=2)
    options.add_argument(
        "--watch", type=float, default=75.0, help="seconds, at most, to count DMs after /role"
    )
    options.add_argument("--database-url", help="PostgreSQL (default: a SQLite file)")
    args = options.parse_args()
    speed = machine_speed()
    print(f"a 10M-step loop took {speed:.2f} s", flush=True)
    with TimedFake() as fake, tempfile.TemporaryDirectory() as folder:
        fake.add_user(PM, "pm")
        fake.add_user(PROJECT, "project")
        fake.add_user(REPORTER, "reporter")
        fake.add_channel(BIG, "big-team", [PM, PROJECT, REPORTER])
        fake.add_channel(BACKLOG, "backlog-team", [PM, REPORTER])
        (database_url,), drop = scratch_databases(args.database_url, folder, ["scale"])
        try:
            return run(args, fake, database_url)
        finally:
            drop()


if __name__ == "__main__":
    sys.exit(main())
