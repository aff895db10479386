"""App Home through signed requests: opening it (`app_home_opened`, shaped like Slack's) and
using its filters and paging (block_actions from a Home view: a `view` container, no channel)."""

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.blocks.home import Section
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    item_id,
    plan,
    rendered,
    set_up_team,
    utc,
)

OTHER_TEAM = "CMOBILE"


@pytest.fixture(autouse=True)
def no_late_refreshes(services: Services) -> Iterator[list[Callable[[], None]]]:
    """A refresh deferred to the end of its window is kept here, never run after the test."""
    deferred: list[Callable[[], None]] = []
    services.home.schedule = lambda _, work: deferred.append(work)
    yield deferred


# What Slack sends ---------------------------------------------------------------------------


def open_home(slack: SignedClient, fake: FakeSlack, user: str) -> dict[str, Any]:
    """The person opens the Home tab: Slack sends `app_home_opened` with the view it shows them
    (none the first time). Returns the view published in answer."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user,
        "channel": fake.dm_channel(user),
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    shown = fake.home_views.get(user)
    if shown is not None:
        event["view"] = shown
    return _published(fake, user, lambda: slack.event(event))


def home_click(
    slack: SignedClient,
    fake: FakeSlack,
    user: str,
    action: dict[str, Any],
    *,
    metadata: str | None = None,
    values: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A control of the person's Home used: block_actions from a view (container type "view",
    the whole view with its private_metadata, no channel, no response_url). `metadata`
    replaces the view's (a forged or garbled one). Returns the view published in answer."""
    view = dict(fake.home_views[user])
    if metadata is not None:
        view["private_metadata"] = metadata
    if values is not None:
        view["state"] = {"values": values}
    name = fake.users[user]["name"]
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": name, "name": name, "team_id": fake.team_id},
        "api_app_id": "AROLECALL",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": f"{time.time():.0f}.1.{uuid.uuid4().hex}",
        "team": {"id": fake.team_id, "domain": "fake"},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
        "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
    }
    body = urlencode({"payload": json.dumps(payload)})
    return _published(fake, user, lambda: slack.post(body, "application/x-www-form-urlencoded"))


def _published(fake: FakeSlack, user: str, send: Callable[[], httpx.Response]) -> dict[str, Any]:
    before = (fake.home_views.get(user) or {}).get("hash")
    assert send().status_code == 200
    fake.wait_for(lambda: (fake.home_views.get(user) or {}).get("hash") != before)
    return fake.home_views[user]


def button(view: dict[str, Any], action_id: str, block_id: str) -> dict[str, Any]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    found = next(e for e in block["elements"] if e["action_id"] == action_id)
    return {"type": "button", "block_id": block_id, **found}


def select(block_id: str, action_id: str, value: str) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": value}, "value": value}
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": option,
        "placeholder": {"type": "plain_text", "text": "Status"},
    }


def typed_tag(view: dict[str, Any], text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Text typed into the tag input and Enter pressed: the action, and the view's state."""
    block_id = next(b["block_id"] for b in view["blocks"] if b["type"] == "input")
    action = {"type": "plain_text_input", "action_id": "home_tag", "block_id": block_id}
    values = {block_id: {"home_tag": {"type": "plain_text_input", "value": text}}}
    return {**action, "value": text}, values


# What the person sees -------------------------------------------------------------------------


def rows(view: dict[str, Any], section: Section) -> list[str]:
    """The item ids a section lists, in order."""
    pattern = re.compile(rf"home_{section.value}_(\d+)")
    return [
        match.group(1)
        for block in view["blocks"]
        if (match := pattern.fullmatch(block.get("block_id", "")))
    ]


def row_buttons(view: dict[str, Any], section: Section, item: str) -> list[tuple[str, str]]:
    block = next(b for b in view["blocks"] if b.get("block_id") == f"home_{section}_{item}_actions")
    return [(e["action_id"], e["value"]) for e in block["elements"]]


def seen(fake: FakeSlack, view: dict[str, Any]) -> str:
    """The view's text as the person reads it (mentions and links as names)."""
    texts = []
    for block in view["blocks"]:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts.extend(element["text"] for element in block["elements"])
    return fake.readable("\n".join(texts)).replace("*", "")  # without the bold


def file_feedback(slack: SignedClient, fake: FakeSlack, *texts: str) -> list[str]:
    """Carol files each; returns their ids, in filing order."""
    for text in texts:
        command(slack, fake, "/feedback", text, CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) >= len(texts))
    return [item_id(card) for card in cards(fake, ALICE)[-len(texts) :]]


def file_blockers(slack: SignedClient, fake: FakeSlack, *texts: str) -> list[str]:
    for text in texts:
        command(slack, fake, "/blocker", text, CAROL)
    fake.wait_for(lambda: len(cards(fake, BOB)) >= len(texts))
    return [item_id(card) for card in cards(fake, BOB)[-len(texts) :]]


# Scenarios ----------------------------------------------------------------------------------


def test_a_product_manager_sees_their_queue_with_its_triage_buttons(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    sso, dark = file_feedback(slack, fake, "SSO for Acme", "Dark mode <!channel>")
    file_blockers(slack, fake, "Staging is down")

    view = open_home(slack, fake, ALICE)

    assert rows(view, Section.NEW) == [dark, sso]
    assert ("item_plan", sso) in row_buttons(view, Section.NEW, sso)
    assert ("item_decline", dark) in row_buttons(view, Section.NEW, dark)
    shown = seen(fake, view)
    assert "Product queue: 2 open · 0 needs info · 0 snoozed" in shown
    assert "Dark mode &lt;!channel&gt;" in json.dumps(view["blocks"])
    assert "Staging is down" not in shown and "Project manager" not in shown
    assert "• product manager in #launch" in shown


def test_a_project_manager_sees_unacknowledged_blockers_first_and_their_calendar(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{CAROL}|carol>", BOB)
    staging, ci = file_blockers(slack, fake, "Staging is down", "CI is red #Public beta")
    card = cards(fake, BOB)[0]
    slack.click(BOB, fake.dm_channel(BOB), card["ts"], "item_acknowledge", staging)
    fake.wait_for(lambda: "Acknowledged" in json.dumps(cards(fake, BOB)[0]["blocks"]))
    clock.now = utc(12, 3, 10)

    view = open_home(slack, fake, BOB)

    assert rows(view, Section.BLOCKERS) == [ci, staging]  # unacknowledged first
    assert ("item_acknowledge", ci) in row_buttons(view, Section.BLOCKERS, ci)
    assert ("item_resolve", staging) in row_buttons(view, Section.BLOCKERS, staging)
    shown = seen(fake, view)
    assert "Blockers: 2 open (1 unacknowledged)" in shown
    assert "unacknowledged · waiting 3 days" in shown
    assert "acknowledged by @bob · waiting 3 days" in shown
    assert "Public beta" in shown and "at risk: 1 open blocker" in shown
    assert "Write the launch post: @carol in #launch, 2 days overdue" in shown
    # Carol owes the deadline: it is in her Home, as is what she raised.
    carol = seen(fake, open_home(slack, fake, CAROL))
    assert "Your open deadlines\n• Write the launch post in #launch" in carol


def test_someone_with_no_role_sees_what_they_raised(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    (sso,) = file_feedback(slack, fake, "SSO for Acme")
    (staging,) = file_blockers(slack, fake, "Staging is down")
    beta = add_milestone(slack, fake, services)
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), cards(fake, ALICE)[0]["ts"], sso, beta)
    fake.wait_for(lambda: "Planned" in json.dumps(cards(fake, ALICE)[0]["blocks"]))

    view = open_home(slack, fake, CAROL)

    assert rows(view, Section.RAISED) == [staging, sso]
    shown = seen(fake, view)
    assert "You hold no role yet" in shown
    assert "Blocker · Open · #launch" in shown and "Feedback · Planned · #launch" in shown
    assert not any(b["type"] == "input" for b in view["blocks"])  # no queue, no filters
    assert not any(b.get("block_id", "").endswith("_actions") for b in view["blocks"])


def test_someone_in_another_team_never_sees_this_teams_items(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    fake.add_channel(OTHER_TEAM, "mobile", [DAVE, ERIN])
    slack.command("/role", f"<@{ERIN}|erin> product", ERIN, OTHER_TEAM)
    slack.command("/role", f"<@{ERIN}|erin> project", ERIN, OTHER_TEAM)
    file_feedback(slack, fake, "SSO for Acme")
    file_blockers(slack, fake, "Staging is down")

    view = open_home(slack, fake, ERIN)
    shown = seen(fake, view)
    assert "SSO for Acme" not in shown and "Staging is down" not in shown
    assert "Product queue: 0 open" in shown and "Blockers: 0 open" in shown

    # A forged state naming #launch changes nothing.
    forged = json.dumps({"team": TEAM, "status": "open", "tag": None, "after": {}})
    view = home_click(
        slack, fake, ERIN, select("home_filters", "home_status", "open"), metadata=forged
    )
    shown = seen(fake, view)
    assert "SSO for Acme" not in shown
    assert "You are not the product manager of #launch: showing all your teams." in shown
    assert json.loads(view["private_metadata"])["team"] is None


def test_show_more_pages_a_section_and_back_to_the_top(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    ids = file_feedback(
        slack,
        fake,
        "SSO for Acme",
        "Dark mode",
        "CSV export",
        "Offline sync",
        "Audit log",
        "Slack alerts",
        "Bulk edit",
    )
    first = open_home(slack, fake, ALICE)
    newest_first = ids[::-1]
    assert rows(first, Section.NEW) == newest_first[:5]
    assert rows(first, Section.WAITING) == ids[:2]  # the rest of the queue, oldest first

    more = button(first, "home_more", "home_new_paging")
    assert json.loads(more["value"])["s"] == "new"
    # The fake's own builder of a click in a view (a button on the Home tab).
    second = _published(
        fake, ALICE, lambda: slack.view_click(ALICE, first, "home_more", more["value"])
    )
    assert rows(second, Section.NEW) == newest_first[5:]
    assert rows(second, Section.WAITING) == ids[2:]
    assert not any(e["action_id"] == "home_more" for e in _paging(second, "new"))

    top = button(second, "home_top", "home_new_paging")
    back = _published(
        fake, ALICE, lambda: slack.view_click(ALICE, second, "home_top", top["value"])
    )
    assert back["blocks"] == first["blocks"]


def _paging(view: dict[str, Any], section: str) -> list[dict[str, Any]]:
    block = next(b for b in view["blocks"] if b.get("block_id") == f"home_{section}_paging")
    return list(block["elements"])


def test_filters_by_status_and_tag(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    sso, pricing, _ = file_feedback(
        slack, fake, "SSO for Acme", "The #pricing page confuses buyers", "Dark mode"
    )
    beta = add_milestone(slack, fake, services)
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), cards(fake, ALICE)[0]["ts"], sso, beta)
    fake.wait_for(lambda: "Planned" in json.dumps(cards(fake, ALICE)[0]["blocks"]))
    view = open_home(slack, fake, ALICE)
    assert sso not in rows(view, Section.NEW)

    planned = home_click(slack, fake, ALICE, select("home_filters", "home_status", "planned"))
    assert rows(planned, Section.NEW) == [sso]
    assert json.loads(planned["private_metadata"])["status"] == "planned"

    opened = home_click(slack, fake, ALICE, select("home_filters", "home_status", "open"))
    action, values = typed_tag(opened, "#Pricing")
    tagged = home_click(slack, fake, ALICE, action, values=values)
    assert rows(tagged, Section.NEW) == [pricing]
    assert "Showing: open · #pricing" in seen(fake, tagged)

    action, values = typed_tag(tagged, "not a tag <!here>")
    refused = home_click(slack, fake, ALICE, action, values=values)
    assert rows(refused, Section.NEW) == [pricing]  # the filter stays
    assert "is not a tag" in seen(fake, refused)

    cleared = home_click(slack, fake, ALICE, button(refused, "home_clear", "home_filters"))
    assert rows(cleared, Section.NEW) == rows(view, Section.NEW)
    assert json.loads(cleared["private_metadata"])["tag"] is None


def test_junk_private_metadata_gives_the_default_view(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    file_feedback(slack, fake, *(f"Idea number {n} about exports" for n in range(7)))
    default = open_home(slack, fake, ALICE)
    more = button(default, "home_more", "home_new_paging")
    for junk in ["}{not json", "[]", json.dumps({"team": "<!channel>", "after": {"new": 5}})]:
        view = home_click(slack, fake, ALICE, {**more, "value": "junk"}, metadata=junk)
        assert view["blocks"] == default["blocks"], junk
    # Opening the tab on a view whose metadata is garbled: the default view too.
    fake_view = {**fake.home_views[ALICE], "private_metadata": "\x01garbage"}
    event = {
        "type": "app_home_opened",
        "user": ALICE,
        "channel": fake.dm_channel(ALICE),
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
        "view": fake_view,
    }
    reopened = _published(fake, ALICE, lambda: slack.event(event))
    assert reopened["blocks"] == default["blocks"]


# Dates in the team's own time zone ----------------------------------------------------------


def snooze(slack: SignedClient, fake: FakeSlack, card: dict[str, Any], day: str) -> None:
    """Alice presses Snooze on her card and picks the day it comes back."""
    channel = fake.dm_channel(ALICE)
    before = len(fake.open_views(ALICE))
    slack.click(ALICE, channel, card["ts"], "item_snooze", item_id(card))
    fake.wait_for(lambda: len(fake.open_views(ALICE)) > before)
    view = fake.open_views(ALICE)[-1]
    assert slack.view_submission(view, ALICE, state_values(view, {"until": day})).status_code == 200
    fake.wait_for(lambda: "Snoozed" in rendered(fake, fake.find(channel, card["ts"]) or card))


def test_a_sydney_team_a_day_ahead_of_utc_sees_its_own_dates(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone Australia/Sydney", ALICE)
    fake.users[CAROL]["tz"] = "Australia/Sydney"
    command(slack, fake, "/milestone", "add Launch 2026-12-01", BOB)
    command(slack, fake, "/milestone", "add Edge 2026-12-15", BOB)
    command(slack, fake, "/milestone", "add Beyond 2026-12-16", BOB)
    command(slack, fake, "/deadline", f"Slides 2026-11-30 <@{CAROL}|carol>", BOB)
    file_feedback(slack, fake, "Dark mode")
    snooze(slack, fake, cards(fake, ALICE)[0], "2026-12-14")  # 09:00 there: 22:00 UTC, 13 Dec
    clock.now = utc(11, 30, 20)  # Tue 1 Dec, 07:00 in Sydney; Mon 30 Nov in UTC

    project = seen(fake, open_home(slack, fake, BOB))
    assert "Launch in #launch: Tue 1 Dec 2026 (due today)" in project
    assert "Edge in #launch: Tue 15 Dec 2026 (in 14 days)" in project  # the window's last day
    assert "Beyond" not in project
    assert "Slides: @carol in #launch, 1 day overdue" in project
    open_home(slack, fake, ALICE)
    snoozed = home_click(slack, fake, ALICE, select("home_filters", "home_status", "snoozed"))
    assert "snoozed until Mon 14 Dec 2026" in seen(fake, snoozed)
    card = rendered(fake, cards(fake, ALICE)[0])
    assert "Snoozed until Mon 14 Dec 2026 by @alice" in card.replace("*", "")


def test_a_los_angeles_team_a_day_behind_utc_sees_its_own_dates(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "timezone America/Los_Angeles", ALICE)
    fake.users[CAROL]["tz"] = "America/Los_Angeles"
    command(slack, fake, "/milestone", "add Launch 2026-11-30", BOB)
    command(slack, fake, "/milestone", "add Edge 2026-12-14", BOB)
    command(slack, fake, "/milestone", "add Beyond 2026-12-15", BOB)
    command(slack, fake, "/deadline", f"Slides 2026-11-30 <@{CAROL}|carol>", BOB)
    clock.now = utc(12, 1, 3)  # Mon 30 Nov, 19:00 in Los Angeles; Tue 1 Dec in UTC

    project = seen(fake, open_home(slack, fake, BOB))
    assert "Launch in #launch: Mon 30 Nov 2026 (due today)" in project
    assert "Edge in #launch: Mon 14 Dec 2026 (in 14 days)" in project
    assert "Beyond" not in project
    assert "Overdue deadlines\n_None._" in project  # due today where Carol is
    carol = seen(fake, open_home(slack, fake, CAROL))
    assert "Your open deadlines\n• Slides in #launch: Mon 30 Nov 2026 (due today)" in carol
