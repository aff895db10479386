"""`rolecall demo`: a scripted team week, end to end, with no Slack workspace.

It starts the local fake Slack Web API, serves the real app over HTTP on loopback with a throwaway
SQLite database, sends signed requests exactly as Slack would, and prints what each person saw.
"""

import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.tick import Ticker
from handlers.runtime import connect, start_http
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from sandbox.workspace import Seen

SECRET = "demo-signing-secret"
TEAM = "CLAUNCH"
MAYA, OMAR, LEE, SAM = "UMAYA", "UOMAR", "ULEE", "USAM"
TRIAGE = "CTRIAGE"


class DemoClock:
    """The demo's own time: the week is scripted, so days pass at the script's command."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Transcript:
    """Prints each step, then what it made people see, once per place it appeared."""

    def __init__(self, fake: FakeSlack, out: TextIO) -> None:
        self.fake = fake
        self.out = out
        self.shown = 0

    def step(self, who: str, action: str, until: Callable[[], bool] = lambda: True) -> None:
        self.fake.wait_for(until)
        self.out.write(f"\n▶ {who}: {action}\n")
        self._flush()

    def _flush(self) -> None:
        new = self.fake.seen[self.shown :]
        self.shown = len(self.fake.seen)
        printed: set[tuple[str, str, str]] = set()
        for seen in new:
            key = (seen.where, seen.kind, seen.text)
            if seen.kind != "ephemeral" and key in printed:
                continue
            printed.add(key)
            self.out.write(f"   {self._place(seen)}\n")
            body = self.fake.render(seen.text, seen.blocks)
            for line in body.splitlines()[:12]:
                self.out.write(f"      │ {line[:160]}\n")

    def _place(self, seen: Seen) -> str:
        name = self.fake.users.get(seen.audience, {}).get("name", seen.audience)
        channel = self.fake.channels.get(seen.where, {})
        if seen.kind == "ephemeral":
            return f"only {name} sees, in #{channel.get('name', seen.where)}:"
        updated = "card updated " if seen.kind == "update" else ""
        if channel.get("is_im"):
            owner = self.fake.users[channel["user"]]["name"]
            return f"{updated}in {owner}'s DM:" if updated else f"DM to {owner}:"
        return f"{updated}in #{channel.get('name', seen.where)}:"


def run_demo(out: TextIO) -> None:
    started = time.monotonic()
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as folder:
        for user_id, name in [(MAYA, "maya"), (OMAR, "omar"), (LEE, "lee"), (SAM, "sam")]:
            fake.add_user(user_id, name)
        fake.add_channel(TEAM, "launch", [MAYA, OMAR, LEE, SAM])
        fake.add_channel(TRIAGE, "product-triage", [MAYA, SAM])
        settings = Settings(
            slack_bot_token="xoxb-demo",
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
            database_url=f"sqlite:///{Path(folder) / 'demo.db'}",
        )
        clock = DemoClock(datetime(2026, 11, 30, 9, 30, tzinfo=UTC))
        server = start_http(settings, "127.0.0.1", 0, clock=clock, schedule=False)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        # The scheduler's job, run by hand at chosen instants (what `rolecall tick --at` does).
        services = connect(settings, clock, sleep=lambda _: None).services
        slack = SignedClient(f"http://127.0.0.1:{server.port}/slack/events", SECRET, fake)
        show = Transcript(fake, out)
        out.write(
            "Rolecall demo: #launch has maya (product manager), omar (project manager),\n"
            "lee (engineer) and sam (customer success). Everything below went through signed\n"
            "HTTP requests to the real app and a local stand-in for Slack's Web API.\n"
            "It is Monday 30 November 2026, 09:30 UTC (the team's time zone). Later, days pass:\n"
            "each `tick` is what the in-process scheduler does every minute.\n"
        )
        try:
            _week(slack, fake, show)
            _time_loop(slack, fake, show, services.ticker, clock)
        finally:
            slack.close()
            server.stop()
            thread.join(timeout=5)
            services.db.dispose()
        out.write(f"\nDemo finished in {time.monotonic() - started:.1f}s.\n")


def _week(slack: SignedClient, fake: FakeSlack, show: Transcript) -> None:
    def dm_cards(user_id: str) -> list[dict[str, object]]:
        return [m for m in fake.dms_to(user_id) if m["blocks"]]

    def responses(count: int) -> Callable[[], bool]:
        return lambda: len(fake.calls_to("response_url")) >= count

    slack.command("/role", "", LEE, TEAM)
    show.step("lee", "/role", responses(1))
    slack.command("/role", f"<@{MAYA}|maya> product", LEE, TEAM)
    show.step("lee", "/role @maya product  (anyone may set up a team with no roles)", responses(2))
    slack.command("/role", f"<@{OMAR}|omar> project", MAYA, TEAM)
    show.step("maya", "/role @omar project", responses(3))
    slack.command("/role", f"<@{SAM}|sam> product", SAM, TEAM)
    show.step("sam", "/role @sam product  (not a role holder: refused)", responses(4))

    slack.command("/feedback", "Acme asked for SSO before their renewal in March", SAM, TEAM)
    show.step(
        "sam",
        "/feedback Acme asked for SSO before their renewal in March",
        lambda: len(dm_cards(MAYA)) >= 1,
    )

    quote, _ = slack.say(TEAM, SAM, 'Customer quote from Globex: "exports time out over 10k rows"')
    slack.react(TEAM, LEE, quote["ts"], "bulb")
    show.step("lee", "reacts :bulb: to sam's customer quote", lambda: len(dm_cards(MAYA)) >= 2)
    slack.react(TEAM, OMAR, quote["ts"], "bulb")
    show.step(
        "omar",
        "reacts :bulb: to the same quote (a +1, not a second card)",
        lambda: sum(s.kind == "ephemeral" for s in fake.seen_by(OMAR)) >= 1,
    )

    slack.say(TEAM, LEE, "blocker: staging database is down, migrations can't run <!channel>")
    show.step(
        "lee",
        "posts `blocker: staging database is down … @channel`  (no ping escapes)",
        lambda: len(dm_cards(OMAR)) >= 1,
    )

    blocker_card = dm_cards(OMAR)[0]
    omar_dm = fake.dm_channel(OMAR)
    slack.click(OMAR, omar_dm, str(blocker_card["ts"]), "item_acknowledge", _item_id(blocker_card))
    show.step("omar", "presses Acknowledge on the blocker card", lambda: len(fake.dms_to(LEE)) >= 1)
    slack.click(OMAR, omar_dm, str(blocker_card["ts"]), "item_resolve", _item_id(blocker_card))
    show.step("omar", "presses Resolve", lambda: len(fake.dms_to(LEE)) >= 2)

    sso_card = dm_cards(MAYA)[0]
    slack.click(MAYA, fake.dm_channel(MAYA), str(sso_card["ts"]), "item_plan", _item_id(sso_card))
    show.step("maya", "presses Plan on the SSO card", lambda: len(fake.dms_to(SAM)) >= 1)

    slack.command("/rolecall", f"queue product <#{TRIAGE}|product-triage>", MAYA, TEAM)
    show.step(
        "maya",
        "/rolecall queue product #product-triage  (cards to a channel, not DMs)",
        responses(5),
    )
    slack.command("/feedback", "Dark mode, please: three customers asked this week", SAM, TEAM)
    show.step(
        "sam",
        "/feedback Dark mode, please: three customers asked this week",
        lambda: len(fake.messages[TRIAGE]) >= 1,
    )
    card = fake.messages[TRIAGE][0]
    slack.click(SAM, TRIAGE, str(card["ts"]), "item_decline", _item_id(card))
    show.step(
        "sam", "presses Decline in #product-triage (not the product manager: refused)", responses(6)
    )
    slack.click(MAYA, TRIAGE, str(card["ts"]), "item_duplicate", _item_id(card))
    show.step("maya", "presses Duplicate", lambda: len(fake.dms_to(SAM)) >= 2)

    slack.command("/feedback", "list", MAYA, TEAM)
    show.step("maya", "/feedback list")


def _time_loop(
    slack: SignedClient, fake: FakeSlack, show: Transcript, ticker: Ticker, clock: DemoClock
) -> None:
    """Milestones, a nudge, an escalation and the weekly digest thread, as days pass."""

    def responses(count: int) -> Callable[[], bool]:
        return lambda: len(fake.calls_to("response_url")) >= count

    def tick(at: datetime, label: str) -> None:
        clock.now = at
        ticker.tick(at)
        show.step("scheduler", f"tick at {label}")

    asked = len(fake.calls_to("response_url"))
    slack.command("/milestone", f"add Public beta 2026-12-02 <@{LEE}|lee>", OMAR, TEAM)
    show.step("omar", "/milestone add Public beta 2026-12-02 @lee", responses(asked + 1))
    cards_before = len(fake.dms_to(OMAR))
    slack.command("/blocker", "Signing keys for the beta build are missing #Public beta", LEE, TEAM)
    show.step(
        "lee",
        "/blocker Signing keys for the beta build are missing #Public beta",
        lambda: len(fake.dms_to(OMAR)) > cards_before,
    )
    tick(datetime(2026, 12, 1, 9, tzinfo=UTC), "Tue 1 Dec 09:00")
    tick(
        datetime(2026, 12, 1, 10, tzinfo=UTC), "Tue 1 Dec 10:00  (nobody acknowledged the blocker)"
    )
    tick(datetime(2026, 12, 2, 9, tzinfo=UTC), "Wed 2 Dec 09:00")
    tick(datetime(2026, 12, 3, 9, tzinfo=UTC), "Thu 3 Dec 09:00  (the beta slipped)")
    slack.command("/milestone", "move Public beta 2026-12-09", OMAR, TEAM)
    show.step("omar", "/milestone move Public beta 2026-12-09", responses(asked + 2))
    tick(datetime(2026, 12, 7, 9, tzinfo=UTC), "Mon 7 Dec 09:00  (digest day)")
    digest = next(m for m in fake.messages[TEAM] if "Weekly digest" in m["text"])
    project = [m for m in fake.messages[TEAM] if m.get("thread_ts") == digest["ts"]][1]
    slack.click(OMAR, TEAM, str(project["ts"]), "item_acknowledge", _item_id(project))
    show.step(
        "omar",
        "presses Acknowledge on the blocker in the digest thread",
        lambda: len(fake.calls_to("chat.update")) >= 6,
    )


def _item_id(card: dict[str, object]) -> str:
    blocks = card["blocks"]
    assert isinstance(blocks, list)
    actions = next(b for b in blocks if b["type"] == "actions")
    return str(actions["elements"][0]["value"])
