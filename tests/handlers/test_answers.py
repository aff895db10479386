"""The reporter's answer to *Needs info*: a reply in the thread they were asked in, or the Answer
button of a question asked by DM, brings the item back to the queue and tells the owner who
asked, once."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from bot.blocks.cards import ANSWER
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values
from storage.models import Item, ItemKind, ItemStatus
from tests.conftest import ALICE, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    buttons,
    cards,
    command,
    ephemerals,
    item_id,
    notes,
    rendered,
    set_up_team,
)
from tests.handlers.test_triage_table import file_item, item_of, press, reporter_heard

QUESTION = {"reason": "Which plan is Acme on?"}
ANSWERED = "answered your question"


def answers_heard(fake: FakeSlack) -> list[str]:
    """The DMs Alice (who asked) got with an answer, as she reads them."""
    return [n for n in notes(fake, ALICE) if ANSWERED in n]


def card_now(fake: FakeSlack, card: dict[str, Any]) -> dict[str, Any]:
    found = fake.find(card["channel"], card["ts"])
    assert found is not None
    return {**found, "channel": card["channel"]}


def asked_in_thread(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> tuple[dict[str, Any], str]:
    """Carol raises feedback in #launch and Alice asks her something: Alice's card, and the
    thread Carol was asked in."""
    set_up_team(slack, fake)
    card = file_item(slack, fake, ItemKind.FEEDBACK, "SSO for Acme")
    clock.now += timedelta(minutes=5)
    press(slack, fake, ALICE, card, "item_needs_info", QUESTION)
    fake.wait_for(lambda: len(reporter_heard(fake)) == 1)
    assert "reply here" in reporter_heard(fake)[0]
    thread = next(m for m in fake.messages[TEAM] if m.get("thread_ts"))["thread_ts"]
    clock.now += timedelta(minutes=5)
    return card, thread


def test_the_reporters_reply_in_the_thread_brings_the_item_back_to_the_owner(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    card, thread = asked_in_thread(slack, fake, clock)

    slack.say(TEAM, CAROL, "Enterprise, 300 seats <!channel>", thread_ts=thread)

    item = item_of(services, card)
    assert item.status is ItemStatus.OPEN and item.last_action == ANSWER
    assert item.reason == "Enterprise, 300 seats <!channel>"
    shown = card_now(fake, card)
    assert "*Answer* from @carol: Enterprise, 300 seats <!channel>" in rendered(fake, shown)
    assert "Which plan" not in rendered(fake, shown)  # the answer, not the question
    assert {"Plan", "Decline", "Needs info", "Snooze"} <= set(buttons(shown))
    [heard] = answers_heard(fake)
    assert heard.startswith(f"@carol {ANSWERED} on #{item.id} in #launch: it is back in the queue")
    assert "*Answer:* Enterprise, 300 seats <!channel>" in heard
    assert "(source)" in heard and item.permalink  # linked to the message it was raised from
    posted = str(fake.calls_to("chat.postMessage"))
    assert "<!channel>" not in posted and "&lt;!channel&gt;" in posted  # nobody pinged
    answer_event = slack.last_request

    # A second reply is conversation: nothing more changes, nobody is told again.
    slack.say(TEAM, CAROL, "Also: they want SAML", thread_ts=thread)
    assert item_of(services, card).reason == "Enterprise, 300 seats <!channel>"
    assert len(answers_heard(fake)) == 1

    # Asked again: Slack replaying the first answer's event does not answer the new question.
    press(slack, fake, ALICE, card_now(fake, card), "item_needs_info", {"reason": "How many?"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.NEEDS_INFO)
    slack.last_request = answer_event
    assert slack.replay().status_code == 200
    assert item_of(services, card).status is ItemStatus.NEEDS_INFO
    assert len(answers_heard(fake)) == 1


def test_an_answer_that_mentions_the_bot_is_the_answer_and_gets_no_help(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    card, thread = asked_in_thread(slack, fake, clock)

    slack.mention(TEAM, CAROL, "<@UROLECALL> Enterprise, 300 seats", thread)

    item = item_of(services, card)
    assert item.status is ItemStatus.OPEN and item.reason == "Enterprise, 300 seats"
    [heard] = answers_heard(fake)
    assert "*Answer:* Enterprise, 300 seats" in heard and "@rolecall" not in heard
    # Asked nothing in this thread now: a mention there is a question for the bot again.
    slack.mention(TEAM, CAROL, "<@UROLECALL> thanks!", thread)
    fake.wait_for(lambda: any("Tell me `feedback:" in t for t in ephemerals(fake, CAROL)))
    helped = [t for t in ephemerals(fake, CAROL) if "Tell me `feedback:" in t]
    assert len(helped) == 1  # for the thanks, not for the answer
    assert item_of(services, card).reason == "Enterprise, 300 seats"
    assert len(answers_heard(fake)) == 1


def test_an_answer_that_starts_with_a_kind_word_is_the_answer_not_a_new_item(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    card, thread = asked_in_thread(slack, fake, clock)

    slack.mention(TEAM, CAROL, "<@UROLECALL> feedback from Acme: they are on Enterprise", thread)

    item = item_of(services, card)
    assert item.status is ItemStatus.OPEN
    assert item.reason == "feedback from Acme: they are on Enterprise"
    assert [q.item.id for q in services.triage.items.open_queue(TEAM, ItemKind.FEEDBACK)] == [
        item.id
    ]
    assert len(answers_heard(fake)) == 1


@pytest.fixture
def statements(services: Services) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run while it is in use, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))

    event.listen(services.db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(services.db.engine, "before_cursor_execute", record)


def test_replies_that_are_not_the_reporters_answer_change_nothing(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    clock: FixedClock,
    statements: list[tuple[str, Any]],
) -> None:
    card, thread = asked_in_thread(slack, fake, clock)
    other, _ = slack.say(TEAM, ERIN, "Lunch at noon?")
    statements.clear()

    slack.say(TEAM, CAROL, "Sounds good")  # not in a thread: no query at all
    assert statements == []
    slack.say(TEAM, CAROL, "Enterprise, I think", thread_ts=other["ts"])  # another thread
    [(lookup, params)] = [s for s in statements if "processed_event" not in s[0]]
    assert lookup.lstrip().upper().startswith("SELECT")  # one read, nothing recorded
    if services.db.dialect == "sqlite":
        with services.db.engine.connect() as connection:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}", params).all()
        assert "USING INDEX" in str(plan) and "SCAN item" not in str(plan)
    slack.say(TEAM, ERIN, "Acme is on Enterprise", thread_ts=thread)  # not the reporter

    item = item_of(services, card)
    assert item.status is ItemStatus.NEEDS_INFO and item.reason == QUESTION["reason"]
    assert answers_heard(fake) == []
    assert "_asked:_ Which plan is Acme on?" in rendered(fake, card_now(fake, card))


def asked_by_dm(slack: SignedClient, fake: FakeSlack, services: Services) -> Item:
    """Carol raises feedback by command (no thread to be asked in) and Alice asks her
    something: Carol's DM carries the question and an Answer button."""
    set_up_team(slack, fake)
    command(slack, fake, "/feedback", "SSO for Acme", CAROL)
    fake.wait_for(lambda: len(cards(fake, ALICE)) == 1)
    card = {**cards(fake, ALICE)[0], "channel": fake.dm_channel(ALICE)}
    press(slack, fake, ALICE, card, "item_needs_info", QUESTION)
    fake.wait_for(lambda: len(fake.dms_to(CAROL)) == 1)
    return item_of(services, card)


def carols_question(fake: FakeSlack) -> dict[str, Any]:
    [question] = fake.dms_to(CAROL)
    return question


def press_answer(slack: SignedClient, fake: FakeSlack, user: str, item: Item) -> None:
    question = carols_question(fake)
    slack.click(user, fake.dm_channel(CAROL), question["ts"], ANSWER, str(item.id))


def test_a_question_asked_by_dm_is_answered_with_its_button(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    item = asked_by_dm(slack, fake, services)
    question = rendered(fake, carols_question(fake))
    assert "@alice needs more on the feedback you raised: press *Answer*." in question
    assert "*Question:* Which plan is Acme on?" in question and "[Answer]" in question
    assert item_id(carols_question(fake)) == str(item.id)

    press_answer(slack, fake, CAROL, item)
    fake.wait_for(lambda: len(fake.open_views(CAROL)) == 1)
    view = fake.open_views(CAROL)[0]
    assert "Which plan is Acme on?" in str(view["blocks"])
    blank = slack.view_submission(view, CAROL, state_values(view, {"answer": "   "}))
    assert "answer" in blank.json()["errors"]  # still open, with the error under the field
    submitted = slack.view_submission(view, CAROL, state_values(view, {"answer": "Pro <!here>"}))

    assert submitted.status_code == 200 and submitted.content in (b"", b"{}")
    assert fake.open_views(CAROL) == []
    after = item_of(services, {**cards(fake, ALICE)[0]})
    assert after.status is ItemStatus.OPEN and after.reason == "Pro <!here>"
    assert "*Answer* from @carol: Pro <!here>" in rendered(fake, cards(fake, ALICE)[0])
    [heard] = answers_heard(fake)
    assert "*Answer:* Pro <!here>" in heard
    assert "<!here>" not in str(fake.calls_to("chat.postMessage"))

    # The button again, once answered: told so, no second modal, nobody told again.
    press_answer(slack, fake, CAROL, item)
    fake.wait_for(lambda: len(ephemerals(fake, CAROL)) >= 2)
    assert ephemerals(fake, CAROL)[-1] == (
        f"Thanks, but #{item.id} no longer waits for an answer: it is back in the queue."
    )
    assert fake.open_views(CAROL) == [] and len(answers_heard(fake)) == 1


def test_an_answer_after_the_asker_gave_up_the_role_reaches_who_holds_it_now(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    item = asked_by_dm(slack, fake, services)
    command(slack, fake, "/role", f"<@{ERIN}|erin> product", ALICE)
    command(slack, fake, "/role", f"remove <@{ALICE}|alice> product", ERIN)
    fake.channels[TEAM]["members"].discard(ALICE)  # and she left #launch

    press_answer(slack, fake, CAROL, item)
    fake.wait_for(lambda: len(fake.open_views(CAROL)) == 1)
    view = fake.open_views(CAROL)[0]
    slack.view_submission(view, CAROL, state_values(view, {"answer": "Enterprise, 300 seats"}))

    fake.wait_for(lambda: any("answered the question" in n for n in notes(fake, ERIN)))
    [heard] = [n for n in notes(fake, ERIN) if "answered" in n]
    assert heard.startswith(f"@carol answered the question asked on #{item.id} in #launch")
    assert "*Answer:* Enterprise, 300 seats" in heard
    assert not any("answered" in n for n in notes(fake, ALICE))  # no longer hers to see


def test_only_the_reporter_may_answer(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    item = asked_by_dm(slack, fake, services)
    refused = f"Sorry, only the person who raised #{item.id} can answer its question."

    press_answer(slack, fake, ERIN, item)
    fake.wait_for(lambda: len(ephemerals(fake, ERIN)) == 1)
    assert ephemerals(fake, ERIN) == [refused]
    assert fake.open_views(ERIN) == []

    press_answer(slack, fake, CAROL, item)
    fake.wait_for(lambda: len(fake.open_views(CAROL)) == 1)
    view = fake.open_views(CAROL)[0]
    forged = slack.view_submission(view, ERIN, state_values(view, {"answer": "Free tier"}))
    assert forged.json() == {"response_action": "errors", "errors": {"answer": refused}}
    assert item_of(services, {**cards(fake, ALICE)[0]}).status is ItemStatus.NEEDS_INFO
    assert answers_heard(fake) == []


def test_an_answer_after_the_owner_declined_changes_nothing_and_says_so(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    item = asked_by_dm(slack, fake, services)
    card = {**cards(fake, ALICE)[0], "channel": fake.dm_channel(ALICE)}
    press_answer(slack, fake, CAROL, item)
    fake.wait_for(lambda: len(fake.open_views(CAROL)) == 1)
    view = fake.open_views(CAROL)[0]
    clock.now += timedelta(minutes=5)
    press(slack, fake, ALICE, card, "item_decline", {"reason": "Not this year"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.DECLINED)

    late = slack.view_submission(view, CAROL, state_values(view, {"answer": "Enterprise"}))

    assert late.json() == {
        "response_action": "errors",
        "errors": {
            "answer": (
                f"Thanks, but #{item.id} no longer waits for an answer: it was declined by "
                "a teammate."
            )
        },
    }
    declined = item_of(services, card)
    assert declined.status is ItemStatus.DECLINED and declined.reason == "Not this year"
    assert "*Declined* by @alice" in rendered(fake, card_now(fake, card))
    assert answers_heard(fake) == []


def test_a_thread_reply_after_the_owner_moved_on_changes_nothing(
    slack: SignedClient, fake: FakeSlack, services: Services, clock: FixedClock
) -> None:
    card, thread = asked_in_thread(slack, fake, clock)
    press(slack, fake, ALICE, card, "item_decline", {"reason": "Not this year"})
    fake.wait_for(lambda: item_of(services, card).status is ItemStatus.DECLINED)

    slack.say(TEAM, CAROL, "Enterprise, 300 seats", thread_ts=thread)

    assert item_of(services, card).reason == "Not this year"
    assert answers_heard(fake) == []
