"""`/feedback list` counts no further than its cap, as App Home does ("1,000+"): a list of 80,000
items never counts them all. Through signed requests against the fake Slack, with a small cap."""

from sqlalchemy import event

from bot.blocks.home import COUNT_CAP
from bot.blocks.lists import ListPage, queue_page
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.items import QueuedItem
from storage.models import OPEN_STATUSES, ItemKind, ItemStatus
from storage.queues import QueueQuery, QueueStore
from tests.bot.test_lists import NOW, make_item
from tests.conftest import ERIN, TEAM
from tests.handlers.scenario import command, set_up_team
from tests.handlers.test_lists import seed


def test_a_list_longer_than_the_cap_says_at_least_the_cap(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    seed(services, 7)
    services.lists.count_cap = 5

    reply = command(slack, fake, "/feedback", "list", ERIN)

    assert "\n5+ open feedback items in #launch's product manager queue" in reply
    assert "Showing 1 to 7." in reply
    services.lists.count_cap = 7
    assert "\n7 open feedback items in" in command(slack, fake, "/feedback", "list", ERIN)


def test_a_capped_count_reads_no_further_than_one_past_the_cap(services: Services) -> None:
    seed(services, 12)
    seed(services, 2, status=ItemStatus.PLANNED)
    queues = QueueStore(services.db, services.workspace_id)
    query = QueueQuery((TEAM,), ItemKind.FEEDBACK, OPEN_STATUSES[ItemKind.FEEDBACK])
    statements: list[str] = []
    event.listen(services.db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    assert queues.count(query, 4) == 5
    assert queues.count(query, 40) == 12
    assert queues.count(query) == 12
    assert "LIMIT" in statements[0].upper() and "LIMIT" not in statements[2].upper()


def test_the_reply_reads_1000_plus_past_the_cap_as_home_does() -> None:
    listing = ListPage("C1", ItemKind.FEEDBACK, "open", None, None, False, COUNT_CAP, True)

    message = queue_page(listing, [QueuedItem(make_item(1), 0)], NOW)

    assert message.text.startswith("1,000+ open feedback items in <#C1>'s product manager queue")
