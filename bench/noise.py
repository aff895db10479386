"""The noise of a month: who Rolecall messages, how often, and at what hour, for a scripted team.

A 12-person team in one channel, in three time zones (Europe/Berlin x5, America/New_York x4,
Asia/Kolkata x3; the team's zone Europe/Berlin): a product manager, two project managers (Berlin,
New York) and a founder holding both roles. From Monday 30 Nov 2026 00:00 UTC, each person acts
in their own working hours through signed slash commands and button clicks (in process, through
the same `Endpoint` `rolecall serve` runs, with an injected clock): 20 feedback, 10 blockers
(some acknowledged a day or two later, some never, two filed by project managers), 6 milestones
(some closed on time, some left overdue), 15 deadlines (some done, some left overdue, two due on
a Monday, one for a project manager), a team holiday and a week away. The time loop runs every
15 minutes of simulated time, as `rolecall tick` does.

Every message the fake Slack received is read back: a message *reaches* a person when it is a
DM to them or a channel post that mentions them. Ephemerals, and what a person is sent while
handling their own command or click, are counted apart. Working hours are 09:00-17:00 in the
recipient's own zone, Monday to Friday, except the team holiday and the days they are away.
An *event* is read from a message's lines: the escalation of blocker #N, or a reminder about one
milestone or deadline on one local day; a double ping is an event reaching one person twice.
Weeks are ISO weeks of the recipient's own date.

Usage: python bench/noise.py [--database-url URL] [--days 31] [--json]
       python bench/noise.py --compare BEFORE.json AFTER.json
Without --database-url a fresh SQLite file; with a PostgreSQL URL, a schema of its own in that
database (rolecall_bench_noise), dropped at the end. The month runs unchanged against older code:
`PYTHONPATH=/path/to/old/checkout python bench/noise.py` (commands that code lacks get a usage
reply, and the month carries on).
"""

import argparse
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from ack_latency import scratch_databases

from handlers.runtime import build_runtime
from handlers.settings import Settings
from handlers.web import Endpoint
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient

SECRET = "bench-signing-secret"
TEAM = "CTEAM"
START = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
TICK = timedelta(minutes=15)
TEAM_ZONE = "Europe/Berlin"
WORK_START, WORK_END = wall(9, 0), wall(17, 0)
HOLIDAY = date(2026, 12, 24)
AWAY = (date(2026, 12, 14), date(2026, 12, 18))
BERLIN, NEW_YORK, KOLKATA = "Europe/Berlin", "America/New_York", "Asia/Kolkata"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    zone: str
    roles: tuple[str, ...] = ()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


PEOPLE = [
    Person("UFRIDA", "frida", BERLIN, ("product", "project")),  # the founder, a workspace admin
    Person("UANNA", "anna", BERLIN, ("product",)),
    Person("UBEN", "ben", BERLIN, ("project",)),
    Person("UCLARA", "clara", BERLIN),
    Person("UDIRK", "dirk", BERLIN),
    Person("UNINA", "nina", NEW_YORK, ("project",)),  # away 14-18 Dec
    Person("UOMAR", "omar", NEW_YORK),
    Person("UPAT", "pat", NEW_YORK),
    Person("UQUINN", "quinn", NEW_YORK),
    Person("URAVI", "ravi", KOLKATA),
    Person("USITA", "sita", KOLKATA),
    Person("UTARA", "tara", KOLKATA),
]
BY_NAME = {p.name: p for p in PEOPLE}
BY_ID = {p.id: p for p in PEOPLE}
FOUNDER, AWAY_PERSON = BY_NAME["frida"], BY_NAME["nina"]
PROJECT_MANAGERS = [p for p in PEOPLE if "project" in p.roles]


def off_day(person: Person, day: date) -> bool:
    """A weekend, the team holiday, or a day the person is away."""
    away = person is AWAY_PERSON and AWAY[0] <= day <= AWAY[1]
    return day.weekday() >= 5 or day == HOLIDAY or away


def off_hours(person: Person, at: datetime) -> bool:
    local = at.astimezone(person.tz).time()
    return not WORK_START <= local < WORK_END


# The script ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One thing a person does at a local time of theirs: a slash command, or `ack` (press
    Acknowledge on a blocker's card) or `done` (close a deadline by the number it was given)."""

    day: date
    clock: str
    actor: Person
    command: str
    text: str = ""

    @property
    def at(self) -> datetime:
        hour, minute = map(int, self.clock.split(":"))
        return datetime.combine(self.day, wall(hour, minute), tzinfo=self.actor.tz).astimezone(UTC)


@dataclass(frozen=True)
class Milestone:
    name: str
    due: date
    owner: Person | None
    added_by: Person
    closed: date | None  # None: left open, overdue at the end


@dataclass(frozen=True)
class Deadline:
    task: str
    due: date
    assignee: Person
    set_by: Person
    done: date | None


@dataclass(frozen=True)
class Blocker:
    text: str
    filed: tuple[date, str]
    reporter: Person
    acknowledged: tuple[date, str, Person] | None


def d(day: int) -> date:
    """A day of December 2026 (0: Mon 30 Nov)."""
    return date(2026, 12, day) if day else date(2026, 11, 30)


P = BY_NAME
MILESTONES = [
    Milestone("Public beta", d(11), P["clara"], P["ben"], d(11)),
    Milestone("Billing v2", d(9), P["omar"], P["nina"], None),
    Milestone("Mobile app", d(18), None, P["ben"], d(17)),
    Milestone("Data export", d(15), P["ravi"], P["ben"], None),
    Milestone("Partner API", d(22), None, P["nina"], None),
    Milestone("Year-end release", d(30), P["dirk"], P["frida"], d(30)),
]
DEADLINES = [
    Deadline("Write the launch post", d(3), P["quinn"], P["nina"], d(3)),
    Deadline("Fix the login redirect", d(4), P["ravi"], P["ben"], d(7)),
    Deadline("Update the pricing page", d(7), P["pat"], P["nina"], d(7)),  # a Monday
    Deadline("Security review", d(8), P["clara"], P["ben"], None),
    Deadline("Migrate the staging database", d(10), P["dirk"], P["ben"], d(9)),
    Deadline("Customer webinar deck", d(11), P["quinn"], P["nina"], None),
    Deadline("Android crash triage", d(14), P["sita"], P["ben"], d(15)),  # a Monday
    Deadline("Q1 roadmap draft", d(16), P["anna"], P["frida"], d(16)),
    Deadline("Vendor contract", d(17), P["nina"], P["ben"], d(21)),  # due while she is away
    Deadline("Load test report", d(18), P["omar"], P["nina"], None),
    Deadline("Onboarding emails", d(21), P["tara"], P["ben"], d(21)),
    Deadline("Accessibility audit", d(22), P["pat"], P["nina"], None),
    Deadline("Unblock the CI runners", d(23), P["ben"], P["nina"], None),  # from Ben's blocker
    Deadline("Holiday on-call rota", d(24), P["dirk"], P["ben"], d(23)),  # due on the holiday
    Deadline("Release notes", d(29), P["sita"], P["frida"], None),
]
BLOCKERS = [
    Blocker(
        "Staging is down since the deploy", (d(0), "10:30"), P["clara"], (d(1), "11:00", P["ben"])
    ),
    Blocker("Payment sandbox keys expired", (d(1), "15:00"), P["omar"], (d(3), "10:00", P["nina"])),
    Blocker("No access to the analytics bucket", (d(2), "10:00"), P["ravi"], None),
    Blocker("CI runners are out of disk", (d(3), "16:30"), P["ben"], None),  # a PM's own
    Blocker("We need a decision on EU hosting", (d(4), "16:50"), P["frida"], None),  # both roles
    Blocker(
        "No designs for the empty states", (d(7), "09:30"), P["sita"], (d(9), "14:00", P["frida"])
    ),
    Blocker(
        "Copy review is stuck with legal", (d(10), "16:45"), P["pat"], (d(14), "09:15", P["ben"])
    ),
    Blocker("End-to-end tests are flaky", (d(11), "15:00"), P["dirk"], None),
    Blocker("The CRM export is broken", (d(16), "11:00"), P["quinn"], (d(18), "10:00", P["ben"])),
    Blocker("Support macros were lost", (d(22), "12:00"), P["tara"], None),
]
FEEDBACK = [
    "Bulk edit for tasks",
    "Dark mode for the dashboard",
    "SSO with Okta for Acme",
    "Export reports as PDF",
    "Keyboard shortcuts in the editor",
    "Slack notifications per project",
    "A mobile widget for today's tasks",
    "Recurring tasks",
    "Custom fields on invoices",
    "Faster search in large workspaces",
    "Two-factor login by SMS",
    "An audit log for admins",
    "Undo for archived projects",
    "Calendar sync with Outlook",
    "Guest access for contractors",
    "Bigger file uploads",
    "Gantt view for milestones",
    "Templates for onboarding checklists",
    "A public API for time entries",
    "Per-team billing",
]
FEEDBACK_BY = ["clara", "omar", "ravi", "quinn", "pat", "sita", "tara", "dirk", "anna", "omar"]
FEEDBACK_DAYS = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 15, 16, 17, 18, 21, 22, 23, 28]


def script() -> list[Step]:
    """The month, each step at a working time of its actor."""
    steps = [
        Step(d(0), "09:05", FOUNDER, "/rolecall", f"timezone {TEAM_ZONE}"),
        *(
            Step(d(0), "09:06", FOUNDER, "/role", f"<@{p.id}|{p.name}> {role}")
            for p in PEOPLE
            for role in p.roles
        ),
        Step(d(0), "09:10", FOUNDER, "/rolecall", "workweek mon-fri 09:00-17:00"),
        Step(d(0), "09:11", FOUNDER, "/rolecall", f"holiday add {HOLIDAY} Christmas Eve"),
        Step(d(10), "10:00", AWAY_PERSON, "/rolecall", f"away {AWAY[0]} {AWAY[1]}"),
    ]
    for n, milestone in enumerate(MILESTONES):
        owner = f" <@{milestone.owner.id}|{milestone.owner.name}>" if milestone.owner else ""
        text = f"add {milestone.name} {milestone.due}{owner}"
        steps.append(Step(d(n // 3), "11:00", milestone.added_by, "/milestone", text))
        if milestone.closed:
            by = milestone.added_by
            steps.append(
                Step(milestone.closed, "15:00", by, "/milestone", f"done {milestone.name}")
            )
    for n, deadline in enumerate(DEADLINES):
        text = f"{deadline.task} {deadline.due} <@{deadline.assignee.id}|{deadline.assignee.name}>"
        steps.append(Step(d(min(n, 4)), "12:00", deadline.set_by, "/deadline", text))
        if deadline.done:
            steps.append(Step(deadline.done, "14:30", deadline.assignee, "done", deadline.task))
    for blocker in BLOCKERS:
        day, at = blocker.filed
        steps.append(Step(day, at, blocker.reporter, "/blocker", blocker.text))
        if blocker.acknowledged:
            day, at, pm = blocker.acknowledged
            steps.append(Step(day, at, pm, "ack", blocker.text))
    for n, text in enumerate(FEEDBACK):
        person = BY_NAME[FEEDBACK_BY[n % len(FEEDBACK_BY)]]
        steps.append(
            Step(d(FEEDBACK_DAYS[n]), f"{10 + n % 6}:{(n * 7) % 60:02d}", person, "/feedback", text)
        )
    return sorted(steps, key=lambda s: s.at)


# Running it ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Post:
    """One chat.postMessage the fake Slack took, and when in the simulated month."""

    at: datetime
    actor: str | None  # who acted (a command, a click); None: the time loop
    channel: str
    dm_to: str | None
    thread: bool
    text: str
    lines: list[str]


def in_process(endpoint: Endpoint) -> httpx.MockTransport:
    """Signed requests answered by the same `Endpoint` `rolecall serve` runs, without a socket.
    The tests' fixture has the same few lines; the bench keeps its own because it also runs
    against older code (`PYTHONPATH=<worktree>`), whose tree may lack any shared home for it."""

    def answer(request: httpx.Request) -> httpx.Response:
        reply = endpoint.handle(
            request.method,
            request.url.path,
            request.url.query.decode(),
            {key.lower(): value for key, value in request.headers.items()},
            request.read(),
        )
        return httpx.Response(reply.status, content=reply.body, headers=reply.headers)

    return httpx.MockTransport(answer)


def texts(node: Any) -> Iterator[str]:
    """Every text in a message's blocks, in order."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), str):
            yield node["text"]
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                yield from texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from texts(value)


@dataclass
class Month:
    fake: FakeSlack
    slack: SignedClient
    clock: Clock
    posts: list[Post] = field(default_factory=list)
    ephemerals: Counter[str] = field(default_factory=Counter)
    usage_replies: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # a step the app said no to, or ignored
    deadline_ids: dict[str, str] = field(default_factory=dict)
    blocker_ids: dict[str, str] = field(default_factory=dict)
    seen_calls: int = 0

    def collect(self, actor: str | None) -> list[str]:
        """Read the calls the fake took since the last look, as made at the clock's instant;
        the texts of the ephemerals among them."""
        calls = self.fake.calls[self.seen_calls :]
        self.seen_calls += len(calls)
        replies: list[str] = []
        for call in calls:
            if call.error is not None:
                continue
            if call.method in {"chat.postEphemeral", "response_url", "command_reply"}:
                self.ephemerals[str(call.params.get("user") or actor)] += 1
                blocks = call.params.get("blocks") or []
                replies.append("\n".join(texts(blocks)) or str(call.params.get("text", "")))
            if call.method != "chat.postMessage":
                continue
            channel = str(call.params.get("channel", ""))
            dm_to = channel if channel.startswith(("U", "W")) else None
            if dm_to is None and self.fake.channels.get(channel, {}).get("is_im"):
                dm_to = str(self.fake.channels[channel]["user"])
            text = str(call.params.get("text", ""))
            blocks = call.params.get("blocks") or []
            body = "\n".join(texts(blocks)) if blocks else text
            self.posts.append(
                Post(
                    self.clock.now,
                    actor,
                    channel,
                    dm_to,
                    bool(call.params.get("thread_ts")),
                    text,
                    body.splitlines(),
                )
            )
        return replies

    def run(self, step: Step) -> None:
        self.clock.now = step.at
        if step.command == "ack":
            self.acknowledge(step.actor, self.blocker_ids.get(step.text))
        elif step.command == "done":
            number = self.deadline_ids.get(step.text, step.text)
            self.slack.command("/deadline", f"done {number}", step.actor.id, TEAM)
        else:
            self.slack.command(step.command, step.text, step.actor.id, TEAM)
        reply = "\n".join(self.collect(step.actor.id))
        label = f"{step.actor.name}: {step.command} {step.text}"
        if "Usage" in reply:
            self.usage_replies.append(label)
        elif reply.startswith("Sorry") or (not reply and step.command != "ack"):
            self.refused.append(f"{label} -> {reply[:120]!r}")
        if step.command == "/deadline":
            found = re.search(r"Deadline `(\d+)`", reply)
            if found:
                self.deadline_ids[step.text.rsplit(" ", 2)[0]] = found.group(1)
        if step.command == "/blocker":
            self.blocker_ids[step.text] = self.blocker_id(step.text)

    def blocker_id(self, text: str) -> str:
        """The new blocker's item id, read from the Acknowledge button on one of its cards."""
        for messages in self.fake.messages.values():
            for message in messages:
                if text in json.dumps(message.get("blocks") or []) + message["text"]:
                    for button in buttons(message):
                        if button.get("action_id") == "item_acknowledge":
                            return str(button["value"])
        raise RuntimeError(f"no card with an Acknowledge button for the blocker {text!r}")

    def acknowledge(self, pm: Person, item: str | None) -> None:
        """Press Acknowledge on the blocker's card: the one in the PM's DM, else any copy."""
        cards = [
            (channel, message)
            for channel, messages in self.fake.messages.items()
            for message in messages
            if any(
                b.get("action_id") == "item_acknowledge" and b.get("value") == item
                for b in buttons(message)
            )
        ]
        if not cards:
            raise RuntimeError(f"no card to acknowledge blocker #{item} on")
        mine = [c for c in cards if c[0] == self.fake.dm_channel(pm.id)]
        channel, message = (mine or cards)[0]
        self.slack.click(pm.id, channel, message["ts"], "item_acknowledge", str(item))


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def live_month(database_url: str | None, days: int) -> tuple[Month, float, int]:
    """Run the scripted month; the month's record, its wall time and the number of ticks."""
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        (url,), drop = scratch_databases(database_url, folder, ["noise"])
        for person in PEOPLE:
            fake.add_user(person.id, person.name, tz=person.zone, is_admin=person is FOUNDER)
        fake.add_channel(TEAM, "team", [p.id for p in PEOPLE])
        settings = Settings(
            slack_bot_token="xoxb-bench",
            slack_signing_secret=SECRET,
            slack_api_url=fake.api_url,
            database_url=url,
        )
        clock = Clock()
        runtime = build_runtime(settings, clock, inline=True, sleep=lambda _: None)
        slack = SignedClient(
            "http://rolecall.bench/slack/events", SECRET, fake, in_process(runtime.endpoint)
        )
        month = Month(fake, slack, clock)
        month.collect(None)  # nothing of setting up the runtime is a message
        end = START + timedelta(days=days)
        steps = [s for s in script() if s.at < end]
        for step in steps:
            assert not off_day(step.actor, step.at.astimezone(step.actor.tz).date()), step
            assert not off_hours(step.actor, step.at), step
        started = time.perf_counter()
        at, ticks = START, 0
        while at < end:
            while steps and steps[0].at <= at:
                month.run(steps.pop(0))
            clock.now = at
            runtime.tenants.tick(at)
            month.collect(None)
            at, ticks = at + TICK, ticks + 1
        elapsed = time.perf_counter() - started
        slack.close()
        runtime.close()
        drop()
        return month, elapsed, ticks


# Reading it ------------------------------------------------------------------------------------

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
BROADCAST = re.compile(r"<!(channel|here|everyone)(?:\|[^<>]*)?>")
REMINDER_WORDS = re.compile(r"\bis due\b|\bdue (tomorrow|today)\b|\boverdue\b", re.IGNORECASE)
ESCALATION = re.compile(r"blocker \*?#(\d+)\b", re.IGNORECASE)
ESCALATION_WORDS = re.compile(r"acknowledg|escalat|waited|waiting", re.IGNORECASE)


def line_events(line: str, day: date) -> list[tuple[str, ...]]:
    """The reminder events a line is about: ('escalation', N), or ('milestone'|'deadline',
    name, local day)."""
    found: list[tuple[str, ...]] = []
    escalation = ESCALATION.search(line)
    if escalation and ESCALATION_WORDS.search(line):
        found.append(("escalation", escalation.group(1)))
    if REMINDER_WORDS.search(line):
        for milestone in MILESTONES:
            if f"*{milestone.name}*" in line:
                found.append(("milestone", milestone.name, day.isoformat()))
        for deadline in DEADLINES:
            if f"*{deadline.task}*" in line:
                found.append(("deadline", deadline.task, day.isoformat()))
    return found


def is_digest(post: Post) -> bool:
    return post.thread or "digest" in post.text.lower()


@dataclass
class Reach:
    """One message reaching one person."""

    post: Post
    person: Person
    by_dm: bool
    events: list[tuple[str, ...]]

    @property
    def local(self) -> datetime:
        return self.post.at.astimezone(self.person.tz)

    @property
    def week(self) -> str:
        year, week, _ = self.local.date().isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def kind(self) -> str:
        if is_digest(self.post):
            return "digest"
        return "reminder" if self.events else "other"

    @property
    def off_hours(self) -> bool:
        return off_hours(self.person, self.post.at)

    @property
    def off_day(self) -> bool:
        return off_day(self.person, self.local.date())


def reaches(post: Post) -> Iterator[Reach]:
    """Whom a message reaches, with the events it tells each of them about."""
    if post.dm_to is not None:
        person = BY_ID.get(post.dm_to)
        if person is not None:
            day = post.at.astimezone(person.tz).date()
            events = (
                []
                if is_digest(post)
                else [e for line in post.lines for e in line_events(line, day)]
            )
            yield Reach(post, person, True, events)
        return
    whole = "\n".join([post.text, *post.lines])
    everyone = BROADCAST.search(whole) is not None
    mentioned = set(MENTION.findall(whole))
    for person in PEOPLE:
        if not everyone and person.id not in mentioned:
            continue
        day = post.at.astimezone(person.tz).date()
        events = []
        if not is_digest(post):
            for line in post.lines:
                if everyone or person.id in MENTION.findall(line):
                    events += line_events(line, day)
        yield Reach(post, person, False, events)


def analyse(month: Month, elapsed: float, ticks: int, days: int) -> dict[str, Any]:
    """The month's numbers, per person, per week, per project manager; as JSON-ready data."""
    counted: list[Reach] = []
    own: Counter[str] = Counter()
    for post in month.posts:
        for reach in reaches(post):
            if reach.post.actor == reach.person.id:
                own[reach.person.name] += 1  # their own command's or click's answer
            else:
                counted.append(reach)

    def row(group: list[Reach]) -> dict[str, int]:
        return {
            "received": len(group),
            "dms": sum(r.by_dm for r in group),
            "mentions": sum(not r.by_dm for r in group),
            "reminders": sum(r.kind == "reminder" for r in group),
            "digest": sum(r.kind == "digest" for r in group),
            "other": sum(r.kind == "other" for r in group),
            "off_hours": sum(r.off_hours for r in group),
            "off_days": sum(r.off_day for r in group),
            "off_hours_loop": sum(r.off_hours and r.post.actor is None for r in group),
            "off_days_loop": sum(r.off_day and r.post.actor is None for r in group),
        }

    pings: Counter[tuple[str, tuple[str, ...]]] = Counter()
    for reach in counted:
        for event in set(reach.events):
            pings[(reach.person.name, event)] += 1
    doubles = {key: n for key, n in pings.items() if n > 1}
    doubled_by: Counter[str] = Counter()
    for (name, _), n in doubles.items():
        doubled_by[name] += n - 1

    people = []
    for person in PEOPLE:
        mine = [r for r in counted if r.person is person]
        people.append(
            {
                "name": person.name,
                "zone": person.zone,
                "roles": "+".join(person.roles) or "-",
                **row(mine),
                "double_pings": doubled_by[person.name],
                "own_replies": own[person.name],
                "ephemerals": month.ephemerals[person.id],
            }
        )
    weeks = sorted({r.week for r in counted})
    per_week = [{"week": week, **row([r for r in counted if r.week == week])} for week in weeks]
    pm_weeks = {
        pm.name: {
            week: sum(
                1 for r in counted if r.person is pm and r.week == week and r.kind == "reminder"
            )
            for week in weeks
        }
        for pm in PROJECT_MANAGERS
    }
    reminder_total = sum(sum(w.values()) for w in pm_weeks.values())
    return {
        "code": sys.modules["handlers"].__file__,
        "days": days,
        "ticks": ticks,
        "seconds": round(elapsed, 1),
        "posts": len(month.posts),
        "posts_by_loop": sum(p.actor is None for p in month.posts),
        "reaches": len(counted),
        "people": people,
        "weeks": per_week,
        "pm_reminders_per_week": pm_weeks,
        # Per 7 days rather than per calendar week: the month's first and last weeks are short.
        "pm_reminders_per_7_days": round(reminder_total * 7 / (len(pm_weeks) * max(1, days)), 2),
        "double_pings": sum(n - 1 for n in doubles.values()),
        "off_time_loop_examples": [
            f"{r.person.name}, {r.local:%a %d %b %H:%M} their time, "
            f"{'DM' if r.by_dm else 'mention'}: {r.post.lines[0][:100] if r.post.lines else ''}"
            for r in counted
            if r.post.actor is None and (r.off_hours or r.off_day)
        ],
        "double_ping_examples": [
            f"{name}: {' '.join(event)} x{n}" for (name, event), n in sorted(doubles.items())[:10]
        ],
        "overdue": overdue_reached(counted, START.date() + timedelta(days=days), month),
        "usage_replies": month.usage_replies,
        "refused": month.refused,
    }


def overdue_reached(counted: list[Reach], end: date, month: Month) -> list[dict[str, Any]]:
    """Each item still overdue when the month ends, and whether it reached its owner at least
    once after it fell due (a blocker: whether any project manager heard of it)."""

    def heard(people: list[Person], kind: str, name: str, after: date | None) -> bool:
        return any(
            r.person in people
            and any(
                e[:2] == (kind, name) and (after is None or date.fromisoformat(e[2]) > after)
                for e in r.events
            )
            for r in counted
        )

    found: list[dict[str, Any]] = []
    for deadline in DEADLINES:
        if deadline.due < end - timedelta(days=1) and (
            deadline.done is None or deadline.done >= end
        ):
            reached = heard([deadline.assignee], "deadline", deadline.task, deadline.due)
            found.append(
                {
                    "item": f"deadline {deadline.task}",
                    "owner": deadline.assignee.name,
                    "reached": reached,
                }
            )
    for milestone in MILESTONES:
        if milestone.due < end - timedelta(days=1) and (
            milestone.closed is None or milestone.closed >= end
        ):
            owners = [milestone.owner] if milestone.owner else PROJECT_MANAGERS
            reached = heard(
                [*owners, *PROJECT_MANAGERS], "milestone", milestone.name, milestone.due
            )
            who = "/".join(p.name for p in owners)
            found.append({"item": f"milestone {milestone.name}", "owner": who, "reached": reached})
    for blocker in BLOCKERS:
        item = month.blocker_ids.get(blocker.text)
        if item is None or (blocker.acknowledged and blocker.acknowledged[0] < end):
            continue
        reached = heard(PROJECT_MANAGERS, "escalation", item, None)
        found.append({"item": f"blocker #{item}", "owner": "project managers", "reached": reached})
    return found


# Printing it -----------------------------------------------------------------------------------

PERSON_COLUMNS = [
    ("received", "received"),
    ("dms", "DMs"),
    ("mentions", "mentions"),
    ("reminders", "reminders"),
    ("digest", "digest"),
    ("off_hours", "off hours (loop)"),
    ("off_days", "off days (loop)"),
    ("double_pings", "double pings"),
]


def cell(entry: dict[str, Any], key: str) -> str:
    if key in {"off_hours", "off_days"}:
        return f"{entry[key]} ({entry[key + '_loop']})"
    return str(entry[key])


def markdown(result: dict[str, Any]) -> str:
    out = [
        f"Code: {result['code']} · {result['days']} days, {result['ticks']} ticks of 15 min in "
        f"{result['seconds']} s · {result['posts']} messages posted ({result['posts_by_loop']} by "
        f"the time loop), {result['reaches']} reaching someone",
        "",
        "| person | zone | roles | " + " | ".join(label for _, label in PERSON_COLUMNS) + " |",
        "| --- | --- | --- | " + " | ".join("---:" for _ in PERSON_COLUMNS) + " |",
    ]
    for person in result["people"]:
        cells = " | ".join(cell(person, key) for key, _ in PERSON_COLUMNS)
        out.append(f"| {person['name']} | {person['zone']} | {person['roles']} | {cells} |")
    week_columns = [c for c in PERSON_COLUMNS if c[0] != "double_pings"]
    out += [
        "",
        "| week | " + " | ".join(label for _, label in week_columns) + " |",
        "| --- | " + " | ".join("---:" for _ in week_columns) + " |",
    ]
    for week in result["weeks"]:
        cells = " | ".join(cell(week, key) for key, _ in week_columns)
        out.append(f"| {week['week']} | {cells} |")
    weeks = [w["week"] for w in result["weeks"]]
    out += [
        "",
        "| reminder messages to | " + " | ".join(weeks) + " |",
        "| --- | " + " | ".join("---:" for _ in weeks) + " |",
    ]
    for pm, counts in result["pm_reminders_per_week"].items():
        out.append(f"| {pm} | " + " | ".join(str(counts.get(w, 0)) for w in weeks) + " |")
    missed = [o for o in result["overdue"] if not o["reached"]]
    out += [
        "",
        f"- Off hours: {sum(p['off_hours'] for p in result['people'])} messages; on non-working "
        f"days: {sum(p['off_days'] for p in result['people'])} (in brackets above: those the "
        "time loop posted)",
        f"- Double pings (one event reaching one person again): {result['double_pings']}"
        + (
            f" — e.g. {'; '.join(result['double_ping_examples'][:4])}"
            if result["double_pings"]
            else ""
        ),
        f"- Reminder messages per project manager per 7 days: {result['pm_reminders_per_7_days']}",
        f"- Overdue at the end: {len(result['overdue'])} items, "
        f"{len(result['overdue']) - len(missed)} reached their owner"
        + (f"; not: {', '.join(o['item'] for o in missed)}" if missed else ""),
        f"- Replies to a person's own action (not counted): "
        f"{sum(p['own_replies'] for p in result['people'])}; ephemerals: "
        f"{sum(p['ephemerals'] for p in result['people'])}",
    ]
    if result["off_time_loop_examples"]:
        shown = result["off_time_loop_examples"][:6]
        out.append("- Posted by the time loop at a bad time, e.g.:")
        out += [f"  - {example}" for example in shown]
    if result["usage_replies"]:
        out.append(f"- Answered with a usage text: {'; '.join(result['usage_replies'])}")
    if result["refused"]:
        out.append(f"- Refused or unanswered steps: {'; '.join(result['refused'])}")
    return "\n".join(out)


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """The README's before/after table, from two --json outputs."""

    def total(result: dict[str, Any], key: str) -> int:
        return sum(int(p[key]) for p in result["people"])

    def reached(result: dict[str, Any]) -> str:
        return f"{sum(o['reached'] for o in result['overdue'])}/{len(result['overdue'])}"

    def per_pm(result: dict[str, Any]) -> str:
        return str(result["pm_reminders_per_7_days"])

    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("messages reaching someone", lambda r: str(total(r, "received"))),
        ("of which reminders (nudges, escalations)", lambda r: str(total(r, "reminders"))),
        ("outside the recipient's working hours", lambda r: str(total(r, "off_hours"))),
        ("… posted by the time loop", lambda r: str(total(r, "off_hours_loop"))),
        ("on the recipient's non-working days", lambda r: str(total(r, "off_days"))),
        ("… posted by the time loop", lambda r: str(total(r, "off_days_loop"))),
        ("double pings (one event reaching one person again)", lambda r: str(r["double_pings"])),
        ("reminder messages per project manager per 7 days", per_pm),
        ("overdue items that reached their owner", reached),
        ("month simulated in", lambda r: f"{r['seconds']} s"),
    ]
    out = ["| | before | after |", "| --- | ---: | ---: |"]
    out += [f"| {label} | {value(before)} | {value(after)} |" for label, value in rows]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(Path(path).read_text()) for path in args.compare)
        print(compare(before, after))
        return
    month, elapsed, ticks = live_month(args.database_url, args.days)
    result = analyse(month, elapsed, ticks, args.days)
    print(json.dumps(result, indent=1) if args.json else markdown(result))


if __name__ == "__main__":
    main()
