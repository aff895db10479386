"""The digest's replies show each role its side of the handoff: the product manager the quarter's
roadmap themes and the open market risks, the project manager the open operational risks and the
scope accepted after a freeze. Pure builders, checked against Slack's limits."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.blocks.common import Names
from bot.blocks.digest import product_reply, project_reply
from sandbox.block_kit import BROADCAST, MESSAGE_BLOCK_LIMIT, block_kit_errors
from storage.digest import Counted, Creep, FeedbackCounts, ProductDigest, ProjectDigest
from storage.models import Item, ItemKind, ItemStatus, Level, Milestone, Theme
from storage.queues import OpenRisk, Risks
from storage.roadmap import Quarter, ThemeProgress

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
QUARTER = Quarter(2026, 4)
HOSTILE = "<!channel> look & <script>x</script> <!subteam^S1|@devs>"
EMPTY = Counted([], 0)
PERIOD = "30 Nov \N{EN DASH} 6 Dec"
NAMES = Names({"UANN": "Ann Lee", "UBO": "Bo Chen"})


def risk(
    n: int,
    kind: ItemKind = ItemKind.MARKET_RISK,
    *,
    high: bool = False,
    milestone: str | None = None,
    **fields: Any,
) -> OpenRisk:
    values: dict[str, Any] = {
        "id": n,
        "kind": kind,
        "team_channel_id": "C1",
        "text": f"risk {n}",
        "reporter_id": "U9",
        "likelihood": Level.MEDIUM,
        "impact": Level.HIGH if high else Level.LOW,
        "created_at": NOW - timedelta(days=n),
        "updated_at": NOW,
    }
    values.update(fields)
    return OpenRisk(Item.model_validate(values), high, milestone)


def theme(name: str, done: int, total: int) -> ThemeProgress:
    row = Theme(
        id=len(name),
        team_channel_id="C1",
        name=name,
        name_key=name.lower(),
        year=QUARTER.year,
        quarter=QUARTER.number,
        created_by="U1",
        created_at=NOW,
    )
    return ThemeProgress(row, done, total)


def milestone(n: int, name: str) -> Milestone:
    return Milestone(
        id=n,
        team_channel_id="C1",
        name=name,
        name_key=name.lower(),
        due_date=TODAY + timedelta(days=n),
        created_by="U1",
        created_at=NOW,
        scheduled_at=NOW,
    )


def product(**fields: Any) -> ProductDigest:
    return ProductDigest(FeedbackCounts({}, 0, 0), [], [], EMPTY, **fields)


def project(**fields: Any) -> ProjectDigest:
    return ProjectDigest(EMPTY, EMPTY, [], [], [], 0, **fields)


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def section_starting(blocks: list[dict[str, Any]], heading: str) -> str:
    return next(text for text in sections(blocks) if text.startswith(heading))


def test_the_product_reply_shows_the_quarters_themes_and_market_risks_high_first() -> None:
    digest = product(
        quarter=QUARTER,
        themes=[theme("Self-serve onboarding", 1, 3), theme("Enterprise", 0, 0)],
        market_risks=Risks(
            [
                risk(3, high=True, milestone="Public beta", assignee_id="UANN"),
                risk(4, title="Competitor ships a free tier", status=ItemStatus.MITIGATING),
            ],
            total=2,
            high=1,
        ),
    )

    reply = product_reply("C1", ["UANN"], digest, NOW, PERIOD, NAMES)

    assert section_starting(reply.blocks, "*Roadmap, 2026-Q4*").splitlines()[1:] == [
        "• *Self-serve onboarding* — 1 of 3 milestones done",
        "• *Enterprise* — no milestones yet",
    ]
    assert section_starting(reply.blocks, "*Open market risks").splitlines() == [
        "*Open market risks, high first* (2, 1 high)",
        "• *#3* risk 3 — :rotating_light: *high* · likelihood medium · impact high · "
        "owner Ann Lee · threatens *Public beta*",
        "• *#4* Competitor ships a free tier — likelihood medium · impact low · no owner · "
        "mitigating",
    ]
    assert block_kit_errors(reply.blocks, MESSAGE_BLOCK_LIMIT) == []


def test_empty_sections_say_so_as_the_rest_of_the_digest_does() -> None:
    reply = product_reply("C1", [], product(quarter=QUARTER), NOW, PERIOD, NAMES)
    assert "*Roadmap, 2026-Q4*\n_No themes for 2026-Q4._" in sections(reply.blocks)
    assert "*Open market risks, high first* (0)\n_No open market risks._" in sections(reply.blocks)
    without_quarter = product_reply("C1", [], product(), NOW, PERIOD, NAMES)
    assert not any("Roadmap" in text for text in sections(without_quarter.blocks))

    reply = project_reply("C1", [], project(), NOW, TODAY, PERIOD, NAMES)
    assert "*Open operational risks, high first* (0)\n_No open operational risks._" in sections(
        reply.blocks
    )
    assert (
        "*Scope creep: items accepted after a milestone's freeze*\n"
        "_Nothing accepted after a freeze._" in sections(reply.blocks)
    )


def test_the_project_reply_shows_operational_risks_and_scope_accepted_after_a_freeze() -> None:
    digest = project(
        operational_risks=Risks(
            [risk(1, ItemKind.OPERATIONAL_RISK, high=True, likelihood=None)], total=7, high=3
        ),
        scope_creep=[Creep(milestone(1, "Public beta"), 2), Creep(milestone(2, "GA"), 1)],
    )

    reply = project_reply("C1", ["UBO"], digest, NOW, TODAY, PERIOD, NAMES)

    assert section_starting(reply.blocks, "*Open operational risks").splitlines() == [
        "*Open operational risks, high first* (7, 3 high)",
        "• *#1* risk 1 — :rotating_light: *high* · likelihood not set · impact high · no owner",
        "…and 6 more.",
    ]
    assert section_starting(reply.blocks, "*Scope creep").splitlines()[1:] == [
        "• *Public beta*: 2 items accepted after the freeze",
        "• *GA*: 1 item accepted after the freeze",
    ]
    # The overdue list stays last: the reply's end is where its "…and N more" reads.
    assert sections(reply.blocks)[-1].startswith("*Overdue milestones and deadlines*")


def test_hundreds_of_long_hostile_risks_themes_and_milestones_stay_within_slacks_limits() -> None:
    long_text = f"{HOSTILE} " * 80
    market = Risks(
        [
            risk(n, high=True, text=long_text, milestone=HOSTILE * 10, assignee_id="UANN")
            for n in range(99_990, 99_995)
        ],
        total=300,
        high=120,
    )
    operational = Risks(
        [risk(n, ItemKind.OPERATIONAL_RISK, title=long_text[:150]) for n in range(5)],
        total=5,
    )
    digest = product(
        quarter=QUARTER,
        themes=[theme(f"{HOSTILE * 4}{n}", n, 40) for n in range(40)],
        market_risks=market,
    )
    creep = [Creep(milestone(n, f"{HOSTILE * 4}{n}"), n + 1) for n in range(40)]

    product_blocks = product_reply("C1", ["UANN"], digest, NOW, PERIOD, NAMES).blocks
    project_blocks = project_reply(
        "C1",
        ["UBO"],
        project(operational_risks=operational, scope_creep=creep),
        NOW,
        TODAY,
        PERIOD,
        NAMES,
    ).blocks

    for blocks in (product_blocks, project_blocks):
        assert block_kit_errors(blocks, MESSAGE_BLOCK_LIMIT) == []
        blob = json.dumps(blocks)
        assert not BROADCAST.search(blob) and "<script>" not in blob
    market_lines = section_starting(product_blocks, "*Open market risks").splitlines()
    assert market_lines[0] == "*Open market risks, high first* (300, 120 high)"
    assert len(market_lines) == 1 + 5 + 1 and market_lines[-1] == "…and 295 more."
    themes = section_starting(product_blocks, "*Roadmap").splitlines()
    assert themes[-1] == "…and 30 more."  # 10 of 40 shown
    assert section_starting(project_blocks, "*Scope creep").splitlines()[-1] == "…and 30 more."
    assert "&lt;!channel&gt; look &amp; &lt;script&gt;" in market_lines[1]
