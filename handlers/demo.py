"""`rolecall demo`: a scripted team week, end to end, with no Slack workspace.

It starts the local fake Slack Web API, serves the real app over HTTP on loopback with a throwaway
SQLite database, sends signed requests exactly as Slack would, and prints what each person saw:
messages, cards, the modals a button or a shortcut opens, and each person's App Home.
"""

import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from bot.tick import Ticker
from handlers.runtime import connect, start_http
from handlers.settings import Settings
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from sandbox.workspace import Seen

SECRET = "demo-signing-secret"
TEAM = "CLAUNCH"
MAYA, OMAR, LEE, SAM = "UMAYA", "UOMAR", "ULEE", "USAM"
TRIAGE = "CTRIAGE"
EXPORT_TITLE = "Email a link when a bulk export finishes"
TRIAL_ADMINS = "Trial admins get stuck after signup: nobody shows them how to invite their team"
BULK_INVITE = "Let admins invite their whole team at once from a CSV file"
HOME_LINES = 20  # a Home is long: the transcript shows its top
MESSAGE_LINES = 16  # and of a long message too
LINE_WIDTH = 160


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

    def modal(self, user_id: str) -> None:
        """The modal open in front of the person, as they see it."""
        view = self.fake.open_views(user_id)[-1]
        name = self.fake.users[user_id]["name"]
        self.out.write(f"   a modal opens for {name}: «{view['title']['text']}»\n")
        self._lines(_view_lines(view))
        close, submit = view.get("close"), view.get("submit")
        buttons = [f"[{b['text']}]" for b in (close, submit) if b]
        self.out.write(f"      │ {' '.join(buttons)}\n")

    def home(self, user_id: str) -> None:
        """The top of the person's App Home tab, as last published."""
        view = self.fake.home_views[user_id]
        name = self.fake.users[user_id]["name"]
        self.out.write(f"   {name}'s Home tab:\n")
        lines = _view_lines(view, skip=("home_filters", "home_tag", "home_how_to"))
        self._lines(lines[:HOME_LINES])
        if len(lines) > HOME_LINES:
            self.out.write(f"      │ … ({len(lines) - HOME_LINES} more lines)\n")

    def _lines(self, lines: list[str]) -> None:
        for line in lines:
            self._write(self.fake.readable(line))

    def _flush(self) -> None:
        new = self.fake.seen[self.shown :]
        self.shown = len(self.fake.seen)
        printed: set[tuple[str, str, str]] = set()
        for seen in new:
            body = self.fake.render(seen.text, seen.blocks)
            key = (seen.where, seen.kind, body)  # each member of a channel sees it: print once
            if seen.kind != "ephemeral" and key in printed:
                continue
            printed.add(key)
            self.out.write(f"   {self._place(seen)}\n")
            lines = body.splitlines()
            for line in lines[:MESSAGE_LINES]:
                self._write(line)
            if len(lines) > MESSAGE_LINES:
                self.out.write(f"      │ … ({len(lines) - MESSAGE_LINES} more lines)\n")

    def _write(self, line: str) -> None:
        """One line of what someone saw; a long one goes on over the next lines, whole."""
        for part in textwrap.wrap(line, LINE_WIDTH) if len(line) > LINE_WIDTH else [line]:
            self.out.write(f"      │ {part}\n")

    def _place(self, seen: Seen) -> str:
        name = self.fake.users.get(seen.audience, {}).get("name", seen.audience)
        channel = self.fake.channels.get(seen.where, {})
        if seen.kind == "ephemeral":
            return f"only {name} sees, in #{channel.get('name', seen.where)}:"
        updated = "card updated " if seen.kind == "update" else ""
        if channel.get("is_im"):
            owner = self.fake.users[channel["user"]]["name"]
            return f"{updated}in {owner}'s DM:" if updated else f"DM to {owner}:"
        where = f"#{channel.get('name', seen.where)}"
        parent = self._thread_of(seen) if seen.kind == "message" else None
        if parent is not None:
            return f"in {where}, a reply in the thread of {parent}:"
        return f"{updated}in {where}:"

    def _thread_of(self, seen: Seen) -> str | None:
        """Whose message a bot reply answers in its thread, if it is a thread reply."""
        for message in self.fake.messages.get(seen.where, []):
            thread_ts = message.get("thread_ts")
            if message["text"] == seen.text and thread_ts and thread_ts != message["ts"]:
                parent = self.fake.find(seen.where, thread_ts) or {}
                author = self.fake.users.get(parent.get("user", ""), {}).get("name", "someone")
                return f"@{author}'s message"
        return None


def _view_lines(view: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """A modal or Home tab as a person reads it: texts, inputs with what they hold, buttons."""
    lines: list[str] = []
    for block in view.get("blocks", []):
        if skip and str(block.get("block_id", "")).startswith(skip):
            continue
        kind = block["type"]
        if kind in {"section", "header"}:
            lines.extend(block["text"]["text"].splitlines())
        elif kind == "context":
            lines.append(" ".join(e.get("text", "") for e in block["elements"]))
        elif kind == "actions":
            buttons = [f"[{e['text']['text']}]" for e in block["elements"] if e["type"] == "button"]
            if buttons:
                lines.append(" ".join(buttons))
        elif kind == "divider":
            lines.append("─" * 24)
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            shown = _initial(block["element"]) or "…"
            lines.append(f"{block['label']['text']}{optional}: [{shown[:90]}]")
    return lines


def _initial(element: dict[str, Any]) -> str | None:
    """What an input shows (and submits, if left alone) when the view opens."""
    option = element.get("initial_option")
    if option:
        return str(option["text"]["text"])
    for field in ("initial_value", "initial_conversation", "initial_date", "initial_user"):
        if element.get(field):
            value = str(element[field])
            if field == "initial_conversation":
                return f"<#{value}>"
            return value.replace("\n", " ⏎ ")
    return None


def _prefilled(view: dict[str, Any]) -> dict[str, Any]:
    """A view's inputs as Slack submits them when left as they opened, by action_id."""
    answers: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        option = element.get("initial_option")
        if option:
            answers[element["action_id"]] = option["value"]
        for field in ("initial_value", "initial_conversation", "initial_date", "initial_user"):
            if element.get(field):
                answers[element["action_id"]] = element[field]
    return answers


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
            _roadmap_scope_and_risks(slack, fake, show, clock)
            _homes(slack, fake, show)
        finally:
            slack.close()
            server.stop()
            thread.join(timeout=5)
            services.db.dispose()
        out.write(f"\nDemo finished in {time.monotonic() - started:.1f}s.\n")


def _week(slack: SignedClient, fake: FakeSlack, show: Transcript) -> None:
    maya_dm, omar_dm = fake.dm_channel(MAYA), fake.dm_channel(OMAR)

    def dm_cards(user_id: str) -> list[dict[str, Any]]:
        return [m for m in fake.dms_to(user_id) if m["blocks"]]

    def responses(more: int = 1) -> Callable[[], bool]:
        count = len(fake.calls_to("response_url")) + more
        return lambda: len(fake.calls_to("response_url")) >= count

    def more_dms(user_id: str, more: int = 1) -> Callable[[], bool]:
        count = len(fake.dms_to(user_id)) + more
        return lambda: len(fake.dms_to(user_id)) >= count

    def replies() -> list[dict[str, Any]]:
        """The bot's replies in threads of #launch: where a reporter hears back."""
        return [
            m
            for m in fake.messages[TEAM]
            if m["user"] == fake.bot_user_id and m.get("thread_ts") not in {None, m["ts"]}
        ]

    def more_replies() -> Callable[[], bool]:
        count = len(replies()) + 1
        return lambda: len(replies()) >= count

    def more_updates(more: int = 1) -> Callable[[], bool]:
        """A card (every copy of it) follows the item: wait for its updates to be shown."""
        count = len(fake.calls_to("chat.update")) + more
        return lambda: len(fake.calls_to("chat.update")) >= count

    def modal_open(user_id: str) -> Callable[[], bool]:
        return lambda: bool(fake.open_views(user_id))

    def submit(user_id: str, answers: dict[str, Any]) -> None:
        _submit(slack, fake, user_id, answers)

    # Roles ---------------------------------------------------------------------------------
    for user_id, text, label in [
        (LEE, "", "/role"),
        (
            LEE,
            f"<@{MAYA}|maya> product",
            "/role @maya product  (anyone may set up a team with no roles)",
        ),
        (MAYA, f"<@{OMAR}|omar> project", "/role @omar project"),
        (SAM, f"<@{SAM}|sam> product", "/role @sam product  (not a role holder: refused)"),
    ]:
        answered = responses()
        slack.command("/role", text, user_id, TEAM)
        show.step(fake.users[user_id]["name"], label, answered)

    # Raising things ------------------------------------------------------------------------
    slack.command("/feedback", "Acme asked for SSO before their renewal in March", SAM, TEAM)
    show.step(
        "sam",
        "/feedback Acme asked for SSO before their renewal in March",
        lambda: len(dm_cards(MAYA)) >= 1,
    )
    sso_card = dm_cards(MAYA)[0]

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

    # Blockers: lee raised it from a message, so he hears back in its thread ----------------
    blocker_card = dm_cards(OMAR)[0]
    blocker_id = _item_id(blocker_card)
    heard, card_updated = more_replies(), more_updates()
    slack.click(OMAR, omar_dm, str(blocker_card["ts"]), "item_acknowledge", blocker_id)
    show.step("omar", "presses Acknowledge on the blocker card", lambda: heard() and card_updated())
    slack.click(OMAR, omar_dm, str(blocker_card["ts"]), "item_resolve", blocker_id)
    show.step("omar", "presses Resolve", modal_open(OMAR))
    show.modal(OMAR)
    heard, card_updated = more_replies(), more_updates()
    submit(OMAR, {"reason": "Restarted the primary and added a disk alert. Migrations run again."})
    show.step(
        "omar",
        "writes a note and presses Resolve in the modal",
        lambda: heard() and card_updated(),
    )

    # A near-copy of open feedback: the card suggests merging it ----------------------------
    near_copy = "acme asked for sso before their renewel in march"
    slack.command("/feedback", near_copy, LEE, TEAM)
    show.step(
        "lee",
        f"/feedback {near_copy}  (the same ask, retyped with a typo)",
        lambda: len(dm_cards(MAYA)) >= 3,
    )
    merged_card = dm_cards(MAYA)[2]
    heard, cards_updated = more_dms(LEE), more_updates(2)
    slack.click(MAYA, maya_dm, str(merged_card["ts"]), "item_merge", _item_id(merged_card))
    show.step(
        "maya",
        "presses Merge: lee's copy becomes a +1 on #1",
        lambda: heard() and cards_updated(),
    )

    answered = responses()
    slack.command("/milestone", "add SSO launch 2026-12-18", OMAR, TEAM)
    show.step("omar", "/milestone add SSO launch 2026-12-18", answered)
    slack.click(MAYA, maya_dm, str(sso_card["ts"]), "item_plan", _item_id(sso_card))
    fake.wait_for(modal_open(MAYA))
    view = fake.open_views(MAYA)[-1]
    offered = slack.block_suggestion("plan_milestone", "milestone", "sso", MAYA, view).json()
    heard, heard_too, card_updated = more_dms(SAM), more_dms(LEE), more_updates()
    submit(MAYA, {"plan_milestone": offered["options"][0]["value"]})
    show.step(
        "maya",
        "presses Plan on the SSO card and picks SSO launch  (sam raised it; lee, merged into it, "
        "hears too)",
        lambda: heard() and heard_too() and card_updated(),
    )

    # Feedback that is really a blocker: re-routed to the project manager -------------------
    omar_cards = len(dm_cards(OMAR))
    slack.say(
        TEAM, SAM, "feedback: checkout fails on Safari since this morning, customers can't pay"
    )
    show.step(
        "sam",
        "posts `feedback: checkout fails on Safari since this morning, customers can't pay`",
        lambda: len(dm_cards(MAYA)) >= 4,
    )
    safari_card = dm_cards(MAYA)[3]
    heard, card_updated = more_replies(), more_updates()
    slack.click(MAYA, maya_dm, str(safari_card["ts"]), "item_to_blockers", _item_id(safari_card))
    show.step(
        "maya",
        "presses Move to blockers  (omar gets the card, sam hears in his thread)",
        lambda: len(dm_cards(OMAR)) > omar_cards and heard() and card_updated(),
    )

    # A queue channel, and a decline with a reason ------------------------------------------
    answered = responses()
    slack.command("/rolecall", f"queue product <#{TRIAGE}|product-triage>", MAYA, TEAM)
    show.step(
        "maya", "/rolecall queue product #product-triage  (cards to a channel, not DMs)", answered
    )
    slack.command("/feedback", "Dark mode, please: three customers asked this week", SAM, TEAM)
    show.step(
        "sam",
        "/feedback Dark mode, please: three customers asked this week",
        lambda: len(fake.messages[TRIAGE]) >= 1,
    )
    card = fake.messages[TRIAGE][0]
    answered = responses()
    slack.click(SAM, TRIAGE, str(card["ts"]), "item_decline", _item_id(card))
    show.step(
        "sam", "presses Decline in #product-triage (not the product manager: refused)", answered
    )
    slack.click(MAYA, TRIAGE, str(card["ts"]), "item_decline", _item_id(card))
    show.step("maya", "presses Decline", modal_open(MAYA))
    show.modal(MAYA)
    heard, card_updated = more_dms(SAM), more_updates()
    submit(MAYA, {"reason": "Not this quarter: the public beta comes first. We'll revisit in Q1."})
    show.step(
        "maya", "says why and presses Decline in the modal", lambda: heard() and card_updated()
    )

    # Capture with details: a message shortcut opens a prefilled modal ----------------------
    ask, _ = slack.say(
        TEAM,
        SAM,
        "Bulk exports should email a download link when they finish\n"
        "Their analysts keep a tab open for an hour waiting on big exports.",
    )
    show.step("sam", "posts a customer ask in #launch")
    slack.message_shortcut("send_to_product_queue", LEE, TEAM, ask)
    show.step("lee", "uses “Send to product queue” on sam's message", modal_open(LEE))
    show.modal(LEE)
    cards_in_triage = len(fake.messages[TRIAGE])
    submit(LEE, {"title": EXPORT_TITLE, "customer": "Globex", "impact": "high"})
    show.step(
        "lee",
        f"retitles it “{EXPORT_TITLE}”, adds the customer (Globex) and impact (High),"
        " and presses File it",
        lambda: len(fake.messages[TRIAGE]) > cards_in_triage,
    )

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
    signing_keys = _item_id(fake.dms_to(OMAR)[-1])
    tick(datetime(2026, 12, 1, 9, tzinfo=UTC), "Tue 1 Dec 09:00")
    tick(datetime(2026, 12, 2, 9, tzinfo=UTC), "Wed 2 Dec 09:00")
    tick(datetime(2026, 12, 3, 9, tzinfo=UTC), "Thu 3 Dec 09:00  (the beta slipped)")
    reminder = fake.dms_to(LEE)[-1]
    snooze = next(
        button
        for block in reminder["blocks"]
        if block["type"] == "actions"
        for button in block["elements"]
        if button["action_id"] == "reminder_snooze_week"
    )
    updates = len(fake.calls_to("chat.update"))
    lee_dm = fake.dm_channel(LEE)
    slack.click(LEE, lee_dm, str(reminder["ts"]), "reminder_snooze_week", snooze["value"])
    show.step(
        "lee",
        "presses Snooze until Monday on his reminder",
        lambda: len(fake.calls_to("chat.update")) > updates,
    )
    tick(
        datetime(2026, 12, 3, 10, tzinfo=UTC),
        "Thu 3 Dec 10:00  (24 working hours, nobody acknowledged the blockers)",
    )
    slack.command("/milestone", "move Public beta 2026-12-09", OMAR, TEAM)
    show.step("omar", "/milestone move Public beta 2026-12-09", responses(asked + 2))
    tick(datetime(2026, 12, 7, 9, tzinfo=UTC), "Mon 7 Dec 09:00  (digest day)")
    digest = next(m for m in fake.messages[TEAM] if "Weekly digest" in m["text"])
    row = next(
        m
        for m in fake.messages[TEAM]
        if m.get("thread_ts") == digest["ts"] and _has_button(m, "item_acknowledge", signing_keys)
    )
    updates = len(fake.calls_to("chat.update"))
    slack.click(OMAR, TEAM, str(row["ts"]), "item_acknowledge", signing_keys)
    show.step(
        "omar",
        "presses Acknowledge on the signing-keys blocker in the digest thread",
        lambda: len(fake.calls_to("chat.update")) > updates + 1,
    )


def _roadmap_scope_and_risks(
    slack: SignedClient, fake: FakeSlack, show: Transcript, clock: DemoClock
) -> None:
    """The week after, the beta due in two days: the product manager puts it on this quarter's
    roadmap and plans feedback into it; the project manager freezes its scope (from today) and
    decides the scope creep; each manager gets the risks that are theirs; the beta ships and
    the people who asked for what it delivers hear so."""
    omar_dm = fake.dm_channel(OMAR)
    today = clock.now.date()
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"

    def said_to(user_id: str) -> int:
        return sum(s.kind == "ephemeral" for s in fake.seen_by(user_id))

    def cards_to(user_id: str) -> list[dict[str, Any]]:
        return [m for m in fake.dms_to(user_id) if m["blocks"]]

    def shipped() -> int:
        """Letters saying the beta shipped, wherever they went (a thread, a DM)."""
        return sum("Shipped in" in m["text"] for posted in fake.messages.values() for m in posted)

    def posted_to_triage() -> int:
        return len(fake.messages[TRIAGE])

    def command(
        user_id: str, name: str, text: str, note: str = "", until: Callable[[], bool] = lambda: True
    ) -> None:
        """A slash command in #launch: the step waits for its answer, and for `until`."""
        told = _grown(lambda: said_to(user_id))
        slack.command(name, text, user_id, TEAM)
        show.step(
            fake.users[user_id]["name"], f"{name} {text}".strip() + note, lambda: told() and until()
        )

    def plan(user_id: str, channel: str, card: dict[str, Any]) -> dict[str, Any]:
        """Press Plan on the card: the Plan modal it opens."""
        slack.click(user_id, channel, str(card["ts"]), "item_plan", _item_id(card))
        fake.wait_for(lambda: bool(fake.open_views(user_id)))
        return fake.open_views(user_id)[-1]

    def beta_in_menu(user_id: str, view: dict[str, Any]) -> str:
        """What the milestone menu offers for `beta`: Public beta's option value."""
        offered = slack.block_suggestion("plan_milestone", "milestone", "beta", user_id, view)
        return str(offered.json()["options"][0]["value"])

    command(MAYA, "/roadmap", f'add "Self-serve onboarding" {quarter}')
    command(MAYA, "/roadmap", 'link "Self-serve onboarding" Public beta')

    # Feedback planned into the milestone: its reporter and its +1 hear where it went -------
    filed, told = _grown(posted_to_triage), _grown(lambda: said_to(SAM))
    ask, _ = slack.say(TEAM, SAM, f"feedback: {TRIAL_ADMINS}")
    show.step("sam", f"posts `feedback: {TRIAL_ADMINS}`", lambda: filed() and told())
    trial_card = fake.messages[TRIAGE][-1]
    counted = _grown(lambda: said_to(LEE))
    slack.react(TEAM, LEE, ask["ts"], "bulb")
    show.step("lee", "reacts :bulb: to it (a +1)", counted)
    view = plan(MAYA, TRIAGE, trial_card)
    show.step("maya", "presses Plan on sam's card in #product-triage")
    show.modal(MAYA)
    heard = _grown(lambda: len(fake.messages[TEAM]))
    heard_too, card_updated = _grown(lambda: len(fake.dms_to(LEE))), _grown(_updates(fake))
    _submit(slack, fake, MAYA, {"plan_milestone": beta_in_menu(MAYA, view)})
    show.step(
        "maya",
        "picks Public beta and presses Plan  (sam hears in his thread, lee by DM)",
        lambda: heard() and heard_too() and card_updated(),
    )

    # Scope freeze, then scope creep: the project manager decides, the product manager hears
    command(OMAR, "/milestone", f"freeze Public beta {today}")
    command(LEE, "/feedback", BULK_INVITE, until=_grown(posted_to_triage))
    bulk_card = fake.messages[TRIAGE][-1]
    view = plan(MAYA, TRIAGE, bulk_card)
    asked, card_updated = _grown(lambda: len(cards_to(OMAR))), _grown(_updates(fake))
    _submit(slack, fake, MAYA, {"plan_milestone": beta_in_menu(MAYA, view)})
    show.step(
        "maya",
        "presses Plan on lee's card and picks Public beta: its scope is frozen, so omar is asked",
        lambda: asked() and card_updated(),
    )
    creep_card = cards_to(OMAR)[-1]
    told, heard = _grown(lambda: len(fake.dms_to(MAYA))), _grown(lambda: len(fake.dms_to(LEE)))
    cards_updated = _grown(_updates(fake), 2)
    slack.click(OMAR, omar_dm, str(creep_card["ts"]), "handoff_accept_creep", _item_id(creep_card))
    show.step(
        "omar",
        "presses Accept on the scope creep card  (maya hears what it does to the date)",
        lambda: told() and heard() and cards_updated(),
    )

    # Risks go to the role that owns them --------------------------------------------------
    command(
        SAM,
        "/risk",
        "Competitor Zeta cut prices 20%",
        "  (a market risk: to maya's queue)",
        _grown(posted_to_triage),
    )
    slack.global_shortcut("new_item", LEE)
    fake.wait_for(lambda: bool(fake.open_views(LEE)))
    typed = {"team": TEAM, "title": "Our payments vendor may sunset the API we bill through"}
    view = fake.open_views(LEE)[-1]
    slack.view_click(LEE, view, "capture_kind", "risk", values=state_values(view, typed))
    show.step(
        "lee",
        "opens the “Feedback, blocker, risk” shortcut, titles it and picks Risk",
        lambda: fake.open_views(LEE)[-1]["title"]["text"] == "Risk",
    )
    show.modal(LEE)
    view = fake.open_views(LEE)[-1]
    so_far = {**view, "state": {"values": state_values(view, _prefilled(view))}}  # its team
    offered = slack.block_suggestion("capture_milestone", "milestone", "beta", LEE, so_far).json()
    filed = _grown(lambda: len(cards_to(OMAR)))
    _submit(
        slack,
        fake,
        LEE,
        {"impact": "high", "capture_milestone": offered["options"][0]["value"]},
    )
    show.step(
        "lee",
        "sets Impact to High and the milestone to Public beta, and presses File it"
        "  (an operational risk: omar's)",
        filed,
    )

    # What the milestone and the roadmap say now, and the beta ships -----------------------
    command(LEE, "/milestone", "show Public beta")
    command(SAM, "/roadmap", "")
    command(
        OMAR,
        "/milestone",
        "done Public beta",
        "  (sam and lee asked for what it delivers)",
        _grown(shipped, 2),
    )


def _homes(slack: SignedClient, fake: FakeSlack, show: Transcript) -> None:
    """Each person's App Home shows what their role owns: the product manager's queue, the
    project manager's blockers and milestones, and for everyone what they raised."""

    def published(user_id: str) -> int:
        return sum(c.get("user_id") == user_id for c in fake.calls_to("views.publish"))

    def republished(user_id: str) -> Callable[[], bool]:
        count = published(user_id) + 1
        return lambda: published(user_id) >= count

    for user_id, who in [(MAYA, "maya"), (OMAR, "omar"), (LEE, "lee  (holds no role)")]:
        home_shown = republished(user_id)
        slack.event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": fake.dm_channel(user_id),
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            }
        )
        show.step(who, "opens Rolecall's Home tab", home_shown)
        show.home(user_id)


def _submit(slack: SignedClient, fake: FakeSlack, user_id: str, answers: dict[str, Any]) -> None:
    """Submit the person's open modal as it opened, but for `answers` (by action_id)."""
    view = fake.open_views(user_id)[-1]
    slack.view_submission(view, user_id, state_values(view, {**_prefilled(view), **answers}))


def _grown(count: Callable[[], int], more: int = 1) -> Callable[[], bool]:
    """Whether the count grew by `more` since now: what a step waits for."""
    target = count() + more
    return lambda: count() >= target


def _updates(fake: FakeSlack) -> Callable[[], int]:
    return lambda: len(fake.calls_to("chat.update"))


def _item_id(card: dict[str, Any]) -> str:
    blocks = card["blocks"]
    assert isinstance(blocks, list)
    actions = next(b for b in blocks if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def _has_button(message: dict[str, Any], action_id: str, value: str) -> bool:
    return any(
        e.get("action_id") == action_id and e.get("value") == value
        for b in message.get("blocks") or []
        if b["type"] == "actions"
        for e in b["elements"]
    )
