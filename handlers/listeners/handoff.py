"""Plan as a handoff: the Plan modal (its milestone menu and submission), and the project
manager's proposal and scope creep cards (their buttons and modals).

A modal's submission is checked before its ack (errors show inline) and acted on after it,
once per submission; a button opens its modal against the trigger's 3 s.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

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
    decline_modal,
    defer_modal,
    milestone_option,
)
from bot.blocks.modals import metadata, option
from bot.handoff import NewMilestone, PlanChoice, Unfit
from bot.parsing.words import parse_row_id
from bot.permissions import Refused
from handlers.after_ack import AfterAck
from handlers.listeners import row_button, services_for, tell
from handlers.listeners.modals import (
    OPTIONS_SHOWN,
    Errors,
    Values,
    field_error,
    selected,
    typed_value,
)
from handlers.services import Services, Tenants
from storage.models import HandoffKind

STALE_BUTTON = "That button doesn't point at a proposal I know."
Step = Callable[[Services, int, str], None]  # a decision's check or act: handoff, person
KIND_OF = {
    ACCEPT_MILESTONE: HandoffKind.NEW_MILESTONE,
    DECLINE: HandoffKind.NEW_MILESTONE,
    ACCEPT_CREEP: HandoffKind.SCOPE_CREEP,
    DEFER: HandoffKind.SCOPE_CREEP,
}


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    @app.options(PICK_PLAN_MILESTONE)
    def plan_milestones(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """The open milestones of the item's team, for someone who may plan it and is in its
        channel."""
        services = services_for(tenants, context)
        user_id = body["user"]["id"]
        item_id = parse_row_id(str(metadata(body.get("view") or {}).get("item")))
        found = [] if item_id is None else services.handoffs.plan_options(item_id, user_id)
        item = services.triage.items.get(item_id) if found and item_id is not None else None
        if item is None or not services.membership.is_member(item.team_channel_id, user_id):
            found = []
        typed = str(body.get("value") or "").strip().lower()[:100]
        ack(
            options=[
                option(str(m.id), milestone_option(m, frozen))
                for m, frozen in found
                if typed in m.name.lower()
            ][:OPTIONS_SHOWN]
        )

    @app.view(PLAN)
    def plan_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        services = services_for(tenants, context)
        item_id = parse_row_id(str(metadata(view).get("item")))
        if item_id is None:
            ack()  # not a view of ours: nothing to do
            return
        user_id = body["user"]["id"]
        errors, choice = _plan_choice((view.get("state") or {}).get("values") or {})
        if choice is not None:
            try:
                services.handoffs.check_plan(item_id, user_id, choice)
            except Refused as refused:
                errors, choice = _inline(refused, "milestone"), None
        if choice is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        planned = choice

        def plan() -> None:
            if not services.first_time(body.get("trigger_id")):
                return  # the same submission, replayed
            try:
                note = services.handoffs.plan(item_id, user_id, planned)
            except Refused as refused:
                note = str(refused)
            if note:
                tell(services, body, None, note)

        after_ack.run(body, context, plan)

    buttons = re.compile("|".join(f"^{action_id}$" for action_id in KIND_OF))
    # Every button but scope creep's Accept opens a modal.
    app.action(buttons)(
        row_button(tenants, after_ack, _press, STALE_BUTTON, lambda a: a != ACCEPT_CREEP)
    )

    @app.view(ACCEPT)
    def accept_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        values: Values = (view.get("state") or {}).get("values") or {}
        due = _date(selected(values, "due", "due", "selected_date"))
        owner = selected(values, "owner", "owner", "selected_user")

        def check(services: Services, handoff_id: int, user_id: str) -> None:
            handoff = services.handoffs.check_decision(
                handoff_id, user_id, HandoffKind.NEW_MILESTONE
            )
            if due is None:
                raise Unfit("due", "Pick the day it is due.")
            services.handoffs.check_due(handoff, due)
            if owner is not None:
                services.handoffs.check_owner(owner)

        def act(services: Services, handoff_id: int, user_id: str) -> None:
            assert due is not None
            services.handoffs.accept_milestone(handoff_id, user_id, due, owner)

        _decision(tenants, after_ack, ack, body, view, context, "due", check, act)

    @app.view(DECLINE)
    def decline_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        values: Values = (view.get("state") or {}).get("values") or {}
        reason = (typed_value(values, "reason") or "").strip()

        def check(services: Services, handoff_id: int, user_id: str) -> None:
            services.handoffs.check_decision(handoff_id, user_id, HandoffKind.NEW_MILESTONE)
            if not reason:
                raise Unfit("reason", "Say why: the product manager will read this.")

        def act(services: Services, handoff_id: int, user_id: str) -> None:
            services.handoffs.decline(handoff_id, user_id, reason)

        _decision(tenants, after_ack, ack, body, view, context, "reason", check, act)

    @app.view(DEFER)
    def defer_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        values: Values = (view.get("state") or {}).get("values") or {}
        picked = selected(values, "target", "target", "selected_option")
        target = None if picked == BACKLOG else parse_row_id(picked)
        reason = (typed_value(values, "reason") or "").strip() or None

        def check(services: Services, handoff_id: int, user_id: str) -> None:
            handoff = services.handoffs.check_decision(handoff_id, user_id, HandoffKind.SCOPE_CREEP)
            if picked != BACKLOG and target is None:
                raise Unfit("target", "Pick a milestone, or the backlog.")
            services.handoffs.check_target(handoff, target)

        def act(services: Services, handoff_id: int, user_id: str) -> None:
            services.handoffs.defer(handoff_id, user_id, target, reason)

        _decision(tenants, after_ack, ack, body, view, context, "target", check, act)


def _press(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Respond,
    handoff_id: int,
) -> None:
    """A card's button: scope creep's Accept decides at once; the others open their modal."""
    handoffs, user_id, action_id = services.handoffs, body["user"]["id"], action["action_id"]
    if action_id == ACCEPT_CREEP:
        handoffs.accept_creep(handoff_id, user_id)
        return
    handoff, item = handoffs.opened(handoff_id, user_id, KIND_OF[action_id])
    if action_id == ACCEPT_MILESTONE:
        view = accept_modal(handoff, item)
    elif action_id == DECLINE:
        view = decline_modal(handoff, item)
    else:
        frozen, others = handoffs.defer_targets(handoff)
        assert frozen is not None
        view = defer_modal(handoff, item, frozen, others)
    services.client.views_open(trigger_id=body["trigger_id"], view=view)


def _decision(
    tenants: Tenants,
    after_ack: AfterAck,
    ack: Ack,
    body: dict[str, Any],
    view: dict[str, Any],
    context: BoltContext,
    first_field: str,
    check: Step,
    act: Step,
) -> None:
    """A project manager's modal submitted: `check` before the ack (a refusal shows under
    `first_field`, or under the field at fault), `act` after it, once per submission."""
    services = services_for(tenants, context)
    handoff_id = parse_row_id(str(metadata(view).get("handoff")))
    if handoff_id is None:
        ack()  # not a view of ours: nothing to do
        return
    user_id = body["user"]["id"]
    try:
        check(services, handoff_id, user_id)
    except Refused as refused:
        ack(response_action="errors", errors=_inline(refused, first_field))
        return
    ack()

    def decide() -> None:
        if not services.first_time(body.get("trigger_id")):
            return  # the same submission, replayed
        try:
            act(services, handoff_id, user_id)
        except Refused as refused:
            tell(services, body, None, str(refused))

    after_ack.run(body, context, decide)


def _plan_choice(values: Values) -> tuple[Errors, PlanChoice | None]:
    """What the Plan modal chose: exactly one of an existing milestone and a new one."""
    picked = selected(values, "milestone", PICK_PLAN_MILESTONE, "selected_option")
    name = (typed_value(values, "name") or "").strip()
    raw_due = selected(values, "due", "due", "selected_date")
    owner = selected(values, "owner", "owner", "selected_user")
    proposing = bool(name or raw_due or owner)
    if picked and proposing:
        return {"name": "Pick a milestone above, or propose a new one here: not both."}, None
    if picked:
        milestone_id = parse_row_id(picked)
        if milestone_id is None:
            return {"milestone": "Pick one of this team's open milestones."}, None
        return {}, PlanChoice(milestone_id=milestone_id)
    if not proposing:
        return {"milestone": "Pick a milestone, or name a new one below."}, None
    if not name:
        return {"name": "Name the new milestone."}, None
    due = _date(raw_due)
    if raw_due and due is None:
        return {"due": "Pick a day."}, None
    return {}, PlanChoice(new=NewMilestone(name, due, owner))


def _inline(refused: Refused, field: str) -> Errors:
    """A refusal as a field error: under the field at fault (`Unfit`), else under `field`."""
    return {refused.field if isinstance(refused, Unfit) else field: field_error(str(refused))}


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None
