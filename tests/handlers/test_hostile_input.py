"""Signed requests an attacker (or a confused client) could send: replays, tampered values,
malformed ids, text one database refuses. Each is a 4xx or a polite reply, never a traceback, and
the same on SQLite and PostgreSQL."""

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from handlers.listeners.actions import STALE_BUTTON
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import ItemKind, ItemStatus
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM
from tests.handlers.scenario import (
    add_milestone,
    cards,
    command,
    ephemerals,
    file_some,
    item_id,
    notes,
    plan,
    set_up_team,
)


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_replayed_slash_command_files_once(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    first = slack.command("/feedback", "Bulk export please", CAROL, TEAM)
    replays = [slack.replay(), slack.replay()]

    assert "sent to" in first.text
    # Each replay is told what the command was told (it did file that item), and files nothing.
    assert [(r.status_code, r.text) for r in replays] == [(200, first.text)] * 2
    assert len(services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)) == 1
    assert len(cards(fake, ALICE)) == 1


def test_a_command_replayed_after_its_item_was_triaged_posts_no_card_again(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    slack.command("/feedback", "Bulk export please", CAROL, TEAM)
    captured = slack.last_request
    [card] = cards(fake, ALICE)
    plan(slack, fake, ALICE, fake.dm_channel(ALICE), card["ts"], item_id(card), beta)
    assert captured is not None
    slack.last_request = captured
    replay = slack.replay()

    assert replay.status_code == 200
    assert "already in" in replay.text  # not "sent to @alice" for an item she planned
    assert len(cards(fake, ALICE)) == 1  # and no fresh card with buttons that no longer apply


def test_a_replayed_click_acts_once(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    beta = add_milestone(slack, fake, services)
    command(slack, fake, "/feedback", "Bulk export please", CAROL)
    [card] = cards(fake, ALICE)
    slack.click(ALICE, fake.dm_channel(ALICE), card["ts"], "item_plan", item_id(card))
    slack.replay()  # the click: one modal
    [view] = fake.open_views(ALICE)
    assert len(fake.calls_to("views.open")) == 1
    slack.view_submission(view, ALICE, state_values(view, {"plan_milestone": str(beta)}))
    seen = len(ephemerals(fake, ALICE)) + len(notes(fake, ALICE))
    slack.replay()  # the submission: one plan

    assert notes(fake, CAROL) == [
        "The feedback you raised in #launch was planned by @alice for *Public beta* "
        "(due Mon 14 Dec 2026):\n>Bulk export please"
    ]
    assert len(ephemerals(fake, ALICE)) + len(notes(fake, ALICE)) == seen  # no "Already planned"


@pytest.mark.parametrize("value", ["abc", "", str(2**66), "9" * 5000, "\u0661", "-1", "1.0", " 1"])
def test_a_tampered_button_value_is_a_polite_reply(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    value: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "Bulk export please", CAROL)
    [card] = cards(fake, ALICE)

    with caplog.at_level(logging.WARNING):
        response = slack.click(ALICE, fake.dm_channel(ALICE), card["ts"], "item_plan", value)

    assert response.status_code == 200
    assert ephemerals(fake, ALICE)[-1] == STALE_BUTTON
    assert _tracebacks(caplog) == []
    [item] = services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)
    assert item.item.status is ItemStatus.OPEN


def test_nul_characters_are_stripped_on_every_database(
    slack: SignedClient, fake: FakeSlack, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    with caplog.at_level(logging.WARNING):
        reply = command(slack, fake, "/feedback", "Export\x00 to CSV", CAROL)
        slack.say(TEAM, CAROL, "blocker: staging\x00 is down")
        command(slack, fake, "/milestone", "add Be\x00ta 2026-12-20", BOB)

    assert "sent to" in reply
    [feedback] = services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)
    assert feedback.item.text == "Export to CSV"
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "staging is down" in str(cards(fake, BOB)[0]["blocks"])
    assert ephemerals(fake, BOB)[-1].startswith("Milestone *Beta*")
    assert _tracebacks(caplog) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add " + "ß" * 120 + " 2026-12-20", "That name is too long"),
        ("add " + "x" * 151 + " 2026-12-20", "That name is too long"),
        ("add Beta \u0662\u0660\u0662\u0666-\u0661\u0662-\u0662\u0660", "Usage"),
    ],
)
def test_names_and_dates_any_database_accepts(
    slack: SignedClient,
    fake: FakeSlack,
    text: str,
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_up_team(slack, fake)
    with caplog.at_level(logging.WARNING):
        reply = command(slack, fake, "/milestone", text, BOB)
    assert expected in reply
    assert _tracebacks(caplog) == []


def test_routing_emoji_are_stored_without_skin_tone_and_bounded(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    set_emoji = command(
        slack, fake, "/rolecall", "emoji blocker :raised_back_of_hand::skin-tone-2:", ALICE
    )
    too_long = command(slack, fake, "/rolecall", "emoji blocker :" + "a" * 101 + ":", ALICE)
    message = fake.user_message(TEAM, CAROL, "the build server is out of disk")
    slack.react(TEAM, ERIN, message["ts"], "raised_back_of_hand::skin-tone-5")

    assert ":raised_back_of_hand:" in set_emoji and "skin-tone" not in set_emoji
    assert too_long.startswith("Usage")
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "out of disk" in str(cards(fake, BOB)[0]["blocks"])


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "channel": TEAM, "user": "U<script>", "text": "feedback: x"},
        {"type": "message", "channel": "C" * 80, "user": CAROL, "text": "feedback: x"},
        {"type": "message", "channel": TEAM, "user": CAROL, "ts": "1.2 <x>", "text": "x"},
    ],
)
def test_events_with_malformed_ids_are_a_400(
    slack: SignedClient, fake: FakeSlack, event: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    event = {"ts": f"{time.time():.6f}", **event}
    with caplog.at_level(logging.WARNING):
        response = slack.event(event)
    assert response.status_code == 400
    assert _tracebacks(caplog) == []
    assert cards(fake, ALICE) == []


def test_an_event_id_longer_than_slack_writes_is_a_400(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    message = fake.user_message(TEAM, CAROL, "the build server is out of disk")
    with caplog.at_level(logging.WARNING):
        response = slack.react(TEAM, ERIN, message["ts"], "no_entry", event_id="Ev" + "9" * 70)
    assert response.status_code == 400
    assert _tracebacks(caplog) == []


def test_unknown_payload_shapes_get_no_500(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    shapes: list[dict[str, object]] = [
        {"type": "block_actions"},
        {"type": "block_actions", "actions": "nope", "user": {"id": ALICE}},
        {"type": "view_submission", "view": {}},
        {"type": "shortcut", "callback_id": "nothing"},
        {"type": "not_a_type"},
    ]
    with caplog.at_level(logging.WARNING):
        statuses = [
            slack.post(
                urlencode({"payload": json.dumps(shape)}), "application/x-www-form-urlencoded"
            ).status_code
            for shape in shapes
        ]
        statuses.append(slack.post('{"type": "event_callback"}', "application/json").status_code)
    assert all(status < 500 for status in statuses), statuses
    assert not [r for r in caplog.records if r.exc_info]


def test_a_click_in_the_digest_preview_re_renders_the_preview(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    slack.command("/digest", "", BOB, TEAM)
    fake.wait_for(lambda: len(ephemerals(fake, BOB)) >= 3)
    project = next(
        s
        for s in fake.seen_by(BOB)
        if s.kind == "ephemeral" and "*Project*" in fake.render(s.text, s.blocks)
    )
    value = next(
        e["value"]
        for b in project.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "item_acknowledge"
    )
    row = "waiting_actions_3"
    slack.click(BOB, TEAM, "1.000001", "item_acknowledge", value, block_id=row, ephemeral=True)

    [replaced] = [c.params for c in fake.calls if c.method == "response_url"][-1:]
    assert replaced["replace_original"] is True
    assert replaced["text"] and replaced["blocks"]
    shown = ephemerals(fake, BOB)[-1]
    assert shown.startswith(":no_entry: *Project*")


def test_a_digest_click_pointing_at_another_teams_digest_updates_nothing_there(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    other = "COTHER"
    fake.add_channel(other, "other", members=[ALICE, CAROL])
    command(slack, fake, "/role", f"<@{ALICE}|alice> product", ALICE)
    slack.command("/role", f"<@{ALICE}|alice> product", ALICE, other)
    file_some(slack, fake)
    slack.command("/feedback", "Other team's wish", CAROL, other)
    assert services.digests.post_now(other, services.clock())
    other_reply = next(
        m for m in fake.messages[other] if m.get("thread_ts") and m["ts"] != m["thread_ts"]
    )
    [card] = [c for c in cards(fake, ALICE) if "Dark mode" in str(c["blocks"])]
    updates = len(fake.calls_to("chat.update"))

    slack.click(
        ALICE,
        other,
        other_reply["ts"],
        "item_to_blockers",
        item_id(card),
        block_id="waiting_actions_1",
    )

    assert [u["ts"] for u in fake.calls_to("chat.update")[updates:]] == [card["ts"]]


def test_only_a_project_manager_may_set_someone_else_a_deadline(
    slack: SignedClient, fake: FakeSlack
) -> None:
    """A deadline for someone else is a DM in Rolecall's name: not for anyone to send."""
    set_up_team(slack, fake)
    lure = f"Pay the invoice at https://evil.example 2026-12-20 <@{CAROL}>"

    refused = command(slack, fake, "/deadline", lure, ERIN)
    own = command(slack, fake, "/deadline", "Pay the invoice 2026-12-20", ERIN)
    by_the_pm = command(slack, fake, "/deadline", f"Review the spec 2026-12-20 <@{CAROL}>", BOB)

    assert refused.startswith("Sorry, only the project manager of #launch")
    assert own.startswith("Deadline `1` *Pay the invoice* set")
    assert by_the_pm.startswith("Deadline `2` *Review the spec* set for @carol")
    fake.wait_for(lambda: len(notes(fake, CAROL)) == 1)
    assert "evil.example" not in str(fake.dms_to(CAROL))


def test_a_command_mentioning_the_word_payload_is_filed(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    """Bolt's own parser takes any form containing "payload" for an interaction."""
    set_up_team(slack, fake)
    response = slack.command("/feedback", "the export payload is too large", CAROL, TEAM)
    assert response.status_code == 200 and "sent to" in response.text
    assert len(services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)) == 1


def test_ids_longer_than_slack_writes_are_refused_on_every_database(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    long_user = "U" + "A" * 40
    fake.add_user(long_user, "long")
    with caplog.at_level(logging.WARNING):
        response = slack.command("/feedback", "Bulk export", long_user, TEAM)
    assert response.status_code == 400
    assert _tracebacks(caplog) == []


def test_a_click_by_a_user_whose_id_is_not_a_slack_id_is_refused(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "Bulk export", CAROL)
    [card] = cards(fake, ALICE)
    dm = fake.dm_channel(ALICE)
    payload = {
        "type": "block_actions",
        "trigger_id": "1.2.abc",
        "team": {"id": fake.team_id},
        "user": {"id": "U<not an id>"},
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": dm},
        "channel": {"id": dm},
        "response_url": fake.response_url(ALICE, dm),
        "actions": [{"action_id": "item_plan", "block_id": "item_actions", "value": "1"}],
    }
    response = slack.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
