"""App Home shows each manager their side of the handoff: open risks of their role (high first,
with the risk's buttons), the product manager's quarter on the roadmap and every milestone's
why. Pure builders, checked against Slack's limits."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.blocks import ButtonElement

import bot.blocks.home as home_blocks
from bot.blocks.cards import item_buttons
from bot.blocks.home import (
    RISK_ROWS,
    VIEW_BLOCKS,
    HomeData,
    ProductPart,
    ProjectPart,
    Roadmap,
    Rows,
    Section,
    home_view,
)
from sandbox.block_kit import BROADCAST, view_errors
from storage.items import QueuedItem
from storage.models import Item, ItemKind, ItemStatus, Milestone, Role, Theme, WorkStatus
from storage.planning import TrackedMilestone
from storage.queues import OpenRisk, Risks
from storage.roadmap import Quarter, ThemeProgress
from tests.bot.test_home_blocks import (
    HOSTILE,
    NOW,
    TODAY,
    entries,
    full_home,
    make_item,
    milestone,
    role,
    row_ids,
    texts,
)

QUARTER = Quarter(2026, 4)


def risk(
    n: int,
    kind: ItemKind = ItemKind.MARKET_RISK,
    high: bool = False,
    milestone: str | None = None,
    **fields: Any,
) -> OpenRisk:
    return OpenRisk(make_item(n, kind, **fields), high, milestone)


def theme(n: int, name: str | None = None) -> Theme:
    return Theme(
        id=n,
        team_channel_id="C1",
        name=name or f"theme {n}",
        name_key=f"t{n}",
        year=QUARTER.year,
        quarter=QUARTER.number,
        created_by="U1",
        created_at=NOW,
    )


def planned(n: int, votes: int, text: str | None = None) -> QueuedItem:
    return QueuedItem(make_item(n, text=text or f"item {n}", status=ItemStatus.PLANNED), votes)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def text_of(view: dict[str, Any], block_id: str) -> str:
    return str(block(view, block_id)["text"]["text"])


def risk_ids(view: dict[str, Any]) -> list[int]:
    prefix = "home_risk_"
    return [
        int(b["block_id"].removeprefix(prefix))
        for b in view["blocks"]
        if b.get("block_id", "").startswith(prefix) and b["block_id"].removeprefix(prefix).isdigit()
    ]


def product_manager(**fields: Any) -> HomeData:
    return HomeData(
        "U1", [role("C1", Role.PRODUCT)], NOW, product=ProductPart(["C1"], {}, **fields)
    )


def project_manager(**fields: Any) -> HomeData:
    return HomeData(
        "U1", [role("C1", Role.PROJECT)], NOW, project=ProjectPart(["C1"], {}, **fields)
    )


def test_the_product_manager_sees_open_market_risks_high_first_with_their_buttons() -> None:
    high = risk(3, high=True, assignee_id="UANN")
    low = risk(4, status=ItemStatus.MITIGATING)
    view = home_view(product_manager(risks=Risks([high, low], total=2, high=1)))

    assert "*Market risks:* 2 open, 1 high" in text_of(view, "home_summary")
    assert text_of(view, "home_market_risks") == "*Open market risks, high first* (2 open, 1 high)"
    assert risk_ids(view) == [3, 4]
    assert text_of(view, "home_risk_3").splitlines()[1] == (
        ":rotating_light: *high* · likelihood not set · impact not set · owner <@UANN> · <#C1>"
    )
    assert "mitigating" in text_of(view, "home_risk_4")
    for shown in (high, low):
        rendered = [button.to_dict() for button in item_buttons(shown.item)]
        actions = [
            b for b in view["blocks"] if b.get("block_id") == f"home_risk_{shown.item.id}_actions"
        ]
        assert [a["elements"] for a in actions] == ([rendered] if rendered else [])
    assert "home_operational_risks" not in texts(view)  # not their role's kind
    assert view_errors(view, "home") == []


def test_the_project_manager_sees_open_operational_risks_and_how_many_more() -> None:
    shown = [risk(n, ItemKind.OPERATIONAL_RISK) for n in range(1, RISK_ROWS + 2)]
    view = home_view(project_manager(risks=Risks(shown, total=9)))

    assert "*Operational risks:* 9 open" in text_of(view, "home_summary")
    assert risk_ids(view) == list(range(1, RISK_ROWS + 1))
    assert block(view, "home_operational_risks_more")["elements"][0]["text"] == (
        f"…and {9 - RISK_ROWS} more."
    )
    assert "Market risks" not in texts(view)


def test_no_open_risks_says_so() -> None:
    view = home_view(project_manager())
    assert text_of(view, "home_operational_risks") == (
        "*Open operational risks, high first* (0 open)\n_None open._"
    )


def test_a_risk_shown_in_its_section_is_not_repeated_in_what_you_raised() -> None:
    mine = risk(5)
    data = product_manager(risks=Risks([mine], total=1))
    data = HomeData(
        data.user_id, data.assignments, NOW, product=data.product, raised=Rows(entries(mine.item))
    )
    view = home_view(data)
    assert risk_ids(view) == [5] and row_ids(view, Section.RAISED) == []


def test_each_project_milestone_says_why_it_exists() -> None:
    data = project_manager(
        milestones=[
            milestone(1, TODAY + timedelta(days=3)),
            milestone(2, TODAY + timedelta(days=5)),
        ],
        milestones_total=2,
        whys={1: ([planned(12, 5, "CSV export"), planned(9, 1, "SSO")], 4)},
    )
    lines = text_of(home_view(data), "home_milestones").splitlines()
    assert lines[1].endswith("· 4 planned · why: #12 CSV export (5 +1s), #9 SSO (1 +1), +2 more")
    assert lines[2].endswith("· no feedback planned into it yet")


def test_a_milestone_at_risk_from_a_high_risk_says_so() -> None:
    at_risk = TrackedMilestone(milestone(1, TODAY + timedelta(days=3)).milestone, 0, 1)
    lines = text_of(home_view(project_manager(milestones=[at_risk])), "home_milestones")
    assert ":warning: at risk: 1 high risk" in lines and "0 open blockers" not in lines


def test_this_quarter_shows_each_theme_with_progress_and_its_milestones_why() -> None:
    done = Milestone(
        id=7,
        team_channel_id="C1",
        name="Alpha",
        name_key="alpha",
        due_date=TODAY - timedelta(days=20),
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
        status=WorkStatus.DONE,
    )
    beta = milestone(8, TODAY + timedelta(days=9), name="Public beta").milestone
    more = [milestone(n, TODAY + timedelta(days=n)).milestone for n in (20, 21)]
    roadmap = Roadmap(
        QUARTER,
        [ThemeProgress(theme(1, "Self-serve onboarding"), 1, 4), ThemeProgress(theme(2), 0, 0)],
        total=2,
        milestones={1: [done, beta, *more]},
        whys={8: ([planned(12, 5, "CSV export")], 4)},
    )

    view = home_view(product_manager(roadmap=roadmap))

    assert text_of(view, "home_roadmap") == "*This quarter (2026-Q4)*"
    assert text_of(view, "home_theme_1").splitlines() == [
        "*Self-serve onboarding* in <#C1> — 1 of 4 milestones done",
        "◦ *Alpha* · done · no feedback planned into it yet",
        "◦ *Public beta* · due Wed 9 Dec 2026 · 4 planned · why: #12 CSV export (5 +1s), +3 more",
        "◦ *milestone 20* · due Sun 20 Dec 2026 · no feedback planned into it yet",
        "…and 1 more.",
    ]
    assert text_of(view, "home_theme_2") == "*theme 2* in <#C1> — no milestones yet"
    assert "home_roadmap_more" not in texts(view)


def test_an_empty_quarter_and_more_themes_than_shown() -> None:
    empty = home_view(product_manager(roadmap=Roadmap(QUARTER)))
    assert text_of(empty, "home_roadmap") == (
        "*This quarter (2026-Q4)*\n_No roadmap themes for 2026-Q4._"
    )
    many = Roadmap(QUARTER, [ThemeProgress(theme(n), 0, 0) for n in range(1, 5)], total=11)
    view = home_view(product_manager(roadmap=many))
    assert block(view, "home_roadmap_more")["elements"][0]["text"] == "…and 7 more."


def test_hostile_text_in_risks_themes_milestones_and_whys_is_escaped() -> None:
    named = milestone(8, TODAY, name=HOSTILE)
    data = HomeData(
        "U1",
        [role("C1", Role.PRODUCT), role("C1", Role.PROJECT)],
        NOW,
        product=ProductPart(
            ["C1"],
            {},
            risks=Risks([risk(1, text=HOSTILE * 30, milestone=HOSTILE * 5)], total=1),
            roadmap=Roadmap(
                QUARTER,
                [ThemeProgress(theme(1, HOSTILE), 0, 1)],
                total=1,
                milestones={1: [named.milestone]},
                whys={8: ([planned(2, 1, HOSTILE)], 1)},
            ),
        ),
        project=ProjectPart(
            ["C1"], {}, milestones=[named], whys={8: ([planned(2, 1, HOSTILE)], 1)}
        ),
    )
    view = home_view(data)
    blob = texts(view)
    assert not BROADCAST.search(blob) and "<script>" not in blob
    assert "&lt;!channel&gt; ping &amp; &lt;script&gt;" in text_of(view, "home_theme_1")
    assert view_errors(view, "home") == []


@pytest.fixture
def every_row_has_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worst case for the block count: every row, risks included, carries buttons."""

    def buttons(item: Item) -> list[ButtonElement]:
        return [ButtonElement(text="Act", action_id="item_plan", value=str(item.id))]

    monkeypatch.setattr(home_blocks, "item_buttons", buttons)


@pytest.mark.usefixtures("every_row_has_buttons")
@pytest.mark.parametrize("per_section", [0, 1, 50])
def test_both_roles_with_every_section_full_stay_within_a_home_tabs_100_blocks(
    per_section: int,
) -> None:
    full = full_home(per_section)
    assert full.product is not None and full.project is not None

    def risks(kind: ItemKind) -> Risks:
        first = 20_000 if kind is ItemKind.MARKET_RISK else 30_000
        shown = [risk(first + n, kind, True, text=HOSTILE * 40) for n in range(per_section)]
        return Risks(shown[: RISK_ROWS + 1], total=per_section, high=per_section)

    themes = [ThemeProgress(theme(n, HOSTILE * 3), n, 60) for n in range(1, per_section + 1)]
    milestones = [milestone(n, TODAY, name=HOSTILE * 5).milestone for n in range(per_section)]
    whys = {m.id or 0: ([planned(n, 9, HOSTILE * 4) for n in range(3)], 80) for m in milestones}
    data = replace(
        full,
        product=replace(
            full.product,
            risks=risks(ItemKind.MARKET_RISK),
            roadmap=Roadmap(
                QUARTER, themes, per_section, {t.theme.id or 0: milestones for t in themes}, whys
            ),
        ),
        project=replace(full.project, risks=risks(ItemKind.OPERATIONAL_RISK), whys=whys),
    )

    view = home_view(data)

    assert len(view["blocks"]) <= VIEW_BLOCKS
    assert view["blocks"][-1]["block_id"] == "home_how_to"  # nothing cut off at the end
    assert view_errors(view, "home") == []
    assert len(risk_ids(view)) == 2 * min(per_section, RISK_ROWS)
