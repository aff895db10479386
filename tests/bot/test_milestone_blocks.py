"""`/milestone show`, and the news that a milestone shipped or moved: escaped, within limits."""

from datetime import UTC, date, datetime

from bot.blocks.lists import at_risk
from bot.blocks.milestone import MilestoneFacts, milestone_view, moved_note, shipped_note
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.items import QueuedItem
from storage.models import Item, ItemKind, Milestone, Theme
from storage.planning import TrackedMilestone
from storage.roadmap import InTheWay, MilestoneState

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HUGE = "<!channel> " + "x" * 5000


def milestone(name: str = "Public beta", **fields: object) -> Milestone:
    values: dict[str, object] = {
        "id": 3,
        "team_channel_id": "C1",
        "name": name,
        "name_key": name.lower(),
        "due_date": date(2026, 12, 9),
        "created_by": "U1",
        "created_at": NOW,
        "scheduled_at": NOW,
        **fields,
    }
    return Milestone.model_validate(values)


def item(n: int, text: str = "idea", **fields: object) -> Item:
    values: dict[str, object] = {
        "id": n,
        "kind": ItemKind.FEEDBACK,
        "team_channel_id": "C1",
        "text": text,
        "reporter_id": f"UR{n}",
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Item.model_validate(values)


THEME = Theme(
    id=1,
    team_channel_id="C1",
    name="Self-serve onboarding",
    name_key="self-serve onboarding",
    year=2026,
    quarter=4,
    created_by="U1",
    created_at=NOW,
)


def test_show_lists_the_why_and_what_is_in_the_way_within_slacks_limits() -> None:
    permalink = "https://x.slack.com/archives/C1/p1?" + "q" * 900
    why = [QueuedItem(item(n, HUGE, permalink=permalink), 50 - n) for n in range(10)]
    blockers = [item(20 + n, HUGE, kind=ItemKind.BLOCKER) for n in range(5)]
    facts = MilestoneFacts(
        tracked=TrackedMilestone(milestone(owner_id="UOWN", freeze_date=date(2026, 12, 2)), 7, 2),
        state=MilestoneState.AT_RISK,
        theme=THEME,
        why=why,
        why_total=25,
        in_the_way=InTheWay(blockers, 7, [item(40, "Acme may churn")], 2),
        creep=3,
    )

    view = milestone_view(facts)

    assert block_kit_errors(view.blocks, MESSAGE_BLOCK_LIMIT) == []
    head = view.blocks[0]["text"]["text"]
    assert head.splitlines() == [
        ":triangular_flag_on_post: *Public beta* in <#C1>",
        "*Due:* Wed 9 Dec 2026 · *Owner:* <@UOWN>",
        "*State:* :warning: at risk: 7 open blockers, 2 high risks",
        "*Scope freeze:* Wed 2 Dec 2026",
        "*Theme:* Self-serve onboarding (2026-Q4)",
        "*Scope creep accepted:* 3 items",
    ]
    rendered = str(view.blocks)
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    assert view.blocks[2]["text"]["text"].startswith("*#0* &lt;!channel&gt; xxx")
    assert view.blocks[3]["elements"][0]["text"] == f"<@UR0> · +50 · <{permalink}|source>"
    assert view.blocks[22]["elements"][0]["text"] == "…and 15 more: `/feedback list planned`"
    assert view.blocks[23]["text"]["text"].endswith("\n…and 2 more.")  # blockers: 5 of 7
    assert view.blocks[24]["text"]["text"] == (
        "*Open high risks* (2)\n• *#40* Acme may churn · <@UR40>\n…and 1 more."
    )
    assert len(view.text) < 300


def test_a_milestone_without_why_or_trouble_says_so() -> None:
    facts = MilestoneFacts(
        TrackedMilestone(milestone(), 0, 0),
        MilestoneState.ON_TRACK,
        None,
        [],
        0,
        InTheWay([], 0, [], 0),
    )
    texts = [b["text"]["text"] for b in milestone_view(facts).blocks]
    assert texts[1:] == [
        "*Why*: no feedback is planned into it yet.",
        "*Open blockers*: none.",
        "*Open high risks*: none.",
    ]
    assert "*State:* :large_green_circle: on track" in texts[0]
    assert "Theme" not in texts[0] and "freeze" not in texts[0]


def test_the_at_risk_reason_names_blockers_and_high_risks() -> None:
    assert at_risk(TrackedMilestone(milestone(), 2, 1)) == (
        " · :warning: *at risk*: 2 open blockers, 1 high risk"
    )
    assert at_risk(TrackedMilestone(milestone(), 0, 3)) == " · :warning: *at risk*: 3 high risks"
    assert at_risk(TrackedMilestone(milestone(), 0, 0)) == ""


def test_shipped_news_names_the_item_and_lists_at_most_five() -> None:
    sso = item(1, "SSO for <!here> Acme", permalink="https://x.slack.com/p1")
    assert shipped_note(milestone(), [sso]) == (
        ":rocket: Shipped in *Public beta*: SSO for &lt;!here&gt; Acme "
        "(<https://x.slack.com/p1|source>)"
    )
    assert shipped_note(milestone(), [sso], mention="UR1") == (
        "<@UR1> :rocket: Shipped in *Public beta*: SSO for &lt;!here&gt; Acme"
    )
    many = [item(n, HUGE, title=f"Idea {n}") for n in range(40)]
    note = shipped_note(milestone(), many)
    assert note.splitlines() == [
        ":rocket: Shipped in *Public beta*: 40 things you asked for in <#C1>",
        "• Idea 0",
        "• Idea 1",
        "• Idea 2",
        "• Idea 3",
        "• Idea 4",
        "…and 35 more.",
    ]
    assert len(shipped_note(milestone("<!channel>" * 10), [item(1, HUGE)] * 9)) < 1500


def test_move_news_says_what_is_planned_and_when_it_leaves_its_quarter() -> None:
    beta = milestone()
    assert moved_note(beta, date(2026, 12, 16), "UB", 7, None, False) == (
        ":calendar: *Public beta* in <#C1> moved from Wed 9 Dec 2026 to Wed 16 Dec 2026 "
        "(7 feedback items planned into it), by <@UB>."
    )
    assert moved_note(beta, date(2027, 1, 6), "UB", 0, THEME, True) == (
        ":calendar: *Public beta* in <#C1> moved from Wed 9 Dec 2026 to Wed 6 Jan 2027, by "
        "<@UB>. :warning: It now lands after 2026-Q4, the quarter of *Self-serve onboarding*."
    )
    assert moved_note(beta, date(2026, 12, 10), "UB", 1, THEME, False).endswith(
        "(1 feedback item planned into it), by <@UB>. It delivers *Self-serve onboarding* "
        "(2026-Q4)."
    )
