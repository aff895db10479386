"""How soon a shortcut's modal opens while other traffic comes in: message shortcut sent →
`views.open` received by Slack, under a steady rate of signed /feedback commands.

Why: a shortcut acks at once and opens its modal after the ack, on the same pools as every
card post of the other traffic; Slack honours its trigger_id for 3 s, and a person waits for
the modal meanwhile. The target (issue): a modal opens within 500 ms of the shortcut at p99
under 100 req/s of other traffic.

Starts the fake Slack here (noting when each call arrives, see bench/scale.py) and `rolecall
serve` as bench/ack_latency.py does (its team, its product manager set by `/role`, so every
/feedback is filed and carded), warms it up, then for --seconds:
- other traffic: signed /feedback at --rate, open loop, as bench/ack_latency.py sends them
  ("load item 17": every one then looks like the one before it, so each new card suggests an
  original) or, with `--texts distinct`, eight words drawn from a small vocabulary each, which
  rarely match; a request that fails or times out (30 s) is counted, and the load goes on;
- a `send_to_product_queue` message shortcut every --interval seconds, open loop, each from a
  client of its own thread; its modal is the `views.open` carrying its trigger_id.
Prints p50/p95/p99/max of shortcut → views.open, the shortcuts' and the other traffic's ack
latencies, how many modals failed to open (a trigger_id Slack no longer honours), and whether
the cards of the other traffic kept up.

Usage: python bench/modal_open.py [--rate 100] [--seconds 40] [--interval 0.1]
       [--texts numbered|distinct] [--database-url URL]
Without --database-url Rolecall uses a fresh SQLite file; with a PostgreSQL URL, a schema of its
own in that database (rolecall_bench_modal), dropped at the end.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs

import httpx
from ack_latency import (
    PM,
    REPORTER,
    SECRET,
    TEAM,
    add_bench_team,
    fixed_rate,
    machine_speed,
    percentile,
    scratch_databases,
    signed_command,
)
from scale import Server, TimedFake, serve
from slack_sdk.signature import SignatureVerifier

from sandbox.signed_client import SignedClient

SHORTCUT = "send_to_product_queue"
TARGET_MS = 500.0
# Words of feedback: eight drawn at random seldom look like any earlier item.
VOCABULARY = """export import csv pdf dark mode slow login sso billing invoice search filter mobile
    android ios calendar sync timezone onboarding email digest alert chart dashboard api webhook
    token permission admin role archive upload download share comment mention thread""".split()  # noqa: SIM905


async def other_traffic(
    url: str, fake: TimedFake, rate: float, count: int, distinct: bool
) -> tuple[list[float], list[str]]:
    """Signed /feedback at `rate`, open loop (request i at start + i / rate): the acks, and
    what failed. Unlike bench/ack_latency.py's `fixed_rate`, a failure does not end the load."""
    verifier = SignatureVerifier(SECRET)
    words = random.Random(7)
    acks: list[float] = []
    failures: list[str] = []
    # Connections idle no longer than 2 s: the server closes one idle for 5 s, and a request
    # sent on a connection it is closing fails (a ReadError) however the server is doing.
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def one(index: int, due: float) -> None:
            text = " ".join(words.sample(VOCABULARY, 8)) if distinct else f"load item {index}"
            body, headers = signed_command(verifier, fake, text, REPORTER)
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as error:
                failures.append(type(error).__name__)
                return
            if response.status_code != 200:
                failures.append(f"HTTP {response.status_code}")
                return
            acks.append(time.perf_counter() - sent)

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i, start + i / rate) for i in range(count)))
    return acks, failures


@dataclass(frozen=True)
class Shortcut:
    """One shortcut sent: when (time.perf_counter()), its ack, its trigger_id."""

    sent: float
    ack: float  # seconds, request sent → response read
    status: int
    trigger_id: str


class Shortcuts:
    """Sends message shortcuts on a few threads, each with a signed client of its own."""

    def __init__(self, server: Server, fake: TimedFake, threads: int = 4) -> None:
        self.server = server
        self.fake = fake
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="shortcut")
        self.local = threading.local()
        self.clients: list[SignedClient] = []
        self.sent: list[Shortcut] = []
        self.message = fake.user_message(
            TEAM, REPORTER, "Exports time out over 10k rows\nThe customer retried three times."
        )

    def send(self) -> None:
        client = getattr(self.local, "client", None)
        if client is None:
            client = self.local.client = SignedClient(self.server.url, SECRET, self.fake)
            self.clients.append(client)
        sent = time.perf_counter()
        try:
            status = client.message_shortcut(SHORTCUT, REPORTER, TEAM, self.message).status_code
        except httpx.HTTPError:  # timed out (10 s) or cut off
            status = 0
        ack = time.perf_counter() - sent
        assert client.last_request is not None
        payload = json.loads(parse_qs(client.last_request[0].decode())["payload"][0])
        self.sent.append(Shortcut(sent, ack, status, payload["trigger_id"]))

    def every(self, interval: float, seconds: float) -> None:
        """Open loop: shortcut i is sent at start + i * interval, whatever became of the
        others."""
        started = time.perf_counter()
        for index in range(int(seconds / interval)):
            time.sleep(max(0.0, started + index * interval - time.perf_counter()))
            self.pool.submit(self.send)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for client in self.clients:
            client.close()


def opened(fake: TimedFake, shortcuts: list[Shortcut]) -> tuple[list[float], list[str]]:
    """Seconds from each shortcut to the `views.open` of its trigger_id, and what went wrong
    with the others (the call failed, or never came)."""
    calls = {c.params.get("trigger_id"): c for c in fake.timed if c.method == "views.open"}
    latencies: list[float] = []
    failures: list[str] = []
    for shortcut in shortcuts:
        call = calls.get(shortcut.trigger_id)
        if shortcut.status != 200:
            failures.append(f"acked {shortcut.status or 'never'}")
        elif call is None:
            failures.append("no views.open")
        elif not call.ok:
            failures.append("views.open refused (trigger_id expired?)")
        else:
            latencies.append(call.at - shortcut.sent)
    return latencies, failures


@dataclass
class Found:
    """What one run measured."""

    latencies: list[float]  # seconds, shortcut sent → its views.open received
    failures: list[str]  # the shortcuts whose modal did not open, and why
    shortcut_acks: list[float]
    load: list[float]  # the other traffic's acks
    load_failures: list[str]  # its requests that failed
    requests: int  # of other traffic
    cards: int  # posted for the other traffic while it ran
    elapsed: float  # seconds from the other traffic's start to its last ack
    ticks: int  # the server's scheduled runs meanwhile


def measure(args: argparse.Namespace, fake: TimedFake, server: Server) -> Found:
    with SignedClient(server.url, SECRET, fake) as slack:
        slack.command("/role", f"<@{PM}> product", PM, TEAM).raise_for_status()
    shortcuts = Shortcuts(server, fake)
    try:
        asyncio.run(fixed_rate(server.url, fake, 50, 50, "warmup"))
        shortcuts.every(args.interval, 2.0)
        fake.wait_for(lambda: len(fake.calls_to("chat.postMessage")) >= 50, 60)
        requests = int(args.rate * args.seconds)
        load: list[float] = []
        load_failures: list[str] = []
        posted = len(fake.calls_to("chat.postMessage"))
        ticks = server.ticks()[0]

        def load_on() -> None:
            distinct = args.texts == "distinct"
            acks, failures = asyncio.run(
                other_traffic(server.url, fake, args.rate, requests, distinct)
            )
            load.extend(acks)
            load_failures.extend(failures)

        traffic = threading.Thread(target=load_on)
        started = time.perf_counter()
        traffic.start()
        time.sleep(0.3)  # the load's first request is due 0.2 s after it starts
        shortcuts.every(args.interval, args.seconds - 0.5)
        traffic.join()
        elapsed = time.perf_counter() - started
        cards = len(fake.calls_to("chat.postMessage")) - posted
        shortcuts.pool.shutdown(wait=True)
        measured = [s for s in shortcuts.sent if s.sent >= started]
        time.sleep(3.0)  # modals still to open: a trigger_id lasts 3 s
        latencies, failures = opened(fake, measured)
        return Found(
            latencies,
            failures,
            [s.ack for s in measured],
            load,
            load_failures,
            requests,
            cards,
            elapsed,
            server.ticks()[0] - ticks,
        )
    finally:
        shortcuts.close()


def report(
    args: argparse.Namespace, speed: float, found: Found, fake: TimedFake, server: Server
) -> None:
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\n{backend}; {os.cpu_count()} cores shared by the server, the load generator and the "
        f"fake Slack; a 10M-step loop took {speed:.2f} s"
    )
    print(
        f"Other traffic: {found.requests} signed /feedback ({args.texts} texts) at "
        f"{args.rate:.0f}/s, done in {found.elapsed:.1f}s; shortcuts: one every "
        f"{args.interval * 1000:.0f} ms"
    )
    print(f"{'':34}{'count':>7}{'p50':>10}{'p95':>10}{'p99':>10}{'max':>10}")

    def line(name: str, values: list[float]) -> None:
        if len(values) < 2:
            print(f"{name:34}{len(values):>7}")
            return
        cells = [percentile(values, f) for f in (0.5, 0.95, 0.99)] + [max(values)]
        print(f"{name:34}{len(values):>7}" + "".join(f"{v * 1000:>8.1f}ms" for v in cells))

    line("shortcut → views.open", found.latencies)
    line("shortcut ack", found.shortcut_acks)
    line("other traffic: /feedback ack", found.load)
    if found.load_failures:
        kinds = sorted(set(found.load_failures))
        print(f"other traffic: {len(found.load_failures)} requests failed {kinds}")
    latencies = found.latencies
    p99 = percentile(latencies, 0.99) * 1000 if len(latencies) > 1 else float("inf")
    verdict = "met" if p99 < TARGET_MS and not found.failures else "MISSED"
    print(f"modal p99 {p99:.0f} ms (target < {TARGET_MS:.0f} ms, every modal opened): {verdict}")
    print(
        f"modals that did not open: {len(found.failures)} {sorted(set(found.failures))}; "
        f"cards posted for the other traffic while it ran: {found.cards} of {found.requests}; "
        f"scheduled runs meanwhile: {found.ticks}"
    )
    failed = [c for c in fake.timed if not c.ok]
    print(
        f"Web API calls that failed: {len(failed)} {sorted({c.method for c in failed})}; "
        f"server warnings and errors: {len(server.problems)}"
    )
    for problem in server.problems[:4]:
        print(f"  {problem}")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rate", type=float, default=100.0, help="other requests per second")
    options.add_argument("--seconds", type=float, default=40.0)
    options.add_argument("--interval", type=float, default=0.1, help="seconds between shortcuts")
    options.add_argument(
        "--texts",
        choices=("numbered", "distinct"),
        default="numbered",
        help="of the other traffic: as bench/ack_latency.py's, or random words",
    )
    options.add_argument("--database-url", help="PostgreSQL (default: a SQLite file)")
    args = options.parse_args()
    speed = machine_speed()
    with TimedFake() as fake, tempfile.TemporaryDirectory() as folder:
        add_bench_team(fake)
        (database_url,), drop = scratch_databases(args.database_url, folder, ["modal"])
        server = serve(fake, database_url)
        try:
            found = measure(args, fake, server)
        finally:
            server.process.terminate()
            server.process.wait(timeout=60)
            drop()
    report(args, speed, found, fake, server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
