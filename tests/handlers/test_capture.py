"""Capture by command, reaction, `feedback:`/`blocker:` message and @mention; delivery rules."""

import pytest

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM
from tests.handlers.scenario import (
    buttons,
    cards,
    command,
    ephemerals,
    rendered,
    set_up_team,
)


def test_blockers_go_only_to_the_project_manager(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)

    reply = command(slack, fake, "/blocker", "CI runners are out of disk", CAROL)

    assert reply == (
        "Filed in #launch's project manager queue and sent to @bob. "
        "You'll hear back when it's handled."
    )
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    card = cards(fake, BOB)[0]
    assert buttons(card) == ["Acknowledge", "Resolve", "Move to feedback", "Reassign"]
    assert "CI runners are out of disk" in rendered(fake, card)
    assert "Raised by @carol in #launch" in rendered(fake, card)
    assert cards(fake, ALICE) == []


def test_one_person_with_both_roles_gets_both_kinds(slack: SignedClient, fake: FakeSlack) -> None:
    command(slack, fake, "/role", f"<@{ALICE}> product", ALICE)
    command(slack, fake, "/role", f"<@{ALICE}> project", ALICE)
    command(slack, fake, "/feedback", "idea", CAROL)
    command(slack, fake, "/blocker", "stuck", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)
    assert [buttons(c)[0] for c in cards(fake, ALICE)] == ["Plan", "Acknowledge"]


def test_reaction_files_the_message_with_its_permalink(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    quote, _ = slack.say(TEAM, ERIN, 'Acme: "we churn without SSO"')

    assert slack.react(TEAM, CAROL, quote["ts"], "bulb").status_code == 200

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    card = cards(fake, ALICE)[0]
    assert 'Acme: "we churn without SSO"' in rendered(fake, card)
    assert "Raised by @carol in #launch · written by @erin" in rendered(fake, card)
    permalink = fake.calls_to("chat.getPermalink")[0]
    assert permalink == {"channel": TEAM, "message_ts": quote["ts"]}
    assert f"/archives/{TEAM}/p{quote['ts'].replace('.', '')}|Source message>" in str(
        card["blocks"]
    )
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 1)
    assert ephemerals(fake, CAROL)[0].startswith("Filed in #launch's product manager queue")
    assert cards(fake, BOB) == []


def test_reaction_on_a_thread_reply_reads_it_from_the_thread(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    parent, _ = slack.say(TEAM, ERIN, "deploy thread")
    reply, _ = slack.say(TEAM, ERIN, "prod deploy is blocked on the cert", thread_ts=parent["ts"])

    slack.react(TEAM, CAROL, reply["ts"], "no_entry")

    fake.wait_for(lambda: len(cards(fake, BOB)) == 1)
    assert "prod deploy is blocked on the cert" in rendered(fake, cards(fake, BOB)[0])
    assert fake.calls_to("conversations.replies")[0]["ts"] == reply["ts"]
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 1)
    confirmation = next(s for s in fake.seen_by(CAROL) if s.kind == "ephemeral")
    assert confirmation.where == TEAM


def test_a_second_reaction_is_a_plus_one_not_a_second_card(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    quote, _ = slack.say(TEAM, ERIN, "customers want dark mode")
    slack.react(TEAM, CAROL, quote["ts"], "bulb")
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 1)

    slack.react(TEAM, ERIN, quote["ts"], "bulb")
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 1)
    slack.react(TEAM, ERIN, quote["ts"], "bulb::skin-tone-3")
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 2)

    assert ephemerals(fake, ERIN) == [
        "That message is already in #launch's product manager queue; I counted your +1.",
        "That message is already in #launch's product manager queue.",
    ]
    assert len(cards(fake, ALICE)) == 1
    assert len(fake.calls_to("conversations.history")) == 1
    listing = command(slack, fake, "/feedback", "list", ALICE)
    assert "+1" in listing


def test_slack_retries_of_an_event_do_nothing_twice(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    quote, _ = slack.say(TEAM, ERIN, "the export button does nothing")

    slack.react(TEAM, CAROL, quote["ts"], "no_entry", event_id="EvRETRY1")
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 1)
    for attempt in (1, 2, 3):
        response = slack.react(
            TEAM, CAROL, quote["ts"], "no_entry", event_id="EvRETRY1", retry_num=attempt
        )
        assert response.status_code == 200
    slack.react(TEAM, CAROL, quote["ts"], "bulb")  # a later, different event flushes the queue
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)

    assert len(cards(fake, BOB)) == 1
    assert len([e for e in ephemerals(fake, CAROL) if "project manager" in e]) == 1


def test_feedback_and_blocker_messages_are_captured(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    slack.say(TEAM, CAROL, "Feedback: onboarding emails land in spam")
    slack.say(TEAM, ERIN, "BLOCKER:   vendor API keys expired")
    slack.say(TEAM, ERIN, "no keyword here, feedback: not at the start")

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1 and len(cards(fake, BOB)) == 1)
    assert "onboarding emails land in spam" in rendered(fake, cards(fake, ALICE)[0])
    assert "vendor API keys expired" in rendered(fake, cards(fake, BOB)[0])
    assert "BLOCKER:" not in rendered(fake, cards(fake, BOB)[0])


def test_bot_messages_and_edits_are_ignored(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    slack.event(
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "B1",
            "text": "feedback: x",
            "ts": "1.1",
            "channel": TEAM,
        }
    )
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": TEAM,
            "ts": "1.2",
            "message": {"text": "feedback: y"},
        }
    )
    slack.say(TEAM, CAROL, "feedback: the real one")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    assert "the real one" in rendered(fake, cards(fake, ALICE)[0])


def test_a_mention_files_once_even_when_slack_sends_message_and_app_mention(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    slack.mention(TEAM, CAROL, "<@UROLECALL> blocker the staging DB is down")
    slack.mention(TEAM, ERIN, "feedback: search should be fuzzy <@UROLECALL>")
    fake.wait_for(lambda: len(cards(fake, BOB)) == 1 and len(cards(fake, ALICE)) == 1)
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) >= 1)
    slack.say(TEAM, CAROL, "feedback: flush")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)

    assert "the staging DB is down" in rendered(fake, cards(fake, BOB)[0])
    assert len(ephemerals(fake, ERIN)) == 1


def test_a_mention_without_a_keyword_gets_help(slack: SignedClient, fake: FakeSlack) -> None:
    slack.mention(TEAM, CAROL, "<@UROLECALL> hello?")
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) == 1)
    assert ephemerals(fake, CAROL)[0].startswith("Tell me `feedback: …` or `blocker: …`")


def test_with_nobody_in_the_role_the_item_waits_and_arrives_later(
    slack: SignedClient, fake: FakeSlack
) -> None:
    reply = command(slack, fake, "/feedback", "bulk edit for tags", CAROL)
    assert "nobody in #launch is the product manager yet" in reply
    slack.say(TEAM, ERIN, "feedback: another one")
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 1)

    assignment = command(slack, fake, "/role", f"<@{ALICE}> product", CAROL)

    assert assignment.endswith("I sent 2 waiting items to them.")
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 2)
    assert "bulk edit for tags" in rendered(fake, cards(fake, ALICE)[0])


def test_a_queue_channel_gets_the_cards_instead_of_dms(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    reply = command(slack, fake, "/rolecall", "queue product <#CQUEUE|product-queue>", ALICE)
    assert "product cards go to: #product-queue" in reply

    command(slack, fake, "/feedback", "calendar sync", CAROL)
    fake.wait_for(lambda: len(fake.messages["CQUEUE"]) == 1)
    assert "calendar sync" in rendered(fake, fake.messages["CQUEUE"][0])
    assert cards(fake, ALICE) == []
    assert "product cards go to: DMs" in command(slack, fake, "/rolecall", "queue product off", BOB)


def test_routing_emoji_is_configurable_per_team(slack: SignedClient, fake: FakeSlack) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/rolecall", "emoji feedback :star:", ALICE)
    quote, _ = slack.say(TEAM, ERIN, "a customer idea")

    slack.react(TEAM, CAROL, quote["ts"], "bulb")
    slack.react(TEAM, CAROL, quote["ts"], "star")

    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    assert ephemerals(fake, CAROL) == [
        "Filed in #launch's product manager queue and sent to @alice. "
        "You'll hear back when it's handled."
    ]
    refused = command(slack, fake, "/rolecall", "emoji blocker star", ERIN)
    assert refused.startswith("Sorry")


@pytest.mark.parametrize("entry", ["command", "message", "mention", "reaction"])
def test_a_blocker_naming_a_milestone_is_linked_whatever_the_entry_point(
    slack: SignedClient, fake: FakeSlack, entry: str
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)
    text = "Signing keys for the beta build are missing #public BETA"

    if entry == "command":
        command(slack, fake, "/blocker", text, CAROL)
    elif entry == "message":
        slack.say(TEAM, CAROL, f"blocker: {text}")
    elif entry == "mention":
        slack.mention(TEAM, CAROL, f"<@UROLECALL> blocker {text}")
    else:
        quote, _ = slack.say(TEAM, ERIN, text)
        slack.react(TEAM, CAROL, quote["ts"], "no_entry")

    assert ephemerals(fake, CAROL)[-1].endswith(
        "Linked to milestone *Public beta*, which is now at risk."
    )
    assert command(slack, fake, "/milestone", "list", BOB).endswith(
        "*Public beta* — Wed 9 Dec 2026 · :warning: *at risk*: 1 open blocker"
    )
    card = rendered(fake, cards(fake, BOB)[0])
    assert "Signing keys for the beta build are missing" in card
    assert "#public" not in card.lower().replace("#public beta", "")  # a link, not a tag


def test_only_a_blocker_naming_an_open_milestone_is_linked(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", "add Public beta 2026-12-09", BOB)

    feedback = command(slack, fake, "/feedback", "Customers ask for it #Public beta", CAROL)
    other = command(slack, fake, "/blocker", "Keys missing #GA", CAROL)
    mid_text = command(slack, fake, "/blocker", "#Public beta keys are missing", CAROL)

    assert "Linked" not in feedback + other + mid_text
    assert command(slack, fake, "/milestone", "list", BOB).endswith(
        "*Public beta* — Wed 9 Dec 2026"
    )
