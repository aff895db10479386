"""The weekly digest lands in a whole channel at the team's opening: it names people and
mentions nobody, so it pings nobody in their night or while they are away. Names are read from
Slack once for a preview, its post and the recounts after clicks."""

import json
from datetime import timedelta
from typing import Any

from bot.capture import Capture
from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.models import ItemKind, ItemStatus
from tests.conftest import BOB, CAROL, DAVE, ERIN, TEAM, FixedClock
from tests.handlers.scenario import (
    command,
    digests,
    ephemerals,
    file_some,
    posts,
    rendered,
    set_up_team,
    thread,
    tick,
    utc,
)


def mentions_nobody(message: dict[str, Any]) -> bool:
    return "<@" not in message["text"] and "<@" not in json.dumps(message["blocks"])


def reads_of(fake: FakeSlack, user_id: str) -> int:
    return sum(1 for c in fake.calls if c.method == "users.info" and c.params["user"] == user_id)


def test_a_posted_digest_names_everyone_it_shows_and_mentions_nobody(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)  # 1, 2: feedback from Carol and Erin; 3: Carol's blocker
    command(slack, fake, "/feedback", f"Ask <@{DAVE}|dave> about SSO", CAROL)  # 4
    command(slack, fake, "/blocker", "CI is red", ERIN)  # 5
    command(slack, fake, "/risk", "operational Customers churn if support is slow", CAROL)  # 6
    command(slack, fake, "/milestone", f"add Beta 2026-12-04 <@{CAROL}|carol>", BOB)
    command(slack, fake, "/deadline", f"Write the launch post 2026-12-01 <@{ERIN}>", BOB)
    items = services.triage.items
    assert items.transition(3, [ItemStatus.OPEN], ItemStatus.ACKNOWLEDGED, BOB, clock.now)
    assert items.transition(5, [ItemStatus.OPEN], ItemStatus.RESOLVED, BOB, clock.now)
    assert items.transition(6, [ItemStatus.OPEN], None, BOB, clock.now, assignee_id=DAVE)

    tick(ticker, clock, utc(12, 7, 9))

    [parent] = digests(fake)
    product, project = thread(fake, parent)
    assert all(mentions_nobody(message) for message in (parent, product, project))
    product_text, project_text = rendered(fake, product), rendered(fake, project)
    assert ":bulb: *Product* — for alice (product manager)" in product_text
    assert "Ask dave about SSO" in product_text  # a mention typed into feedback, too
    assert "*#1* SSO for Acme\n_carol · 7 days old_" in product_text
    assert ":no_entry: *Project* — for bob (project manager)" in project_text
    assert "*#3* Staging is down\n_carol · 7 days old · owned by bob_" in project_text
    assert "• *#5* CI is red · by bob" in project_text
    assert "owner dave" in project_text
    assert "• *Beta* — Fri 4 Dec 2026 · carol · *3d overdue*" in project_text
    assert "• deadline *Write the launch post* — Tue 1 Dec 2026 · erin" in project_text


def test_a_person_slack_doesnt_know_is_someone_and_a_name_cannot_broadcast(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock, services: Services
) -> None:
    set_up_team(slack, fake)
    fake.users[ERIN]["profile"]["display_name"] = "<!channel> *erin*"
    command(slack, fake, "/feedback", "Dark mode", ERIN)
    services.capture.file(Capture(ItemKind.FEEDBACK, "Offline mode", TEAM, "UGONE"))

    tick(ticker, clock, utc(12, 7, 9))

    [parent] = digests(fake)
    product = thread(fake, parent)[0]
    blocks = json.dumps(product["blocks"], ensure_ascii=False)
    erin = "&lt;!channel&gt; \N{ASTERISK OPERATOR}erin\N{ASTERISK OPERATOR}"
    assert "<!channel>" not in blocks and f"_{erin} · 7 days old_" in blocks
    assert "*#2* Offline mode\n_someone · 7 days old_" in rendered(fake, product)
    assert mentions_nobody(product)


def test_names_are_read_once_for_the_preview_the_post_and_a_click_in_the_thread(
    slack: SignedClient, fake: FakeSlack, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    file_some(slack, fake)
    before = reads_of(fake, CAROL)

    shown = len(fake.seen_by(BOB))
    command(slack, fake, "/digest", "", BOB)
    fake.wait_for(lambda: ephemerals(fake, BOB)[-1].startswith(":no_entry: *Project*"))
    assert reads_of(fake, CAROL) == before + 1  # the reporter of two items: read once
    preview = fake.seen_by(BOB)[shown:]
    assert len(preview) == 3 and "<@" not in json.dumps([(s.text, s.blocks) for s in preview])
    command(slack, fake, "/digest", "post", BOB)
    [parent] = posts(fake)
    project = thread(fake, parent)[1]
    slack.click(BOB, TEAM, project["ts"], "item_acknowledge", "3", block_id="blocker_actions_3")
    fake.wait_for(lambda: "*Acknowledged* by bob" in rendered(fake, thread(fake, parent)[1]))

    updated = thread(fake, parent)[1]
    assert "*#3* Staging is down\n_carol · today · owned by bob_" in rendered(fake, updated)
    assert mentions_nobody(updated) and all(mentions_nobody(m) for m in thread(fake, parent))
    assert reads_of(fake, CAROL) == before + 1  # the post and the recount read no name again
    clock.now += timedelta(minutes=11)
    command(slack, fake, "/digest", "", BOB)
    assert reads_of(fake, CAROL) == before + 2  # names are kept for minutes, not for ever
