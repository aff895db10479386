"""`/feedback list …` and `/blocker list …` page by page, and `/feedback export …` to a DM,
through signed requests against the fake Slack."""

import csv
import io
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.export import COLUMNS, EXPORT_FAILED
from bot.lists import STALE_LIST
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.items import ItemStore
from storage.models import Item, ItemKind, ItemStatus
from tests.conftest import ALICE, BOB, CAROL, DAVE, ERIN, TEAM
from tests.handlers.scenario import command, ephemerals, set_up_team, utc

OTHER_TEAM = "CQUEUE"  # another channel of the same workspace


def seed(
    services: Services,
    count: int,
    *,
    text: str = "idea {n}",
    team: str = TEAM,
    kind: ItemKind = ItemKind.FEEDBACK,
    status: ItemStatus = ItemStatus.OPEN,
    **fields: Any,
) -> list[int]:
    """`count` items straight into the database, each an hour after the one filed before."""
    items = ItemStore(services.db, services.workspace_id)
    with services.db.session() as session:
        before = session.exec(select(func.count()).select_from(Item)).one()
    ids = []
    for n in range(count):
        at = utc(11, 1) + timedelta(hours=before + n)
        item = Item(
            kind=kind,
            team_channel_id=team,
            text=text.format(n=n),
            reporter_id=CAROL,
            status=status,
            created_at=at,
            updated_at=at,
            **fields,
        )
        filed, _ = items.file(item)
        assert filed.id is not None
        ids.append(filed.id)
    return ids


def last_reply(fake: FakeSlack, user: str) -> list[dict[str, Any]]:
    """The blocks of the last ephemeral reply the person saw."""
    return [s for s in fake.seen_by(user) if s.kind == "ephemeral"][-1].blocks


def more_value(blocks: list[dict[str, Any]]) -> str | None:
    for block in blocks:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"] == "list_more":
                    return str(element["value"])
    return None


def listed_ids(blocks: list[dict[str, Any]]) -> list[int]:
    return [
        int(block["text"]["text"].split()[0].strip("*#"))
        for block in blocks
        if block["type"] == "section" and block["text"]["text"].startswith("*#")
    ]


def click_more(slack: SignedClient, fake: FakeSlack, user: str, value: str) -> str:
    """Press "More" on an ephemeral list in #launch; what the person then sees."""
    before = len(ephemerals(fake, user))
    response = slack.click(user, TEAM, "", "list_more", value, ephemeral=True)
    assert response.status_code == 200
    fake.wait_for(lambda: len(ephemerals(fake, user)) > before)
    return ephemerals(fake, user)[-1]


def test_a_long_queue_pages_through_with_more(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    ids = seed(services, 35)
    seed(services, 3, text="secret {n}", team=OTHER_TEAM)
    seed(services, 2, status=ItemStatus.PLANNED)

    first = command(slack, fake, "/feedback", "list", ERIN)  # anyone in the channel may look
    assert "35 open feedback items in #launch's product manager queue, waiting longest first" in (
        first
    )
    assert "Showing 1 to 15." in first
    blocks = last_reply(fake, ERIN)
    assert listed_ids(blocks) == ids[:15]
    assert len(blocks) <= 50
    value = more_value(blocks)
    assert value is not None and len(value) <= 2000

    second = click_more(slack, fake, ERIN, value)
    assert "Showing 16 to 30." in second
    assert listed_ids(last_reply(fake, ERIN)) == ids[15:30]
    replies = fake.calls_to("response_url")
    assert replies[-1]["replace_original"] in (True, "true")  # pages in place

    value = more_value(last_reply(fake, ERIN))
    assert value is not None
    third = click_more(slack, fake, ERIN, value)
    assert "Showing 31 to 35." in third
    assert listed_ids(last_reply(fake, ERIN)) == ids[30:]
    assert more_value(last_reply(fake, ERIN)) is None  # the last page
    assert "secret" not in first + second + third  # another team's items


def test_filters_by_status_tag_and_literal_text(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    [percent] = seed(services, 1, text="Pricing for 100% of seats", tags=" pricing ")
    [underscore] = seed(services, 1, text="the snake_case API")
    seed(services, 1, text="Pricing for 1000 seats")  # `%` is no wildcard
    seed(services, 1, text="the snakeXcase API")  # nor is `_`
    planned = seed(services, 2, text="planned {n}", status=ItemStatus.PLANNED, tags=" pricing ")
    [asked] = seed(services, 1, text="which plan?", status=ItemStatus.NEEDS_INFO)
    seed(services, 1, text="later", status=ItemStatus.SNOOZED)
    [blocker] = seed(services, 1, text="db down", kind=ItemKind.BLOCKER)
    [acked] = seed(
        services, 1, text="ci red", kind=ItemKind.BLOCKER, status=ItemStatus.ACKNOWLEDGED
    )
    seed(services, 1, text="fixed", kind=ItemKind.BLOCKER, status=ItemStatus.RESOLVED)

    reply = command(slack, fake, "/feedback", "list 100%", ALICE)
    assert listed_ids(last_reply(fake, ALICE)) == [percent]
    assert "matching “100%”" in reply
    command(slack, fake, "/feedback", "list snake_case", ALICE)
    assert listed_ids(last_reply(fake, ALICE)) == [underscore]
    reply = command(slack, fake, "/feedback", "list planned", ALICE)
    assert listed_ids(last_reply(fake, ALICE)) == planned[::-1]
    assert "newest first" in reply
    command(slack, fake, "/feedback", "list all #pricing", ALICE)
    assert listed_ids(last_reply(fake, ALICE)) == [*planned[::-1], percent]
    command(slack, fake, "/feedback", "list", ALICE)  # open: not planned, not snoozed
    assert asked in listed_ids(last_reply(fake, ALICE))
    assert len(listed_ids(last_reply(fake, ALICE))) == 5
    command(slack, fake, "/blocker", "list", BOB)
    assert listed_ids(last_reply(fake, BOB)) == [blocker, acked]
    command(slack, fake, "/blocker", "list resolved #nothing", BOB)
    assert listed_ids(last_reply(fake, BOB)) == []

    usage = command(slack, fake, "/blocker", "list planned", BOB)
    assert "`planned` is not a blocker filter" in usage


def test_a_forged_more_button_gets_a_polite_reply(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    seed(services, 20)
    command(slack, fake, "/feedback", "list", ALICE)
    value = more_value(last_reply(fake, ALICE))
    assert value is not None
    fields = json.loads(value)
    for forged in [
        "garbage",
        "[" * 1999,
        json.dumps([*fields[:6], "1 OR 1=1"]),
        json.dumps([fields[0], "f", "everything", *fields[3:]]),
    ]:
        assert click_more(slack, fake, ALICE, forged) == STALE_LIST


def test_a_more_button_shows_only_the_channel_it_is_pressed_in(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    """The value never names a channel: pressed in another channel (a value copied there),
    it pages that channel's own queue, never #launch's."""
    set_up_team(slack, fake)
    seed(services, 20, text="launch {n}")
    other = seed(services, 20, text="queue {n}", team=OTHER_TEAM)
    command(slack, fake, "/feedback", "list", ALICE)
    value = more_value(last_reply(fake, ALICE))
    assert value is not None
    before = len(ephemerals(fake, ALICE))
    slack.click(ALICE, OTHER_TEAM, "", "list_more", value, ephemeral=True)
    fake.wait_for(lambda: len(ephemerals(fake, ALICE)) > before)
    assert set(listed_ids(last_reply(fake, ALICE))) <= set(other)
    assert "launch" not in ephemerals(fake, ALICE)[-1]


def exported(fake: FakeSlack, user: str) -> list[tuple[str, bytes, str]]:
    return fake.files_in(fake.dm_channel(user))


def test_a_role_holder_gets_the_export_as_a_csv_in_a_dm(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    ids = seed(services, 3, text="idea {n} &amp; more")
    [formula] = seed(services, 1, text='=HYPERLINK("https://evil.test","click")')
    [minus] = seed(services, 1, text="-2+3", customer="@acme", tags=" q4 vip ")
    seed(services, 1, text="planned", status=ItemStatus.PLANNED)
    seed(services, 2, text="secret {n}", team=OTHER_TEAM)
    seed(services, 1, text="a blocker", kind=ItemKind.BLOCKER)

    reply = command(slack, fake, "/feedback", "export", ALICE)
    assert reply == "Exporting… I'll send the file to you in a DM."
    fake.wait_for(lambda: len(exported(fake, ALICE)) == 1)
    name, data, title = exported(fake, ALICE)[0]
    assert name.startswith(f"rolecall-feedback-{TEAM}-open-") and name.endswith(".csv")
    assert title.startswith("Feedback export")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == list(COLUMNS)
    body = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [int(r["id"]) for r in body] == [*ids, formula, minus]  # oldest first
    assert body[0]["text"] == "idea 0 & more"
    assert body[0]["kind"] == "feedback" and body[0]["status"] == "open"
    assert body[0]["team_channel_id"] == TEAM and body[0]["reporter_id"] == CAROL
    assert body[0]["created_at"] == "2026-11-01T00:00:00Z"
    assert body[3]["text"] == '\'=HYPERLINK("https://evil.test","click")'
    assert body[4]["text"] == "'-2+3"
    assert body[4]["customer"] == "'@acme"
    assert body[4]["tags"] == "q4 vip"
    comment = next(m for m in fake.dms_to(ALICE) if m.get("files"))["text"]
    assert comment.startswith(f"5 feedback items from <#{TEAM}> (`open`)")


def test_only_role_holders_and_admins_may_export(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    set_up_team(slack, fake)
    seed(services, 2, kind=ItemKind.BLOCKER, status=ItemStatus.RESOLVED, tags=" infra ")

    slack.command("/blocker", "export resolved", ERIN, TEAM)
    refusal = (
        "Sorry, only the people who hold a role in #launch (or a workspace admin) can export "
        "its blockers."
    )
    fake.wait_for(lambda: refusal in ephemerals(fake, ERIN))
    assert exported(fake, ERIN) == []

    command(slack, fake, "/blocker", "export resolved #infra", DAVE)  # an admin
    fake.wait_for(lambda: len(exported(fake, DAVE)) == 1)
    assert exported(fake, DAVE)[0][1].decode().count("\r\n") == 3  # a header and two rows

    command(slack, fake, "/blocker", "export planned", BOB)
    assert "`planned` is not a blocker filter" in ephemerals(fake, BOB)[-1]
    command(slack, fake, "/blocker", "export acknowledged", BOB)
    fake.wait_for(lambda: any("Nothing to export" in e for e in ephemerals(fake, BOB)))
    assert exported(fake, BOB) == []


def test_an_export_slack_refuses_is_apologised_for(
    slack: SignedClient, fake: FakeSlack, services: Services
) -> None:
    """A workspace that has not granted `files:write` yet: the person is told, not left
    waiting for a file."""
    set_up_team(slack, fake)
    seed(services, 2)
    fake.fail_next("files.getUploadURLExternal", "missing_scope")
    slack.command("/feedback", "export", ALICE, TEAM)
    fake.wait_for(lambda: EXPORT_FAILED in ephemerals(fake, ALICE))
    assert exported(fake, ALICE) == []
