"""Ack latency of `rolecall serve` while hostile clients hold many slow connections open.

Starts the fake Slack Web API and `rolecall serve` (as bench/ack_latency.py does), then fires
signed /feedback commands at a fixed rate (open loop) and GETs /healthz five times a second:
1. with no other clients (baseline);
2. with --slow hostile TCP connections open and trickling, a third of each kind: idle (send
   nothing), a request head sent a byte every 2 s, a valid head (Content-Length: 100000, a
   forged signature) then the body a byte every 2 s.
It keeps the hostile connections trickling until --hold seconds after they opened and counts
those the server closed (its head and body timeouts are 10 s). Exits 1 if the hostile ack p99
exceeds 100 ms or any ack or health check got no 200.

Usage: python bench/hostile.py [--rate 100] [--seconds 6] [--slow 1000] [--hold 22]
       [--database-url URL]
Without --database-url it uses a fresh SQLite file.
"""

import argparse
import asyncio
import contextlib
import gc
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from ack_latency import (
    PM,
    REPORTER,
    SECRET,
    add_bench_team,
    percentile,
    signed_command,
    start,
)
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack

KINDS = ("idle", "head", "body")
TRICKLE = 2.0  # seconds between two bytes of a trickling connection
HEAD = b"POST /slack/events HTTP/1.1\r\nHost: bench\r\nX-Pad: " + b"a" * 10_000


def body_head() -> bytes:
    """A head a forger can write (a fresh timestamp, a well-formed but wrong signature), so the
    server reads the body before it can check the signature."""
    return (
        b"POST /slack/events HTTP/1.1\r\nHost: bench\r\n"
        b"X-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=%s\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
        % (int(time.time()), b"0" * 64)
    )


@dataclass
class Hostile:
    kind: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    opened: float
    answered: float | None = None  # seconds from opening until the server's first byte
    closed: float | None = None  # seconds from opening until the server closed it
    answer: bytes = b""


async def connect(host: str, port: int, kind: str) -> Hostile:
    reader, writer = await asyncio.open_connection(host, port)
    if kind == "body":
        writer.write(body_head())
    return Hostile(kind, reader, writer, time.perf_counter())


async def hold(conn: Hostile) -> None:
    """Trickle (unless idle) and wait for the server to close the connection."""

    async def trickle(data: bytes) -> None:
        await asyncio.sleep(random.uniform(0, TRICKLE))
        with contextlib.suppress(OSError):  # the server closed it: `hold` sees that
            for byte in data:
                conn.writer.write(bytes([byte]))
                await conn.writer.drain()
                await asyncio.sleep(TRICKLE)

    sender = asyncio.create_task(trickle(HEAD if conn.kind == "head" else b"a" * 100_000))
    if conn.kind == "idle":
        sender.cancel()
    try:
        while data := await conn.reader.read(4096):
            conn.answered = conn.answered or time.perf_counter() - conn.opened
            conn.answer += data
    except OSError:
        pass
    finally:
        conn.closed = time.perf_counter() - conn.opened
        sender.cancel()
        conn.writer.close()


async def measure(
    url: str, fake: FakeSlack, rate: float, seconds: float, label: str
) -> tuple[list[float], list[float], int]:
    """Ack and /healthz latencies, and how many of either got no 200."""
    verifier = SignatureVerifier(SECRET)
    health = url.replace("/slack/events", "/healthz")
    acks: list[float] = []
    checks: list[float] = []
    failures: list[str] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:

        async def one(due: float, into: list[float], index: int | None = None) -> None:
            if index is not None:
                body, headers = signed_command(verifier, fake, f"{label} item {index}", REPORTER)
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent = time.perf_counter()
            try:
                if index is None:
                    response = await client.get(health)
                else:
                    response = await client.post(url, content=body, headers=headers)
                status = str(response.status_code)
            except httpx.HTTPError as error:
                status = type(error).__name__
            into.append(time.perf_counter() - sent)
            if status != "200":
                failures.append(status)

        begin = time.perf_counter() + 0.2
        await asyncio.gather(
            *(one(begin + i / rate, acks, i) for i in range(int(rate * seconds))),
            *(one(begin + i / 5, checks) for i in range(int(5 * seconds))),
        )
    if failures:
        print(f"{label}: no 200 for {len(failures)}: {sorted(set(failures))}", file=sys.stderr)
    return acks, checks, len(failures)


async def run(url: str, fake: FakeSlack, args: argparse.Namespace) -> tuple[list[str], int, float]:
    rows: list[str] = []

    def row(name: str, acks: list[float], checks: list[float], failures: int) -> None:
        ms = [percentile(acks, 0.5) * 1000, percentile(acks, 0.99) * 1000]
        rows.append(
            f"| {name} | {ms[0]:.1f} ms | {ms[1]:.1f} ms | {failures} | "
            f"{percentile(checks, 0.99) * 1000:.1f} ms |"
        )

    await measure(url, fake, 50, 1, "warmup")
    acks, checks, failures = await measure(url, fake, args.rate, args.seconds, "baseline")
    row("baseline", acks, checks, failures)
    baseline_failures = failures

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    opening = time.perf_counter()
    conns = await asyncio.gather(
        *(connect(host, port, KINDS[i % len(KINDS)]) for i in range(args.slow))
    )
    print(f"opened {len(conns)} hostile connections in {time.perf_counter() - opening:.2f}s")
    holders = [asyncio.create_task(hold(conn)) for conn in conns]
    acks, checks, failures = await measure(url, fake, args.rate, args.seconds, "hostile")
    row(f"{args.slow} hostile", acks, checks, failures)
    failed = baseline_failures + failures
    p99 = percentile(acks, 0.99) * 1000

    await asyncio.sleep(max(0.0, opening + args.hold - time.perf_counter()))
    rows.append(f"\nWhat the server did with them within {args.hold:.0f}s of opening:")
    for kind in KINDS:
        mine = [c for c in conns if c.kind == kind]
        answers = {c.answer.split(b"\r\n")[0].decode(errors="replace") for c in mine if c.answer}
        rows.append(
            f"- {kind} ({len(mine)}): closed {when([c.closed for c in mine])}; "
            f"answered {when([c.answered for c in mine])}"
            + (f" {sorted(answers)}" if answers else "")
        )
    for task in holders:
        task.cancel()
    await asyncio.gather(*holders, return_exceptions=True)
    return rows, failed, p99


def when(seconds: list[float | None]) -> str:
    done = [s for s in seconds if s is not None]
    return f"{len(done)}, median after {statistics.median(done):.1f}s" if done else "0"


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rate", type=float, default=100.0)
    options.add_argument("--seconds", type=float, default=6.0)
    options.add_argument("--slow", type=int, default=1000)
    options.add_argument("--hold", type=float, default=22.0, help="seconds of hostile time")
    options.add_argument("--database-url", help="default: a fresh SQLite file")
    args = options.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < args.slow + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        add_bench_team(fake)
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": args.database_url or f"sqlite:///{folder}/bench.db",
        }
        problems: list[str] = []
        command = ["-m", "handlers", "serve", "--host", "127.0.0.1", "--port", "0"]
        server, url = start([sys.executable, *command], env, problems)
        try:
            body, headers = signed_command(
                SignatureVerifier(SECRET), fake, f"/role <@{PM}> product", PM
            )
            httpx.post(url, content=body, headers=headers).raise_for_status()
            gc.disable()  # the bench's own pauses would read as server latency
            rows, failed, p99 = asyncio.run(run(url, fake, args))
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(f"\nSigned /feedback at {args.rate:.0f} req/s for {args.seconds:.0f}s, /healthz at 5/s\n")
    print("| condition | ack p50 | ack p99 | non-200 | healthz p99 |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nServer warnings and errors: {len(problems)}")
    for line in problems[:10]:
        print(f"  {line}")
    return 1 if failed or p99 > 100 else 0


if __name__ == "__main__":
    sys.exit(main())
