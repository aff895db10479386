"""Ack latency and end-to-end routing throughput of `rolecall serve`, against a bare Bolt app.

Starts the fake Slack Web API here, `rolecall serve` and bench/bare_bolt.py as subprocesses on
loopback, then:
1. fires signed /feedback commands at a fixed rate (open loop) at each and reports p50/p99 ack
   latency and the rolecall/bare ratio;
2. fires a burst of /feedback commands at rolecall and times request → stored → card posted.

Usage: python bench/ack_latency.py [--rate 100] [--seconds 10] [--burst 1000] [--workers 1]
                                   [--database-url URL]
Without --database-url Rolecall uses a fresh SQLite file; with a PostgreSQL URL, a schema of its
own in that database (rolecall_bench_ack), dropped at the end.
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sandbox.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TEAM, PM, REPORTER = "CBENCH", "UPM", "UREPORTER"


def add_bench_team(fake: FakeSlack) -> None:
    """The bench's team: a product manager and a reporter in #bench."""
    fake.add_user(PM, "pm")
    fake.add_user(REPORTER, "reporter")
    fake.add_channel(TEAM, "bench", [PM, REPORTER])


def start(
    command: list[str], env: dict[str, str], problems: list[str]
) -> tuple[subprocess.Popen[str], str]:
    """Start a server; its warnings and errors are collected in `problems` (and its stderr is
    drained, so a chatty server never blocks on a full pipe)."""
    process = subprocess.Popen(
        command, env={**os.environ, **env}, cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    stderr = process.stderr
    for line in stderr:
        if "listening on " in line:
            url = line.split("listening on ")[1].strip()
            break
    else:
        raise RuntimeError(f"{command} exited before listening")

    def drain() -> None:
        problems.extend(line.rstrip() for line in stderr if "WARNING" in line or "ERROR" in line)

    threading.Thread(target=drain, daemon=True).start()
    return process, url


def signed_command(
    verifier: SignatureVerifier, fake: FakeSlack, text: str, user: str
) -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "token": "t",
            "team_id": fake.team_id,
            "team_domain": "bench",
            "channel_id": TEAM,
            "channel_name": "bench",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/feedback" if not text.startswith("/role ") else "/role",
            "text": text.removeprefix("/role "),
            "api_app_id": "A1",
            "is_enterprise_install": "false",
            "response_url": fake.response_url(user, TEAM),
            "trigger_id": f"{time.time():.0f}.1.{uuid.uuid4().hex}",  # unique, as Slack's are
        }
    )
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": str(verifier.generate_signature(timestamp=timestamp, body=body)),
    }
    return body.encode(), headers


async def fixed_rate(url: str, fake: FakeSlack, rate: float, count: int, label: str) -> list[float]:
    """Open-loop load: request i is sent at start + i/rate whatever happened to the others."""
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def one(index: int, due: float) -> None:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body, headers = signed_command(verifier, fake, f"{label} item {index}", REPORTER)
            sent = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - sent)
            response.raise_for_status()

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i, start + i / rate) for i in range(count)))
    return latencies


async def burst(url: str, fake: FakeSlack, count: int, concurrency: int) -> float:
    """Send `count` commands with `concurrency` in flight; seconds until every card is posted."""
    verifier = SignatureVerifier(SECRET)
    before = len(fake.calls_to("chat.postMessage"))
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                body, headers = signed_command(verifier, fake, f"burst item {index}", REPORTER)
                (await client.post(url, content=body, headers=headers)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    await asyncio.to_thread(
        fake.wait_for, lambda: len(fake.calls_to("chat.postMessage")) - before >= count, 120
    )
    return time.perf_counter() - started


def scratch_databases(
    url: str | None, folder: str, names: list[str]
) -> tuple[list[str], Callable[[], None]]:
    """One fresh database per name, and how to drop them: SQLite files, or PostgreSQL schemas
    (`rolecall_bench_<name>`) in the database `url` names."""
    if url is None:
        return [f"sqlite:///{folder}/{name}.db" for name in names], lambda: None
    parsed = make_url(url)
    schemas = [f"rolecall_bench_{name}" for name in names]
    engine = create_engine(parsed)

    def drop() -> None:
        with engine.begin() as connection:
            for schema in schemas:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))

    drop()
    with engine.begin() as connection:
        for schema in schemas:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    urls = [
        parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
        for schema in schemas
    ]

    def drop_and_dispose() -> None:
        drop()
        engine.dispose()

    return urls, drop_and_dispose


def machine_speed() -> float:
    """Seconds for a 10M-step Python loop: this kind of machine's speed drifts by up to 70%
    over a day (shared host), so every result is printed beside it."""
    started = time.perf_counter()
    total = 0
    for step in range(10_000_000):
        total += step
    return time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(fraction * 1000) - 1]


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rate", type=float, default=100.0)
    options.add_argument("--seconds", type=float, default=10.0)
    options.add_argument("--burst", type=int, default=1000)
    options.add_argument("--concurrency", type=int, default=16)
    options.add_argument("--workers", type=int, default=1, help="rolecall serve --workers")
    options.add_argument("--database-url", help="PostgreSQL (default: a SQLite file)")
    args = options.parse_args()
    count = int(args.rate * args.seconds)
    speed = machine_speed()

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        add_bench_team(fake)
        (database_url,), drop = scratch_databases(args.database_url, folder, ["ack"])
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database_url,
        }
        problems: list[str] = []
        rolecall, rolecall_url = start(
            [
                sys.executable,
                "-m",
                "handlers",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--workers",
                str(args.workers),
            ],
            env,
            problems,
        )
        bare, bare_url = start([sys.executable, "bench/bare_bolt.py"], env, problems)
        try:
            verifier = SignatureVerifier(SECRET)
            body, headers = signed_command(verifier, fake, f"/role <@{PM}> product", PM)
            httpx.post(rolecall_url, content=body, headers=headers).raise_for_status()
            for url, label in ((bare_url, "warmup"), (rolecall_url, "warmup")):
                asyncio.run(fixed_rate(url, fake, 50, 50, label))
            fake.wait_for(lambda: len(fake.calls_to("chat.postMessage")) >= 50, 60)

            bare_latency = asyncio.run(fixed_rate(bare_url, fake, args.rate, count, "bare"))
            posted = len(fake.calls_to("chat.postMessage"))
            started = time.perf_counter()
            ours = asyncio.run(fixed_rate(rolecall_url, fake, args.rate, count, "rolecall"))
            fake.wait_for(lambda: len(fake.calls_to("chat.postMessage")) - posted >= count, 120)
            delivered = count / (time.perf_counter() - started)
            seconds = asyncio.run(burst(rolecall_url, fake, args.burst, args.concurrency))
        finally:
            for process in (rolecall, bare):
                process.terminate()
                process.wait(timeout=10)
            drop()

    backend = "PostgreSQL" if args.database_url else "SQLite"
    rows = [("bare Bolt", bare_latency), ("rolecall", ours)]
    print(
        f"Ack latency, signed /feedback at {args.rate:.0f} req/s, {count} requests each "
        f"({os.cpu_count()} cores, {backend}, {args.workers} worker(s); "
        f"a 10M-step loop took {speed:.2f} s)"
    )
    print(f"{'':12}{'p50':>10}{'p99':>10}{'max':>10}")
    for name, values in rows:
        print(
            f"{name:12}"
            + "".join(
                f"{v * 1000:>8.1f}ms"
                for v in (percentile(values, 0.5), percentile(values, 0.99), max(values))
            )
        )
    ratio = percentile(ours, 0.99) / percentile(bare_latency, 0.99)
    p99 = percentile(ours, 0.99) * 1000
    print(
        f"rolecall/bare p99 ratio: {ratio:.2f}x   (targets: p99 < 100 ms, ratio <= 1.5x: "
        f"{'met' if p99 < 100 and ratio <= 1.5 else 'MISSED'})"
    )
    print(f"Cards delivered at {args.rate:.0f} req/s: {delivered:.0f}/s")
    rate = args.burst / seconds
    print(
        f"End-to-end routing: {args.burst} items stored and carded in {seconds:.2f}s = "
        f"{rate:.0f} items/s   (target >= 200: {'met' if rate >= 200 else 'MISSED'})"
    )
    failed = [c for c in fake.calls if c.error]
    print(f"Web API calls that failed: {len(failed)}; server warnings and errors: {len(problems)}")
    for line in problems[:5]:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
