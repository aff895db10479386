"""The roadmap's blocks: quarters, themes, milestone states, within Slack's limits."""

from datetime import UTC, date, datetime
from typing import Any

from bot.blocks.roadmap import ThemeOnRoadmap, roadmap_view, state_label
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.models import Milestone, Theme, WorkStatus
from storage.roadmap import MilestoneState, Quarter

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
Q4 = Quarter(2026, 4)


def theme(name: str, quarter: Quarter = Q4, n: int = 1) -> Theme:
    return Theme(
        id=n,
        team_channel_id="C1",
        name=name,
        name_key=name.lower(),
        year=quarter.year,
        quarter=quarter.number,
        created_by="U1",
        created_at=NOW,
    )


def milestone(name: str, due: date, status: WorkStatus = WorkStatus.OPEN) -> Milestone:
    return Milestone(
        team_channel_id="C1",
        name=name,
        name_key=name.lower(),
        due_date=due,
        status=status,
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Each block's text: a section's, or a context's first element's."""
    return [
        block["text"]["text"] if block["type"] == "section" else block["elements"][0]["text"]
        for block in blocks
    ]


def test_themes_are_grouped_by_quarter_with_their_milestones_done_of_total() -> None:
    themes = [
        ThemeOnRoadmap(
            theme("Onboarding <!channel>"),
            [
                (milestone("Beta", date(2026, 12, 1), WorkStatus.DONE), MilestoneState.DONE),
                (milestone("GA", date(2027, 1, 5)), MilestoneState.SLIPPED),
            ],
        ),
        ThemeOnRoadmap(theme("Billing", Quarter(2027, 1), 2), []),
    ]

    view = roadmap_view("C1", Q4, themes, total=2)

    assert texts(view.blocks) == [
        "*Roadmap of <#C1>*: 2 themes from 2026-Q4 on (and earlier ones while they have open "
        "milestones).",
        ":spiral_calendar_pad: *2026-Q4* (this quarter)",
        "*Onboarding &lt;!channel&gt;* — 1/2 done\n"
        "• *Beta* — Tue 1 Dec 2026 · :white_check_mark: done\n"
        "• *GA* — Tue 5 Jan 2027 · :rotating_light: slipped (due after 2026-Q4 ends)",
        ":spiral_calendar_pad: *2027-Q1*",
        '*Billing* — no milestones deliver it yet: `/roadmap link "Billing" &lt;milestone&gt;`',
    ]
    assert block_kit_errors(view.blocks, MESSAGE_BLOCK_LIMIT) == []


def test_an_empty_roadmap_says_how_to_start() -> None:
    view = roadmap_view("C1", Q4, [], total=0)
    assert view.text.startswith("<#C1> has no themes on its roadmap from 2026-Q4 on.")
    assert '`/roadmap add "Self-serve onboarding" 2026-Q4`' in view.text


def test_a_huge_roadmap_stays_within_50_blocks_and_counts_the_rest() -> None:
    long_name = "N" * 150
    themes = [
        ThemeOnRoadmap(
            theme(f"{long_name}{n}", Quarter(2026 + n // 4, n % 4 + 1), n),
            [
                (milestone(f"{long_name}{m}", date(2027, 1, 1)), MilestoneState.ON_TRACK)
                for m in range(30)
            ],
        )
        for n in range(40)
    ]

    view = roadmap_view("C1", Q4, themes, total=300)

    assert block_kit_errors(view.blocks, MESSAGE_BLOCK_LIMIT) == []
    assert len(view.blocks) == MESSAGE_BLOCK_LIMIT
    shown = sum(1 for text in texts(view.blocks) if text.startswith("*N"))
    assert texts(view.blocks)[-1] == f"…and {300 - shown} more themes."
    assert texts(view.blocks)[2].endswith("\n…and 20 more.")  # 10 milestones a theme


def test_a_slipped_milestone_says_why() -> None:
    overdue = milestone("Beta", date(2026, 11, 1))
    assert state_label(overdue, MilestoneState.SLIPPED, Q4) == ":rotating_light: slipped (overdue)"
    assert (
        state_label(overdue, MilestoneState.SLIPPED, None) == ":rotating_light: slipped (overdue)"
    )
    late = milestone("GA", date(2027, 1, 1))
    assert state_label(late, MilestoneState.SLIPPED, Q4) == (
        ":rotating_light: slipped (due after 2026-Q4 ends)"
    )
    assert state_label(late, MilestoneState.AT_RISK, Q4) == ":warning: at risk"
