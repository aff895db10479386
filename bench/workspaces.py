"""Ack latency and routing throughput with 100 workspaces installed, against one workspace.

The bar: `rolecall serve` with 100 workspaces is no worse than with one by more than 10%.

Two stacks, each a fake Slack, a fresh database and a `rolecall serve` started as
bench/ack_latency.py starts it, in OAuth mode (the fake's client id and secret): (a) with one
workspace installed, (b) with --workspaces. Each workspace is installed through the real OAuth
flow (GET /slack/install, then Slack's redirect to /slack/oauth_redirect with the code and the
state cookie) and has a team channel whose product manager is set by `/role`. Each stack is
started and set up in turn (so their schedulers' runs come apart):
1. process warm-up: a workspace outside the measured ones is installed, files 30 items (cards
   and all), then uninstalls the app (which drops its cached bot and services);
2. cold: the first /feedback of each measured workspace since its install (the server reads
   its bot from the installation store and builds its services), one per workspace at --rate;
3. warm-up: 3 x --workspaces commands round-robin (the same count for both stacks), so every
   workspace's bot and services are cached before measuring.
Then, alternating between the stacks (a b, b a, a b, ...) so that whatever else the machine is
doing falls on both alike:
4. steady: signed /feedback at --rate, round-robin across the stack's workspaces, in --slices
   slices making --seconds in all: ack p50/p99 (client side, request sent -> response read;
   the p99 judged is the median of the slices' p99s, which a few seconds of the whole machine
   stalling move little), card latency (request sent -> card posted to the PM, the fake's
   message ts) and routing throughput (items / first request sent -> last card posted);
5. burst: --burst commands in --burst-rounds rounds, --concurrency in flight: items/s until the
   last card of each round.
6. (unless --no-tick) steady load across each server's next scheduled run of the time loop
   (every 60 s, for every installed workspace, in the serving process): from 2 s before it
   until 1 s after it ran for every workspace. With the steady acks it gives an estimate of
   the ack p99 over a minute (the acks across the run stand for the seconds they span). For a
   direct measure, give each stack one slice longer than a minute:
   `--seconds 65 --slices 1 --no-tick`.
Also printed: the server's CPU per item, the CPU other processes used meanwhile (the machine may
be shared: each run first waits up to --quiet-wait seconds for it to go quiet), and the
scheduler's workspace runs that fell into the measures.
Exits 1 if, with --workspaces installed, the steady ack p99 or the ack p99 over a minute is more
than 10% above one workspace's, or steady or burst throughput more than 10% below (after
printing everything).

Usage: python bench/workspaces.py [--rate 100] [--seconds 6] [--workspaces 100] [--burst 300]
       [--slices 6] [--burst-rounds 3] [--concurrency 16] [--quiet-wait 60] [--no-tick]
       [--database-url URL]
Without --database-url each stack uses a fresh SQLite file. With a PostgreSQL URL each stack
uses a schema of its own in that database (rolecall_bench_one, rolecall_bench_many), dropped
and created anew at the start and dropped at the end.
"""

import argparse
import asyncio
import gc
import html
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from urllib.parse import parse_qs, urlparse

import httpx
from ack_latency import SECRET, percentile, scratch_databases, signed_command, start
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient

TEAM, PM, REPORTER = "CBENCH", "UPM", "UREPORTER"
DM = "D" + PM[1:]  # the fake's DM between the bot and the PM, where cards land
LABEL = re.compile(r"\b(cold|warm|steady|burst|tick)-(\d+)\b")
TICKS = re.compile(r"^rolecall_tick_seconds_(count|sum) ([0-9.e+]+)$", re.MULTILINE)
WARM_PER_WORKSPACE = 3
TICK_PERIOD = 60.0  # seconds between the server's runs of the time loop (its scheduler's)
LEAD = 2.0  # seconds of load before a scheduled run is due
NOISY = 0.25  # cores other processes may use during the measures before the run is flagged
MARGIN = 1.10  # the bar: no worse by more than 10%


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far (Linux /proc; zeros elsewhere): the machine's, and per process
    of the servers given, this process (the load generator and the fake Slacks) and PostgreSQL.
    A difference counts a process only while it lives: one that ended meanwhile (someone
    else's connection to PostgreSQL, say) falls to "others"."""

    machine: float = 0.0  # busy: neither idle nor waiting on a disk
    used: dict[int, tuple[str, float]] = field(default_factory=dict)  # pid -> (whose, seconds)

    @staticmethod
    def now(servers: frozenset[int] = frozenset()) -> "Cpu":
        tick = os.sysconf("SC_CLK_TCK")
        try:
            with open("/proc/stat") as stat:
                fields = [int(x) for x in stat.readline().split()[1:9]]
        except OSError:
            return Cpu()
        used: dict[int, tuple[str, float]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    line = stat.read()
            except OSError:
                continue  # gone
            name = line[line.index("(") + 1 : line.rindex(")")]
            pid = int(entry.name)
            whose = (
                "servers"
                if pid in servers
                else "bench"
                if pid == os.getpid()
                else "database"
                if name == "postgres"
                else None
            )
            if whose:
                after = line[line.rindex(")") + 2 :].split()
                used[pid] = (whose, (int(after[11]) + int(after[12])) / tick)  # utime, stime
        busy = sum(fields) - fields[3] - fields[4]  # less idle and iowait
        return Cpu(busy / tick, used)

    def __sub__(self, before: "Cpu") -> "Cpu":
        return Cpu(
            self.machine - before.machine,
            {
                pid: (whose, seconds - before.used.get(pid, (whose, 0.0))[1])
                for pid, (whose, seconds) in self.used.items()
            },
        )

    def of(self, whose: str) -> float:
        return sum(seconds for who, seconds in self.used.values() if who == whose)

    @property
    def others(self) -> float:
        """Seconds used by every other process on the machine."""
        return max(0.0, self.machine - sum(seconds for _, seconds in self.used.values()))


@dataclass
class Phase:
    """One batch of requests to one stack, and what came of them."""

    acks: list[float] = field(default_factory=list)  # seconds, request sent -> response read
    sent: dict[int, float] = field(default_factory=dict)  # index -> sent at (wall clock)
    failures: list[str] = field(default_factory=list)
    cards: dict[int, float] = field(default_factory=dict)  # index -> card posted (wall clock)
    elapsed: float = 0.0  # seconds from the first request to the last card
    cpu: Cpu = field(default_factory=Cpu)  # used meanwhile
    ticks: int = 0  # the scheduler's workspace runs meanwhile
    tick_seconds: float = 0.0  # and the seconds they took (added up: they overlap)

    def span(self) -> float:
        """Seconds from the first request sent to the last card posted."""
        return max(self.cards.values(), default=0.0) - min(self.sent.values())

    def drain(self) -> float:
        """Seconds from the last request sent to the last card posted."""
        return max(self.cards.values(), default=0.0) - max(self.sent.values())


class Phases(list[Phase]):
    """A measure taken in several batches, read as one."""

    def acks(self) -> list[float]:
        return [a for phase in self for a in phase.acks]

    def card_latencies(self) -> list[float]:
        return [p.cards[i] - p.sent[i] for p in self for i in p.sent if i in p.cards]

    def typical_p99(self) -> float:
        """The median of the batches' ack p99s: a few seconds in which the whole machine
        stalled (they come on this shared machine, and fall on one stack or the other) move
        it little, unlike the p99 of all the acks."""
        return statistics.median(percentile(p.acks, 0.99) for p in self)

    def items_per_second(self) -> float:
        return sum(len(p.cards) for p in self) / sum(p.span() for p in self)

    def server_cpu_per_item(self) -> float:
        return sum(p.cpu.of("servers") for p in self) / sum(len(p.sent) for p in self)

    def database_cpu_per_item(self) -> float:
        return sum(p.cpu.of("database") for p in self) / sum(len(p.sent) for p in self)

    def others(self) -> float:
        """Cores other processes used, on average, while these batches ran."""
        return sum(p.cpu.others for p in self) / sum(p.elapsed for p in self)


class Stack:
    """One configuration: a fake Slack with `count` workspaces, a database, `rolecall serve`."""

    def __init__(self, count: int, database_url: str) -> None:
        self.count = count
        self.database_url = database_url
        self.fake = FakeSlack().start()
        self.workspaces = [populate(self.fake.add_workspace(f"T{i + 1:05d}")) for i in range(count)]
        self.verifier = SignatureVerifier(SECRET)
        self.problems: list[str] = []
        self.server: subprocess.Popen[str] | None = None
        self.started = 0.0  # time.monotonic() when the server said it was listening
        self.url = self.base = ""
        self.install_seconds = 0.0
        self.cold = Phase()
        self.steady = Phases()
        self.bursts = Phases()
        self.tick = Phase()
        # The server closes a connection idle for 5 s: let none idle that long here, or a
        # request could go out on a connection the server is closing (a ReadError).
        limits = httpx.Limits(
            max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0
        )
        self.client = httpx.AsyncClient(timeout=30, limits=limits)
        self._parsed: dict[str, int] = {}  # team -> messages of its PM's DM already read
        self._cards: dict[tuple[str, int], float] = {}  # (label, index) -> card posted

    @property
    def name(self) -> str:
        return f"{self.count} workspace{'s' if self.count > 1 else ''}"

    def serve(self) -> None:
        env = {
            "SLACK_CLIENT_ID": FakeSlack.CLIENT_ID,
            "SLACK_CLIENT_SECRET": FakeSlack.CLIENT_SECRET,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": self.fake.api_url,
            "DATABASE_URL": self.database_url,
            "SLACK_BOT_TOKEN": "",  # OAuth mode whatever the environment says
        }
        command = ["-m", "handlers", "serve", "--host", "127.0.0.1", "--port", "0"]
        self.server, self.url = start([sys.executable, *command], env, self.problems)
        self.started = time.monotonic()
        self.base = self.url.removesuffix("/slack/events")

    async def close(self) -> None:
        await self.client.aclose()
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
        self.fake.stop()

    def install(self, workspace: FakeSlack) -> None:
        """Install a workspace as its admin does: the install page, Slack's redirect back."""
        with httpx.Client(base_url=self.base, timeout=30) as browser:
            page = browser.get("/slack/install")
            page.raise_for_status()
            found = re.search(r'href="(https://slack.com/oauth/v2/authorize[^"]+)"', page.text)
            assert found is not None, page.text
            state = parse_qs(urlparse(html.unescape(found[1])).query)["state"][0]
            cookie = page.headers["set-cookie"].split(";")[0]
            browser.cookies.clear()
            done = browser.get(
                "/slack/oauth_redirect",
                params={"code": self.fake.install_code(workspace), "state": state},
                headers={"cookie": cookie},
            )
            if done.status_code != 200:
                raise RuntimeError(f"install of {workspace.team_id}: {done.status_code}")

    async def set_up(self, rate: float, warm: int) -> None:
        """Install, warm the process, take the cold pass, set the roles, warm the caches."""
        started = time.perf_counter()
        for workspace in self.workspaces:
            self.install(workspace)
        self.install_seconds = time.perf_counter() - started
        await self.warm_up_process(rate)
        if self.ticks()[0]:
            print(f"  {self.name}: a scheduled run built the workspaces before the cold pass")
        cold = partial(self.fixed_rate, rate, self.count, "cold", 0)
        self.cold = await self.measure("cold", cold, cards=False)
        for workspace in self.workspaces:  # each PM then gets the cold item's card
            body, headers = self.command(workspace, f"/role <@{PM}> product", PM)
            (await self.client.post(self.url, content=body, headers=headers)).raise_for_status()
        await self.collect(self.cold, "cold")
        await self.collect(await self.fixed_rate(rate, warm, "warm", 0), "warm")

    async def warm_up_process(self, rate: float) -> None:
        visitor = populate(self.fake.add_workspace("TWARMUP"))
        self.install(visitor)
        with SignedClient(self.url, SECRET, visitor) as slack:
            slack.command("/role", f"<@{PM}> product", PM, TEAM).raise_for_status()
            visitor.wait_for(lambda: any(s.kind == "ephemeral" for s in visitor.seen_by(PM)))
            for index in range(30):
                body, headers = self.command(visitor, f"visit-{index}", REPORTER)
                response = await self.client.post(self.url, content=body, headers=headers)
                response.raise_for_status()
                await asyncio.sleep(1 / rate)
            visitor.wait_for(lambda: sum(1 for m in visitor.dms_to(PM) if m["blocks"]) >= 30, 60)
            slack.event({"type": "app_uninstalled"}).raise_for_status()

    def command(self, workspace: FakeSlack, text: str, user: str) -> tuple[bytes, dict[str, str]]:
        return signed_command(self.verifier, workspace, text, user)

    async def send(self, phase: Phase, index: int, label: str, due: float = 0.0) -> None:
        """Request `index`, from workspace `index` round-robin, at `due` (time.perf_counter;
        at once when past): its ack time, or what failed, goes into `phase`."""
        workspace = self.workspaces[index % self.count]
        body, headers = self.command(workspace, f"{label}-{index}", REPORTER)
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        phase.sent[index] = time.time()
        sent = time.perf_counter()
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
            status = str(response.status_code)
        except httpx.HTTPError as error:
            status = type(error).__name__
        phase.acks.append(time.perf_counter() - sent)
        if status != "200":
            phase.failures.append(status)

    async def fixed_rate(
        self, rate: float, count: int, label: str, first: int, stop: asyncio.Event | None = None
    ) -> Phase:
        """Open loop: request i (from `first`), from workspace i round-robin, is sent at
        start + i/rate whatever happened to the others; `count` of them, or with `stop`, until
        it is set."""
        phase = Phase()

        async def one(index: int, due: float) -> None:
            await self.send(phase, index, label, due)

        begin = time.perf_counter() + 0.1
        if stop is None:
            await asyncio.gather(*(one(first + i, begin + i / rate) for i in range(count)))
            return phase
        sending: list[asyncio.Task[None]] = []
        while not stop.is_set():
            due = begin + len(sending) / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sending.append(asyncio.create_task(one(first + len(sending), due)))
        await asyncio.gather(*sending)
        return phase

    def next_tick(self) -> float:
        """When (time.monotonic) the server's scheduler runs next, at least `LEAD` from now:
        every `TICK_PERIOD` from its start, which came just before the server listened."""
        periods = (time.monotonic() + LEAD - self.started) // TICK_PERIOD + 1
        return self.started + periods * TICK_PERIOD

    async def across_tick(self, rate: float, first: int) -> Phase:
        """Steady load from `LEAD` before the next scheduled run until a second after it has
        run for every workspace."""
        await asyncio.sleep(max(0.0, self.next_tick() - LEAD - time.monotonic()))
        return await self.measure("tick", partial(self.until_ticked, rate, first))

    async def until_ticked(self, rate: float, first: int) -> Phase:
        before = (await self.ticks_now())[0]
        stop = asyncio.Event()

        async def watch() -> None:
            deadline = time.monotonic() + LEAD + 30
            while (await self.ticks_now())[0] < before + self.count:
                if time.monotonic() > deadline:
                    print(f"  {self.name}: the scheduled run did not come or did not end")
                    break
                await asyncio.sleep(0.25)
            await asyncio.sleep(1.0)
            stop.set()

        watcher = asyncio.create_task(watch())
        phase = await self.fixed_rate(rate, 0, "tick", first, stop)
        await watcher
        return phase

    async def burst(self, count: int, concurrency: int, first: int) -> Phase:
        """`count` commands, `concurrency` in flight, round-robin across the workspaces."""
        phase = Phase()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(first, first + count):
            queue.put_nowait(index)

        async def worker() -> None:
            while not queue.empty():
                await self.send(phase, queue.get_nowait(), "burst")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return phase

    def read_cards(self) -> None:
        """Note the cards posted to the PMs since the last look: (label, index) -> posted.
        Workspaces with no new DM are skipped without taking the fake's lock: this runs beside
        the fake Slack's threads, in this process, and must not slow the stack with more
        workspaces down."""
        for workspace in self.workspaces:
            read = self._parsed.get(workspace.team_id, 0)
            if len(workspace.messages.get(DM, ())) == read:
                continue
            messages = workspace.dms_to(PM)
            for message in messages[read:]:
                if not message["blocks"]:
                    continue
                found = LABEL.search(message["text"]) or LABEL.search(json.dumps(message["blocks"]))
                if found:
                    self._cards[found[1], int(found[2])] = float(message["ts"])
            self._parsed[workspace.team_id] = len(messages)

    async def collect(self, phase: Phase, label: str, timeout: float = 120) -> None:
        """Wait until every request of `phase` has its card; note when each was posted."""
        deadline = time.monotonic() + timeout
        while True:
            self.read_cards()
            phase.cards = {
                i: self._cards[label, i] for i in phase.sent if (label, i) in self._cards
            }
            if len(phase.cards) >= len(phase.sent) - len(phase.failures):
                return
            if time.monotonic() > deadline:
                print(f"  {self.name}, {label}: {len(phase.cards)} of {len(phase.sent)} carded")
                return
            await asyncio.sleep(0.05)  # cards carry the time they were posted: no need to hurry

    def ticks(self) -> tuple[int, float]:
        """The server's workspace runs of the time loop so far, and their seconds added up
        (from /metrics)."""
        return scheduled_runs(httpx.get(f"{self.base}/metrics", timeout=10).text)

    async def ticks_now(self) -> tuple[int, float]:
        """`ticks`, without blocking the load generator."""
        return scheduled_runs((await self.client.get(f"{self.base}/metrics")).text)

    async def measure(
        self, label: str, requests: Callable[[], Awaitable[Phase]], *, cards: bool = True
    ) -> Phase:
        """Send a batch and wait for its cards, noting the CPU used and the scheduler's runs."""
        assert self.server is not None
        servers = frozenset({self.server.pid})
        ticks, cpu, started = self.ticks(), Cpu.now(servers), time.perf_counter()
        phase = await requests()
        if cards:
            await self.collect(phase, label)
        phase.elapsed = time.perf_counter() - started
        phase.cpu = Cpu.now(servers) - cpu
        ticks_after = self.ticks()
        phase.ticks, phase.tick_seconds = ticks_after[0] - ticks[0], ticks_after[1] - ticks[1]
        return phase

    def failed_calls(self) -> int:
        return sum(1 for w in [self.fake, *self.workspaces] for c in w.calls if c.error)

    def warnings(self) -> list[str]:
        """What the server logged as warnings or errors, but the warm-up's uninstall."""
        return [p for p in self.problems if "workspace TWARMUP deactivated" not in p]


def scheduled_runs(metrics: str) -> tuple[int, float]:
    found = dict(TICKS.findall(metrics))
    return int(float(found.get("count", 0))), float(found.get("sum", 0))


def populate(workspace: FakeSlack) -> FakeSlack:
    workspace.add_user(PM, "pm")
    workspace.add_user(REPORTER, "reporter")
    workspace.add_channel(TEAM, "bench", [PM, REPORTER])
    return workspace


def wait_for_quiet(patience: float) -> None:
    """Wait, up to `patience` seconds, until other processes use less than `NOISY` cores (over
    2 s): on a shared machine someone's test suite would otherwise be measured too."""
    deadline = time.monotonic() + patience
    while True:
        before, started = Cpu.now(), time.perf_counter()
        time.sleep(2)
        others = (Cpu.now() - before).others / (time.perf_counter() - started)
        if others < NOISY or time.monotonic() > deadline:
            return
        print(
            f"  other processes use {others:.2f} cores: waiting for a quieter machine", flush=True
        )


async def compare(one: Stack, many: Stack, args: argparse.Namespace) -> None:
    warm = WARM_PER_WORKSPACE * args.workspaces  # the same count for both stacks
    for stack in (one, many):  # one after the other, so their scheduled runs come apart
        stack.serve()
        await stack.set_up(args.rate, warm)
        print(f"  {stack.name}: installed in {stack.install_seconds:.1f}s, warmed", flush=True)
    per_slice = round(args.rate * args.seconds / args.slices)
    for index in range(args.slices):
        for stack in (one, many) if index % 2 == 0 else (many, one):
            batch = partial(stack.fixed_rate, args.rate, per_slice, "steady", index * per_slice)
            stack.steady.append(await stack.measure("steady", batch))
    per_round = args.burst // args.burst_rounds
    for index in range(args.burst_rounds):
        for stack in (one, many) if index % 2 == 0 else (many, one):
            batch = partial(stack.burst, per_round, args.concurrency, index * per_round)
            stack.bursts.append(await stack.measure("burst", batch))
    if args.no_tick:
        return
    print("  waiting for the servers' next scheduled runs", flush=True)
    for stack in sorted((one, many), key=Stack.next_tick):
        stack.tick = await stack.across_tick(args.rate, 0)


async def run(args: argparse.Namespace, folder: str) -> tuple[Stack, Stack]:
    urls, drop = scratch_databases(args.database_url, folder, ["one", "many"])
    one, many = Stack(1, urls[0]), Stack(args.workspaces, urls[1])
    try:
        gc.collect()
        gc.disable()  # the bench's own pauses would read as server latency
        await compare(one, many, args)
    finally:
        gc.enable()
        await one.close()
        await many.close()
        drop()
    return one, many


Row = tuple[str, bool, Callable[[Stack], float], Callable[[float], str], str]


def rows(args: argparse.Namespace) -> list[Row]:
    """(name, judged against the bar, value, format, better: "low" or "high")."""
    rows: list[Row] = [
        ("cold ack p50 (first request per workspace)", False, cold_p50, ms, "low"),
        ("cold ack max", False, lambda s: max(s.cold.acks), ms, "low"),
        ("cold: server CPU per request", False, cold_cpu, ms, "low"),
        ("steady ack p50", False, lambda s: percentile(s.steady.acks(), 0.5), ms, "low"),
        ("steady ack p99, all acks", False, lambda s: percentile(s.steady.acks(), 0.99), ms, "low"),
        (
            "steady ack p99, median of the slices'",
            True,
            lambda s: s.steady.typical_p99(),
            ms,
            "low",
        ),
        ("steady ack max", False, lambda s: max(s.steady.acks()), ms, "low"),
        ("steady card latency p50", False, lambda s: card(s, 0.5), ms, "low"),
        ("steady card latency p99", False, lambda s: card(s, 0.99), ms, "low"),
        ("steady routing", True, lambda s: s.steady.items_per_second(), rate, "high"),
        ("steady: server CPU per item", False, lambda s: s.steady.server_cpu_per_item(), ms, "low"),
    ]
    if not args.no_tick:
        rows += [
            ("ack p50 across a scheduled run", False, lambda s: tick_ack(s, 0.5), ms, "low"),
            ("ack p99 across a scheduled run", False, lambda s: tick_ack(s, 0.99), ms, "low"),
            ("ack p99 over a minute (steady + a scheduled run)", True, minute_p99, ms, "low"),
        ]
    rows += [
        ("burst ack p99", False, lambda s: percentile(s.bursts.acks(), 0.99), ms, "low"),
        ("burst routing", True, lambda s: s.bursts.items_per_second(), rate, "high"),
        ("burst: server CPU per item", False, lambda s: s.bursts.server_cpu_per_item(), ms, "low"),
    ]
    if args.database_url:
        rows.append(
            ("burst: PostgreSQL CPU per item", False, database_cpu, ms, "low"),
        )
    return rows


def report(one: Stack, many: Stack, args: argparse.Namespace) -> int:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\n{backend}; steady: signed /feedback at {args.rate:.0f}/s for {args.seconds:.0f}s "
        f"({args.slices} slices), round-robin across the installed workspaces; burst: "
        f"{args.burst} in {args.burst_rounds} rounds, {args.concurrency} in flight; the two "
        f"stacks alternate; {os.cpu_count()} cores shared by both servers, the load generator "
        "and the fake Slacks\n"
    )
    print(f"| | 1 workspace | {args.workspaces} workspaces | ratio |")
    print("|---|---:|---:|---:|")
    missed: list[str] = []
    for name, judged, get, show, better in rows(args):
        a, b = get(one), get(many)
        ratio = b / a if a else float("nan")
        shown = "n/a" if ratio != ratio else f"{ratio:.2f}x"
        worse = ratio > MARGIN if better == "low" else ratio < 1 / MARGIN
        if judged and worse:
            missed.append(name)
        flag = " **over 10% worse**" if judged and worse else ""
        print(f"| {name} | {show(a)} | {show(b)} | {shown}{flag} |")
    print()
    for stack in (one, many):
        ticks = sum(p.ticks for p in [*stack.steady, *stack.bursts])
        failures = [
            f for p in [stack.cold, *stack.steady, *stack.bursts, stack.tick] for f in p.failures
        ]
        noise = max(stack.steady.others(), stack.bursts.others())
        print(
            f"{stack.name}: installed in {stack.install_seconds:.1f}s; other processes used "
            f"{stack.steady.others():.2f} / {stack.bursts.others():.2f} cores during its steady "
            "/ burst batches"
            + (" (NOISY: the machine was busy)" if noise > NOISY else "")
            + f"; scheduler workspace runs during them: {ticks}; non-200 acks: {len(failures)}"
            + (f" {sorted(set(failures))}" if failures else "")
            + "; "
            f"failed Web API calls: {stack.failed_calls()}; server warnings and errors: "
            f"{len(stack.warnings())}"
        )
        slices = " ".join(f"{percentile(p.acks, 0.99) * 1000:.0f}" for p in stack.steady)
        print(f"    ack p99 of each steady slice, in order: {slices} ms")
        if stack.tick.sent:
            print(
                f"    across its scheduled run: {len(stack.tick.sent)} acks over "
                f"{max(stack.tick.sent.values()) - min(stack.tick.sent.values()):.1f}s, "
                f"{stack.tick.ticks} workspace runs taking {stack.tick.tick_seconds:.2f}s added "
                f"up, server CPU {stack.tick.cpu.of('servers'):.2f}s, other processes "
                f"{stack.tick.cpu.others / stack.tick.elapsed:.2f} cores"
            )
        for line in stack.warnings()[:5]:
            print(f"    {line}")
    verdict = "MISSED: " + ", ".join(missed) if missed else "met"
    print(f"\n{args.workspaces} vs 1 workspace, p99 and throughput within 10%: {verdict}")
    return 1 if missed else 0


def tick_ack(stack: Stack, fraction: float) -> float:
    return percentile(stack.tick.acks, fraction)


def minute_p99(stack: Stack) -> float:
    """The ack p99 of a minute of steady load, one scheduled run in it: the acks across the
    run stand for the seconds they were sent over, the steady acks for the rest."""
    window = max(stack.tick.sent.values()) - min(stack.tick.sent.values())
    steady, tick = stack.steady.acks(), stack.tick.acks
    weighted = sorted(
        [(a, (TICK_PERIOD - window) / len(steady)) for a in steady]
        + [(a, window / len(tick)) for a in tick]
    )
    total, seen = sum(w for _, w in weighted), 0.0
    for ack, weight in weighted:
        seen += weight
        if seen >= 0.99 * total:
            return ack
    return weighted[-1][0]


def cold_p50(stack: Stack) -> float:
    return statistics.median(stack.cold.acks)


def cold_cpu(stack: Stack) -> float:
    """Per request, when there are enough of them (the kernel counts CPU in 10 ms ticks)."""
    if len(stack.cold.sent) < 20:
        return float("nan")
    return Phases([stack.cold]).server_cpu_per_item()


def card(stack: Stack, fraction: float) -> float:
    return percentile(stack.steady.card_latencies(), fraction)


def database_cpu(stack: Stack) -> float:
    return stack.bursts.database_cpu_per_item()


def ms(value: float) -> str:
    return "n/a" if value != value else f"{value * 1000:.1f} ms"


def rate(value: float) -> str:
    return f"{value:.0f} items/s"


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rate", type=float, default=100.0, help="steady requests per second")
    options.add_argument("--seconds", type=float, default=6.0, help="of steady load, per stack")
    options.add_argument("--slices", type=int, default=6, help="steady batches per stack")
    options.add_argument("--workspaces", type=int, default=100)
    options.add_argument("--burst", type=int, default=300, help="burst commands per stack")
    options.add_argument("--burst-rounds", type=int, default=3, help="burst batches per stack")
    options.add_argument("--concurrency", type=int, default=16, help="burst requests in flight")
    options.add_argument("--database-url", help="PostgreSQL (default: SQLite files)")
    options.add_argument(
        "--no-tick",
        action="store_true",
        help="skip the load across a scheduled run (saves up to a minute)",
    )
    options.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait at the start for other processes to go quiet",
    )
    args = options.parse_args()
    if args.workspaces < 2:
        options.error("--workspaces must be at least 2: it is compared with one workspace")
    wait_for_quiet(args.quiet_wait)
    with tempfile.TemporaryDirectory() as folder:
        one, many = asyncio.run(run(args, folder))
    return report(one, many, args)


if __name__ == "__main__":
    sys.exit(main())
