"""App Home's Block Kit is pure: built from what was read, checked against Slack's limits."""

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.home import (
    CLEAR,
    MORE,
    ROWS,
    STATUS,
    TAG,
    TEAM,
    TOP,
    VIEW_BLOCKS,
    HomeData,
    HomeState,
    ProductPart,
    ProjectPart,
    Rows,
    Section,
    home_view,
    tag_of,
)
from bot.home import changed
from sandbox.block_kit import BROADCAST, TOKEN, view_errors
from storage.items import QueuedItem
from storage.models import (
    Deadline,
    Item,
    ItemKind,
    ItemStatus,
    Milestone,
    Role,
    RoleAssignment,
)
from storage.planning import TrackedMilestone

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
HOSTILE = "<!channel> ping & <script>alert(1)</script> <!subteam^S1|@devs> *bold* `code`"


def make_item(item_id: int, kind: ItemKind = ItemKind.FEEDBACK, **fields: Any) -> Item:
    values: dict[str, Any] = {
        "id": item_id,
        "kind": kind,
        "team_channel_id": "C1",
        "text": f"item {item_id}",
        "reporter_id": "U9",
        "created_at": NOW - timedelta(hours=item_id),
        "updated_at": NOW,
    }
    values.update(fields)
    return Item.model_validate(values)


def entries(*items: Item) -> list[QueuedItem]:
    return [QueuedItem(item, item.vote_count) for item in items]


def role(channel: str, held: Role) -> RoleAssignment:
    return RoleAssignment(
        channel_id=channel, user_id="U1", role=held, assigned_by="U1", assigned_at=NOW
    )


def milestone(n: int, due: date, blockers: int = 0, name: str | None = None) -> TrackedMilestone:
    row = Milestone(
        id=n,
        team_channel_id="C1",
        name=name or f"milestone {n}",
        name_key=f"m{n}",
        due_date=due,
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )
    return TrackedMilestone(row, blockers)


def deadline(n: int, due: date, task: str | None = None) -> Deadline:
    return Deadline(
        id=n,
        team_channel_id="C1",
        task=task or f"task {n}",
        due_date=due,
        assignee_id="U1",
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )


def texts(view: dict[str, Any]) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def row_ids(view: dict[str, Any], section: Section) -> list[int]:
    """The items a section shows, in order (their rows' block ids)."""
    pattern = re.compile(rf"home_{section.value}_(\d+)")
    return [
        int(match.group(1))
        for block in view["blocks"]
        if (match := pattern.fullmatch(block.get("block_id", "")))
    ]


def element(view: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in view["blocks"]:
        for found in [*block.get("elements", []), block.get("element") or {}]:
            if found.get("action_id") == action_id:
                return dict(found)
    return None


def full_home(per_section: int = 50) -> HomeData:
    """Everything at once, every list far longer than a Home shows."""
    ids = iter(range(1, 10_000))

    def rows(kind: ItemKind = ItemKind.FEEDBACK, **fields: Any) -> Rows:
        made = [make_item(next(ids), kind, **fields) for _ in range(per_section)]
        return Rows(entries(*made), after="2026-11-30T08:00:00+00:00|1", paged=True)

    teams = [f"C{n:03d}" for n in range(30)]
    return HomeData(
        user_id="U1",
        assignments=[role(t, r) for t in teams for r in Role],
        now=NOW,
        state=HomeState(team="C001", status=ItemStatus.NEEDS_INFO, tag="pricing"),
        product=ProductPart(
            teams,
            {ItemStatus.OPEN: 100_000},
            rows(text=HOSTILE * 40, customer=HOSTILE, tags=" pricing mobile "),
            rows(),
            rows(vote_count=3),
        ),
        project=ProjectPart(
            teams,
            {ItemStatus.OPEN: 40, ItemStatus.ACKNOWLEDGED: 2},
            rows(ItemKind.BLOCKER),
            [milestone(n, TODAY + timedelta(days=n % 14), n % 2) for n in range(per_section)],
            per_section + 7,
            [deadline(n, TODAY - timedelta(days=n + 1)) for n in range(per_section)],
            per_section,
        ),
        raised=rows(status=ItemStatus.PLANNED),
        deadlines=[deadline(n, TODAY + timedelta(days=n)) for n in range(per_section)],
        deadlines_total=per_section,
        note="A note.",
    )


def test_a_full_home_stays_within_slack_limits() -> None:
    view = home_view(full_home())
    assert len(view["blocks"]) <= VIEW_BLOCKS
    assert view_errors(view, "home") == []
    # Each item section shows a page of ROWS, each with its triage buttons and paging.
    assert len(row_ids(view, Section.NEW)) == ROWS
    assert len(row_ids(view, Section.BLOCKERS)) == ROWS
    assert len(row_ids(view, Section.RAISED)) == ROWS
    assert "…and 52 more." in texts(view)  # milestones: 57 in all, 5 shown


@pytest.mark.parametrize("per_section", [0, 1, 5, 6, 50])
def test_any_amount_fits(per_section: int) -> None:
    view = home_view(full_home(per_section))
    assert len(view["blocks"]) <= VIEW_BLOCKS
    assert view_errors(view, "home") == []


def test_people_text_is_escaped_everywhere() -> None:
    view = home_view(full_home())
    blob = texts(view)
    assert not BROADCAST.search(blob)
    assert "&lt;script&gt;" in blob and "<script>" not in blob
    for token in TOKEN.findall(blob):
        assert re.fullmatch(r"[@#][UC][A-Z0-9]+|https?:.*", token), token
    data = full_home(1)
    hostile = HomeData(
        "U1",
        [],
        NOW,
        project=ProjectPart(
            ["C1"],
            {},
            milestones=[milestone(1, TODAY, name=HOSTILE)],
            overdue=[deadline(1, TODAY - timedelta(days=2), HOSTILE)],
        ),
        raised=data.raised,
        deadlines=[deadline(2, TODAY, HOSTILE)],
    )
    blob = texts(home_view(hostile))
    assert not BROADCAST.search(blob) and "<script>" not in blob
    assert "&lt;!channel&gt; ping &amp; &lt;script&gt;" in blob


def test_an_item_shows_once_in_the_first_section_that_has_it() -> None:
    popular = make_item(7, vote_count=9)
    others = [make_item(n) for n in range(20, 30)]
    data = HomeData(
        "U1",
        [role("C1", Role.PRODUCT)],
        NOW,
        product=ProductPart(
            ["C1"],
            {},
            new=Rows(entries(popular, *others[:2])),
            waiting=Rows(entries(*others[:6])),
            voted=Rows(entries(popular, others[9])),
        ),
        raised=Rows(entries(popular, others[2])),
    )
    view = home_view(data)
    assert row_ids(view, Section.NEW) == [7, 20, 21]
    assert row_ids(view, Section.WAITING) == [22, 23, 24, 25]
    assert row_ids(view, Section.VOTED) == [29]
    assert row_ids(view, Section.RAISED) == []
    assert texts(view).count("*#7*") == 1


def test_rows_carry_the_items_triage_buttons() -> None:
    data = HomeData(
        "U1",
        [role("C1", Role.PRODUCT), role("C1", Role.PROJECT)],
        NOW,
        product=ProductPart(["C1"], {}, new=Rows(entries(make_item(1)))),
        project=ProjectPart(["C1"], {}, blockers=Rows(entries(make_item(2, ItemKind.BLOCKER)))),
    )
    view = home_view(data)
    actions = {
        block["block_id"]: [(e["action_id"], e["value"]) for e in block["elements"]]
        for block in view["blocks"]
        if block["type"] == "actions" and block["block_id"].endswith("_actions")
    }
    assert ("item_plan", "1") in actions["home_new_1_actions"]
    assert ("item_acknowledge", "2") in actions["home_blockers_2_actions"]


def test_counts_for_each_role_held() -> None:
    data = HomeData(
        "U1",
        [role("C1", Role.PRODUCT), role("C2", Role.PROJECT)],
        NOW,
        product=ProductPart(
            ["C1"],
            {
                ItemStatus.OPEN: 12,
                ItemStatus.NEEDS_INFO: 3,
                ItemStatus.SNOOZED: 2,
                ItemStatus.PLANNED: 40,
            },
        ),
        project=ProjectPart(["C2"], {ItemStatus.OPEN: 2, ItemStatus.ACKNOWLEDGED: 2}),
    )
    summary = home_view(data)["blocks"][1]["text"]["text"]
    assert "*Product queue:* 12 open · 3 needs info · 2 snoozed" in summary
    assert "*Blockers:* 4 open (2 unacknowledged)" in summary


def test_no_role_shows_what_you_raised_and_how_to() -> None:
    data = HomeData(
        "U1",
        [],
        NOW,
        raised=Rows(entries(make_item(3, status=ItemStatus.DECLINED))),
    )
    view = home_view(data)
    blob = texts(view)
    assert "You hold no role yet" in blob
    assert row_ids(view, Section.RAISED) == [3]
    assert "*Declined*" in blob
    assert element(view, STATUS) is None and "Product manager" not in blob
    assert "How Rolecall works" in blob


def test_milestones_at_risk_come_first() -> None:
    data = HomeData(
        "U1",
        [role("C1", Role.PROJECT)],
        NOW,
        project=ProjectPart(
            ["C1"],
            {},
            milestones=[
                milestone(1, TODAY + timedelta(days=1)),
                milestone(2, TODAY + timedelta(days=9), blockers=2),
                milestone(3, TODAY - timedelta(days=1)),
            ],
            milestones_total=3,
        ),
    )
    text = next(b for b in home_view(data)["blocks"] if b.get("block_id") == "home_milestones")
    lines = text["text"]["text"].splitlines()
    assert lines[1].startswith("• *milestone 2*") and "at risk: 2 open blockers" in lines[1]
    assert lines[2].startswith("• *milestone 3*") and "1 day overdue" in lines[2]
    assert lines[3].startswith("• *milestone 1*") and "due tomorrow" in lines[3]


def test_blockers_unacknowledged_first_with_their_wait() -> None:
    acknowledged = make_item(
        1,
        ItemKind.BLOCKER,
        status=ItemStatus.ACKNOWLEDGED,
        handled_by="U2",
        created_at=NOW - timedelta(days=5),
    )
    waiting = make_item(2, ItemKind.BLOCKER, created_at=NOW - timedelta(days=3, hours=2))
    data = HomeData(
        "U1",
        [role("C1", Role.PROJECT)],
        NOW,
        project=ProjectPart(["C1"], {}, blockers=Rows(entries(acknowledged, waiting))),
    )
    view = home_view(data)
    assert row_ids(view, Section.BLOCKERS) == [2, 1]
    blob = texts(view)
    assert "*unacknowledged* · waiting 3 days" in blob
    assert "acknowledged by <@U2> · waiting 5 days" in blob


def test_paging_buttons_carry_the_section_and_cursor() -> None:
    data = HomeData(
        "U1",
        [role("C1", Role.PRODUCT)],
        NOW,
        product=ProductPart(
            ["C1"], {}, new=Rows(entries(make_item(1)), after="cursor|1", paged=True)
        ),
    )
    view = home_view(data)
    more = element(view, MORE)
    assert more is not None and json.loads(more["value"]) == {"s": "new", "c": "cursor|1"}
    top = element(view, TOP)
    assert top is not None and top["value"] == "new"
    # Without a cursor, a section given more than it shows says how many it left out.
    data = HomeData(
        "U1",
        [],
        NOW,
        raised=Rows(entries(*(make_item(n) for n in range(1, 9)))),
    )
    view = home_view(data)
    assert element(view, MORE) is None
    assert "…and 3 more." in texts(view)


def test_filters_show_the_state_and_one_team_has_no_team_menu() -> None:
    one = HomeData("U1", [role("C1", Role.PRODUCT)], NOW, product=ProductPart(["C1"], {}))
    view = home_view(one)
    assert element(view, TEAM) is None and element(view, CLEAR) is None
    status = element(view, STATUS)
    assert status is not None and status["initial_option"]["value"] == "open"
    tag = element(view, TAG)
    assert tag is not None and "initial_value" not in tag
    filtered = HomeState(team="C2", status=ItemStatus.SNOOZED, tag="pricing")
    two = HomeData(
        "U1",
        [role("C1", Role.PRODUCT), role("C2", Role.PRODUCT)],
        NOW,
        state=filtered,
        product=ProductPart(["C1", "C2"], {}),
    )
    view = home_view(two)
    team = element(view, TEAM)
    assert team is not None and team["initial_conversation"] == "C2"
    assert element(view, CLEAR) is not None
    tag = element(view, TAG)
    assert tag is not None and tag["initial_value"] == "#pricing"
    assert HomeState.parse(view["private_metadata"]) == filtered


def test_state_round_trips_and_junk_gives_defaults() -> None:
    state = HomeState(
        team="C1",
        status=ItemStatus.PLANNED,
        tag="mobile",
        after={Section.NEW: "2026-11-30T08:00:00|5", Section.BLOCKERS: "a:"},
    )
    assert HomeState.parse(state.to_metadata()) == state
    for junk in [
        None,
        "",
        "}{",
        "[1, 2]",
        "null",
        '"text"',
        "9" * 5000,
        "[" * 5000,
        json.dumps({"team": "<!channel>", "status": "deleted", "tag": "a b", "after": [1]}),
        json.dumps({"team": 5, "status": None, "tag": {"x": 1}, "after": {"new": 5, "x": "y"}}),
    ]:
        assert HomeState.parse(junk) == HomeState(), junk
    longest = HomeState(
        team="C" + "A" * 31,
        tag="t" * 30,
        after={section: "9" * 100 for section in Section},
    )
    assert len(longest.to_metadata()) <= 3000


def test_tags_as_people_type_them() -> None:
    assert tag_of(" #Pricing ") == "pricing"
    assert tag_of("mobile-app") == "mobile-app"
    for bad in ["", "#", "two words", "<!here>", "x" * 31, "#ça"]:
        assert tag_of(bad) is None, bad


def test_controls_change_the_state() -> None:
    paged = HomeState(after={Section.NEW: "c|1"})
    state, note = changed(paged, STATUS, "needs_info")
    assert state == HomeState(status=ItemStatus.NEEDS_INFO) and note is None
    assert changed(paged, STATUS, "deleted")[0] == HomeState()
    assert changed(paged, TEAM, "C2")[0] == HomeState(team="C2")
    assert changed(HomeState(team="C2"), TEAM, None)[0] == HomeState()
    assert changed(paged, TAG, " #Pricing")[0] == HomeState(tag="pricing")
    assert changed(HomeState(tag="pricing"), TAG, "  ")[0] == HomeState()
    state, note = changed(paged, TAG, "<!channel> two words")
    assert state == paged and note is not None and "<!channel>" not in note
    more = json.dumps({"s": "voted", "c": "3|9"})
    assert changed(paged, MORE, more)[0].after == {Section.NEW: "c|1", Section.VOTED: "3|9"}
    assert changed(paged, TOP, "new")[0] == HomeState()
    assert changed(HomeState(tag="x"), CLEAR, "clear")[0] == HomeState()
    for junk in [None, "", "{", "[]", '{"s": "nope"}', '{"s": 1, "c": "x"}']:
        assert changed(paged, MORE, junk)[0] == paged, junk
    assert changed(paged, TOP, "nope")[0] == paged
    assert changed(paged, "home_unknown", "x")[0] == paged


SYDNEY, LOS_ANGELES = ZoneInfo("Australia/Sydney"), ZoneInfo("America/Los_Angeles")


def in_team(tracked: TrackedMilestone, team: str) -> TrackedMilestone:
    tracked.milestone.team_channel_id = team
    return tracked


def owed_in(row: Deadline, tz: ZoneInfo) -> Deadline:
    row.assignee_tz = tz.key
    return row


def lines_of(view: dict[str, Any], block_id: str) -> list[str]:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return list(block["text"]["text"].splitlines()[1:])


def test_dates_are_the_teams_and_the_assignees_own_when_sydney_is_a_day_ahead() -> None:
    now = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # Tue 1 Dec, 07:00 in Sydney
    sydney = date(2026, 12, 1)  # its date there; 30 Nov in UTC
    snoozed = make_item(
        7,
        team_channel_id="CSYD",
        status=ItemStatus.SNOOZED,
        snoozed_until=datetime(2026, 12, 14, 9, 0, tzinfo=SYDNEY),  # Sun 13 Dec, 22:00 UTC
    )
    data = HomeData(
        "U1",
        [role("CSYD", Role.PRODUCT), role("CSYD", Role.PROJECT)],
        now,
        product=ProductPart(["CSYD"], {}, Rows(entries(snoozed)), zones={"CSYD": SYDNEY}),
        project=ProjectPart(
            ["CSYD"],
            {},
            milestones=[
                in_team(milestone(1, sydney, name="launch"), "CSYD"),
                in_team(milestone(2, sydney + timedelta(days=14), name="edge"), "CSYD"),
            ],
            milestones_total=2,
            overdue=[owed_in(deadline(3, date(2026, 11, 30), "slides"), SYDNEY)],
            overdue_total=1,
            zones={"CSYD": SYDNEY},
        ),
        deadlines=[owed_in(deadline(4, sydney, "notes"), SYDNEY)],
        deadlines_total=1,
    )

    view = home_view(data)

    assert "Tue 1 Dec 2026 (due today)" in lines_of(view, "home_milestones")[0]
    assert "Tue 15 Dec 2026 (in 14 days)" in lines_of(view, "home_milestones")[1]
    assert lines_of(view, "home_overdue") == ["• slides: <@U1> in <#C1>, 1 day overdue"]
    assert lines_of(view, "home_deadlines") == ["• notes in <#C1>: Tue 1 Dec 2026 (due today)"]
    row = next(b for b in view["blocks"] if b.get("block_id") == "home_new_7")
    assert "snoozed until Mon 14 Dec 2026" in row["text"]["text"]


def test_dates_are_the_teams_and_the_assignees_own_when_los_angeles_is_a_day_behind() -> None:
    now = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Mon 30 Nov, 19:00 in Los Angeles
    data = HomeData(
        "U1",
        [role("CLAX", Role.PROJECT)],
        now,
        project=ProjectPart(
            ["CLAX"],
            {},
            milestones=[in_team(milestone(1, date(2026, 11, 30), name="launch"), "CLAX")],
            milestones_total=1,
            overdue=[owed_in(deadline(3, date(2026, 11, 29), "slides"), LOS_ANGELES)],
            overdue_total=1,
            zones={"CLAX": LOS_ANGELES},
        ),
        deadlines=[owed_in(deadline(4, date(2026, 11, 30), "notes"), LOS_ANGELES)],
        deadlines_total=1,
    )

    view = home_view(data)

    assert "Mon 30 Nov 2026 (due today)" in lines_of(view, "home_milestones")[0]
    assert lines_of(view, "home_overdue") == ["• slides: <@U1> in <#C1>, 1 day overdue"]
    assert lines_of(view, "home_deadlines") == ["• notes in <#C1>: Mon 30 Nov 2026 (due today)"]
