"""The handoff's Block Kit is pure: its cards, modals and notes, checked without a server."""

import json
from datetime import UTC, date, datetime
from typing import Any

from bot.blocks.cards import item_card, reporter_update, unplannable, voter_update
from bot.blocks.handoff import (
    ACCEPT,
    ACCEPT_CREEP,
    ACCEPT_MILESTONE,
    BACKLOG,
    DECLINE,
    DEFER,
    PICK_PLAN_MILESTONE,
    PLAN,
    accept_modal,
    creep_accepted_note,
    decline_modal,
    declined_note,
    defer_modal,
    deferred_note,
    handoff_card,
    milestone_option,
    plan_modal,
    plan_refused,
    waiting_note,
)
from sandbox.block_kit import MESSAGE_BLOCK_LIMIT, block_kit_errors, view_errors
from storage.models import Handoff, HandoffKind, HandoffStatus, Item, ItemStatus, Milestone

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
PING = "<!channel>"


def make_item(**fields: object) -> Item:
    values: dict[str, object] = {
        "id": 12,
        "kind": "feedback",
        "team_channel_id": "C1",
        "text": "Export to CSV",
        "reporter_id": "UREP",
        "vote_count": 5,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Item.model_validate(values | fields)


def make_milestone(milestone_id: int = 3, name: str = "Public beta", **fields: object) -> Milestone:
    values: dict[str, object] = {
        "id": milestone_id,
        "team_channel_id": "C1",
        "name": name,
        "name_key": name.lower(),
        "due_date": date(2027, 2, 15),
        "freeze_date": date(2027, 2, 1),
        "created_by": "UBOB",
        "created_at": NOW,
        "scheduled_at": NOW,
    }
    return Milestone.model_validate(values | fields)


def make_handoff(kind: HandoffKind = HandoffKind.NEW_MILESTONE, **fields: object) -> Handoff:
    values: dict[str, object] = {
        "id": 7,
        "team_channel_id": "C1",
        "item_id": 12,
        "kind": kind,
        "requested_by": "UPM",
        "requested_at": NOW,
    }
    if kind is HandoffKind.NEW_MILESTONE:
        values |= {"name": f"Public beta {PING}", "due_date": date(2027, 3, 1), "owner_id": "ULEE"}
    else:
        values["milestone_id"] = 3
    return Handoff.model_validate(values | fields)


def shown(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (e["text"]["text"], e["action_id"], e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_the_plan_modal_offers_a_milestone_or_a_new_one_for_its_item() -> None:
    view = plan_modal(make_item(text=f"Export {PING}"))

    assert view_errors(view, "modal") == []
    assert view["callback_id"] == PLAN and json.loads(view["private_metadata"]) == {"item": 12}
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert list(inputs) == ["milestone", "name", "due", "owner"]
    assert all(b["optional"] for b in inputs.values())  # exactly one of two: checked on submit
    assert inputs["milestone"]["element"]["action_id"] == PICK_PLAN_MILESTONE
    assert inputs["milestone"]["element"]["type"] == "external_select"
    assert [b["element"]["type"] for b in list(inputs.values())[1:]] == [
        "plain_text_input",
        "datepicker",
        "users_select",
    ]
    assert PING not in shown(view["blocks"])


def test_a_proposal_card_has_accept_and_decline_and_escapes_the_proposed_name() -> None:
    card = handoff_card(make_handoff(), make_item(), None)

    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []
    assert card.blocks[1]["text"]["text"] == (
        "<@UPM> wants to plan #12 'Export to CSV' (5 +1s) into a new milestone "
        "*Public beta &lt;!channel&gt;*, for Mon 1 Mar 2027, owned by <@ULEE>."
    )
    assert buttons(card.blocks) == [
        ("Accept", ACCEPT_MILESTONE, "7"),
        ("Decline", DECLINE, "7"),
    ]
    assert PING not in card.text + shown(card.blocks)
    undated = handoff_card(make_handoff(due_date=None, owner_id=None), make_item(), None)
    assert "with no date yet: you pick it." in undated.blocks[1]["text"]["text"]


def test_a_scope_creep_card_says_what_it_does_to_the_frozen_milestone() -> None:
    card = handoff_card(make_handoff(HandoffKind.SCOPE_CREEP), make_item(), make_milestone())

    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []
    assert card.blocks[1]["text"]["text"] == (
        "<@UPM> wants to add #12 'Export to CSV' (5 +1s) to *Public beta*, frozen since "
        "Mon 1 Feb 2027, due Mon 15 Feb 2027."
    )
    assert buttons(card.blocks) == [("Accept", ACCEPT_CREEP, "7"), ("Defer", DEFER, "7")]


def test_a_decided_card_shows_its_outcome_and_no_buttons() -> None:
    accepted = make_handoff(status=HandoffStatus.ACCEPTED, decided_by="UBOB", milestone_id=3)
    declined = make_handoff(
        status=HandoffStatus.DECLINED, decided_by="UBOB", reason=f"No room {PING}"
    )
    deferred = make_handoff(
        HandoffKind.SCOPE_CREEP, status=HandoffStatus.DEFERRED, decided_by="UBOB", deferred_to=4
    )
    item, beta = make_item(), make_milestone()

    outcomes = [
        handoff_card(accepted, item, beta),
        handoff_card(declined, item, None),
        handoff_card(deferred, item, beta, make_milestone(4, "GA")),
        handoff_card(deferred, item, beta, None),
    ]

    assert [buttons(c.blocks) for c in outcomes] == [[], [], [], []]
    assert [c.blocks[-1]["elements"][0]["text"] for c in outcomes] == [
        "*Accepted* by <@UBOB>: due Mon 15 Feb 2027",
        "*Declined* by <@UBOB>\n_reason:_ No room &lt;!channel&gt;",
        "*Deferred* to *GA* by <@UBOB>",
        "*Deferred* to the backlog by <@UBOB>",
    ]


def test_a_withdrawn_card_says_what_became_of_the_item_and_has_no_buttons() -> None:
    item = make_item(status=ItemStatus.DECLINED, handled_by="UPM2")
    moved = make_item(kind="blocker", moved_from="feedback", handled_by="UPM2")
    merged = make_item(status=ItemStatus.DUPLICATE, handled_by="UPM2")
    assert [unplannable(i) for i in (item, moved, merged)] == [
        "declined",
        "moved to the blocker queue",
        "marked duplicate",
    ]

    def withdrawn(kind: HandoffKind, because: Item) -> Handoff:
        why = unplannable(because)
        return make_handoff(kind, status=HandoffStatus.WITHDRAWN, decided_by="UPM2", reason=why)

    cards = [
        handoff_card(withdrawn(HandoffKind.NEW_MILESTONE, item), item, None),
        handoff_card(withdrawn(HandoffKind.SCOPE_CREEP, moved), moved, make_milestone()),
    ]

    assert [buttons(c.blocks) for c in cards] == [[], []]
    assert [c.blocks[-1]["elements"][0]["text"] for c in cards] == [
        "*Withdrawn*: #12 was declined by <@UPM2>. Nothing is left to decide.",
        "*Withdrawn*: #12 was moved to the blocker queue by <@UPM2>. Nothing is left to decide.",
    ]
    assert all(block_kit_errors(c.blocks, MESSAGE_BLOCK_LIMIT) == [] for c in cards)


def test_a_milestone_option_shortens_the_name_and_keeps_the_date_and_freeze() -> None:
    beta = make_milestone()
    long = make_milestone(name="Self-serve   onboarding " + "x" * 140)

    assert milestone_option(beta) == "Public beta (due 2027-02-15)"
    assert milestone_option(beta, frozen=True) == "Public beta (due 2027-02-15, scope frozen)"
    for frozen in (False, True):
        text = milestone_option(long, frozen)
        suffix = " (due 2027-02-15, scope frozen)" if frozen else " (due 2027-02-15)"
        assert len(text) == 75 and text.endswith("…" + suffix)
        assert text.startswith("Self-serve onboarding xxx")
    just_fits = make_milestone(name="y" * (75 - len(" (due 2027-02-15)")))
    assert milestone_option(just_fits) == just_fits.name + " (due 2027-02-15)"
    defer = defer_modal(make_handoff(HandoffKind.SCOPE_CREEP), make_item(), beta, [long])
    [target] = [b for b in defer["blocks"] if b.get("block_id") == "target"]
    assert target["element"]["options"][1]["text"]["text"] == milestone_option(long)


def test_what_the_item_card_says_while_waiting_and_once_planned() -> None:
    creep = make_handoff(HandoffKind.SCOPE_CREEP)
    assert waiting_note(make_handoff(), None) == (
        "Waiting for the project manager: new milestone *Public beta &lt;!channel&gt;* "
        "proposed by <@UPM>"
    )
    assert waiting_note(creep, make_milestone()) == (
        "Waiting for the project manager: scope creep into *Public beta* (frozen since "
        "Mon 1 Feb 2027) asked by <@UPM>"
    )
    assert plan_refused(creep, make_milestone()).endswith(
        "asked by <@UPM>. You can plan it again once they answer."
    )

    waiting = item_card(make_item(), 5, waiting=waiting_note(make_handoff(), None))
    assert waiting.blocks[-2]["block_id"] == "item_waiting"
    assert "Plan" not in [b[0] for b in buttons(waiting.blocks)]  # the manager has it now

    planned = make_item(status=ItemStatus.PLANNED, handled_by="UPM", milestone_id=3)
    card = item_card(planned, 5, planned_into=make_milestone(name=f"Beta {PING}"))
    assert card.blocks[-1]["elements"][0]["text"] == (
        "*Planned* by <@UPM> for *Beta &lt;!channel&gt;* (due Mon 15 Feb 2027)"
    )
    assert block_kit_errors(card.blocks, MESSAGE_BLOCK_LIMIT) == []


def test_the_reporter_and_voters_hear_which_milestone_it_was_planned_for() -> None:
    planned = make_item(status=ItemStatus.PLANNED, handled_by="UPM", milestone_id=3)
    beta = make_milestone()

    assert reporter_update(planned, planned_into=beta) == (
        "The feedback you raised in <#C1> was planned by <@UPM> for *Public beta* "
        "(due Mon 15 Feb 2027):\n>Export to CSV"
    )
    assert voter_update(planned, beta).startswith(
        "Something you +1'd in <#C1> was planned by <@UPM> for *Public beta* (due Mon 15 Feb 2027):"
    )
    assert "for *" not in reporter_update(planned)  # the backlog: no milestone
    declined = make_item(status=ItemStatus.DECLINED, handled_by="UPM", reason="No")
    assert "Public beta" not in reporter_update(declined, planned_into=beta)


def test_the_project_managers_modals() -> None:
    proposal, item = make_handoff(), make_item()
    accept = accept_modal(proposal, item)
    decline = decline_modal(proposal, item)
    others = [make_milestone(n, f"Milestone {n}") for n in range(4, 200)]
    defer = defer_modal(make_handoff(HandoffKind.SCOPE_CREEP), item, make_milestone(), others)

    for view, callback in [(accept, ACCEPT), (decline, DECLINE), (defer, DEFER)]:
        assert view_errors(view, "modal") == []
        assert view["callback_id"] == callback
        assert json.loads(view["private_metadata"]) == {"handoff": 7}
    due, owner = (b for b in accept["blocks"] if b["type"] == "input")
    assert not due.get("optional") and due["element"]["initial_date"] == "2027-03-01"
    assert (owner["optional"], owner["element"]["initial_user"]) == (True, "ULEE")
    [reason] = [b for b in decline["blocks"] if b["type"] == "input"]
    assert not reason.get("optional")
    target, why = (b for b in defer["blocks"] if b["type"] == "input")
    options = target["element"]["options"]
    assert options[0]["value"] == BACKLOG and options[1]["value"] == "4"
    assert len(options) == 100  # Slack's most: the soonest 99 milestones
    assert why["optional"] is True


def test_what_the_product_manager_hears_of_the_decision() -> None:
    item, beta = make_item(), make_milestone()
    accepted = make_handoff(HandoffKind.SCOPE_CREEP, decided_by="UBOB")
    declined = make_handoff(decided_by="UBOB", reason=f"Next quarter {PING}")
    deferred = make_handoff(HandoffKind.SCOPE_CREEP, decided_by="UBOB", reason="Too late")

    assert creep_accepted_note(accepted, item, beta, 3) == (
        "Scope creep accepted into *Public beta*: due Mon 15 Feb 2027 with 3 items added "
        "after the freeze. <@UBOB> took #12 'Export to CSV' in."
    )
    assert declined_note(declined, item) == (
        "<@UBOB> declined the new milestone *Public beta &lt;!channel&gt;* you proposed for "
        "#12 'Export to CSV'.\n*Reason:* Next quarter &lt;!channel&gt;\nIt is back in your "
        "queue: plan it again when you're ready."
    )
    assert deferred_note(deferred, item, beta, make_milestone(4, "GA")) == (
        "<@UBOB> kept #12 'Export to CSV' out of *Public beta*, which is frozen: it is planned "
        "into *GA* (due Mon 15 Feb 2027) instead.\n*Reason:* Too late"
    )
    assert "planned with no milestone (the backlog)" in deferred_note(deferred, item, beta, None)
