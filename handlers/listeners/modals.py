"""Shortcuts and modals: capture with details, and the triage steps that ask something first.

A shortcut's modal opens right after the ack (Slack's trigger lasts 3 s). A submission is
checked before its ack, so a field error shows inline (`response_action: errors`), and the
role is checked again (the modal may have stayed open while the role changed hands); what it
does then runs after the ack.
"""

import logging
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks.cards import ANSWER
from bot.blocks.modals import (
    ANSWER_VIEW,
    CAPTURE,
    PICK_KIND,
    PICK_MILESTONE,
    PICK_ORIGINAL,
    RISK,
    TRIAGE,
    Form,
    answer_modal,
    capture_form,
    capture_modal,
    metadata,
    option,
)
from bot.capture import Capture, Details, SourceMessage
from bot.parsing.words import MENTION, parse_row_id
from bot.permissions import Refused
from bot.risks import guess_kind, risk_text
from bot.status import TRANSITIONS, Ask, Transition
from bot.triage import EMPTY_ANSWER, Decision
from handlers.after_ack import AfterAck
from handlers.listeners import row_button, services_for, tell
from handlers.services import Services, Tenants
from storage.models import OPEN_STATUSES, RISK_KINDS, ItemKind, Level
from storage.queues import QueueOrder, QueueQuery

# Message shortcuts (callback ids, as in manifest.yml) and the kind each files.
MESSAGE_SHORTCUTS: dict[str, Form] = {
    "send_to_product_queue": ItemKind.FEEDBACK,
    "flag_as_blocker": ItemKind.BLOCKER,
    "flag_as_risk": RISK,
}
GLOBAL_SHORTCUT = "new_item"
OPTIONS_SHOWN = 20
NOT_STORED = "I couldn't store it: the database isn't answering. Please submit again shortly."
STALE_ANSWER = "That button doesn't point at anything I know: there is nothing to answer."
NOT_IN = "You are not in that channel: pick a channel you are in."
CHANNEL = re.compile(r"<#[CG][A-Z0-9]+(?:\|([^<>]*))?>")
log = logging.getLogger(__name__)
Values = dict[str, dict[str, dict[str, Any]]]
Errors = dict[str, str]


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    for callback_id, kind in MESSAGE_SHORTCUTS.items():
        app.shortcut(callback_id)(_message_shortcut(tenants, after_ack, kind))

    @app.shortcut(GLOBAL_SHORTCUT)
    def new_item(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        ack()
        after_ack.run(
            body,
            context,
            lambda: services_for(tenants, context).client.views_open(
                trigger_id=body["trigger_id"], view=capture_modal(None)
            ),
            prompt=True,
        )

    @app.action(PICK_KIND)
    def pick_kind(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        """The global shortcut's kind picked: show that kind's fields, keeping what was typed."""
        ack()
        view = body.get("view") or {}
        values: Values = (view.get("state") or {}).get("values") or {}
        kind = capture_form((action.get("selected_option") or {}).get("value"))
        source = metadata(view).get("source")
        updated = capture_modal(
            kind,
            channel_id=selected(values, "team", "team", "selected_conversation"),
            title=typed_value(values, "title") or "",
            details=typed_value(values, "details") or "",
            source=source if isinstance(source, dict) else None,
        )
        after_ack.run(
            body,
            context,
            lambda: services_for(tenants, context).client.views_update(
                view_id=view.get("id"), hash=view.get("hash"), view=updated
            ),
            prompt=True,
        )

    @app.view(CAPTURE)
    def capture_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        values: Values = (view.get("state") or {}).get("values") or {}
        errors, capture = _capture(values, metadata(view), body["user"]["id"])
        if capture is None:
            ack(response_action="errors", errors=errors)
            return
        services = services_for(tenants, context)
        among = services.membership.members_among(
            [capture.team_channel_id], capture.reporter_id, recheck_absent=True
        )
        if not among.channels:
            ack(response_action="errors", errors={"team": field_error(among.note() or NOT_IN)})
            return
        try:
            # Stored before the modal closes, as a command is before its ack: what was typed
            # is never lost. The view's id files it once, however often it is submitted.
            filed = services.capture.file(capture, f"view:{view.get('id')}")
        except SQLAlchemyError:
            log.exception("a capture modal could not be stored")
            ack(response_action="errors", errors={"title": NOT_STORED})
            return
        ack()
        after_ack.run(body, context, lambda: services.capture.announce(filed))

    @app.view(TRIAGE)
    def triage_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        services = services_for(tenants, context)
        found = metadata(view)
        transition = TRANSITIONS.get(str(found.get("action")))
        item_id = parse_row_id(str(found.get("item")))
        if transition is None or transition.ask in (Ask.NOTHING, Ask.MILESTONE) or item_id is None:
            ack()  # not a view of ours (Plan's modal has its own: `handoff`): nothing to do
            return
        user_id = body["user"]["id"]
        values: Values = (view.get("state") or {}).get("values") or {}
        try:
            item = services.triage.check(transition.action_id, item_id, user_id)
            errors, decision = _decision(services, transition, values, item.team_channel_id)
            holders = services.triage.holders(item) if transition.ask is Ask.HOLDER else []
            if (
                decision is not None
                and transition.ask is Ask.HOLDER
                and decision.holder not in holders
            ):
                errors = {"holder": "Pick another holder of the role (listed below)."}
                decision = None
            if decision is not None and transition.ask is Ask.ORIGINAL:
                # Closed, moved or merged since the search offered it: refused under the field.
                services.triage.original(item, decision.original_id)
        except Refused as refused:
            errors, decision = {_first_input(transition): field_error(str(refused))}, None
        if decision is None:
            ack(response_action="errors", errors=errors)
            return
        ack()

        def apply() -> None:
            if not services.first_time(body.get("trigger_id")):
                return  # the same submission, replayed
            try:
                outcome = services.triage.apply(transition.action_id, item_id, user_id, decision)
            except Refused as refused:
                tell(services, body, None, str(refused))
                return
            if outcome.note:
                tell(services, body, None, outcome.note)

        after_ack.run(body, context, apply)

    app.action(ANSWER)(
        row_button(tenants, after_ack, _answer_pressed, STALE_ANSWER, lambda _: True)
    )

    @app.view(ANSWER_VIEW)
    def answer_submitted(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
    ) -> None:
        """Checked again before the modal closes: only the reporter answers, and only while
        the question is open (an owner may have triaged it meanwhile)."""
        item_id = parse_row_id(str(metadata(view).get("item")))
        if item_id is None:
            ack()  # forged metadata: nothing to answer
            return
        services = services_for(tenants, context)
        user_id = body["user"]["id"]
        values: Values = (view.get("state") or {}).get("values") or {}
        text = (typed_value(values, "answer") or "").strip()
        try:
            services.triage.answerable(item_id, user_id)
        except Refused as refused:
            ack(response_action="errors", errors={"answer": field_error(str(refused))})
            return
        if not text:
            ack(response_action="errors", errors={"answer": EMPTY_ANSWER})
            return
        ack()

        def answer() -> None:
            if not services.first_time(body.get("trigger_id")):
                return  # the same submission, replayed
            try:
                outcome = services.triage.answered(item_id, user_id, text)
            except Refused as refused:
                tell(services, body, None, str(refused))
                return
            if outcome.note:
                tell(services, body, None, outcome.note)

        after_ack.run(body, context, answer)

    @app.options(PICK_ORIGINAL)
    def originals(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """The open feedback of the item's team, most +1'd first, matching what was typed;
        only for an owner of the item in the team's channel (the options show its items)."""
        services = services_for(tenants, context)
        item_id = parse_row_id(str(metadata(body.get("view") or {}).get("item")))
        item = services.triage.items.get(item_id) if item_id is not None else None
        if item is None:
            ack(options=[])
            return
        user_id = body["user"]["id"]
        try:
            services.triage.permissions.require_owner(item, user_id, "merge this")
        except Refused:
            ack(options=[])
            return
        if not services.membership.is_member(item.team_channel_id, user_id):
            ack(options=[])
            return
        kind = ItemKind.FEEDBACK
        words = str(body.get("value") or "").strip()[:100] or None
        query = QueueQuery(
            (item.team_channel_id,),
            kind,
            OPEN_STATUSES[kind],
            words=words,
            order=QueueOrder.MOST_VOTED,
        )
        page = services.capture.queues.page(query, OPTIONS_SHOWN + 1)
        ack(
            options=[
                option(str(e.item.id), f"#{e.item.id} (+{e.votes}) {e.item.title or e.item.text}")
                for e in page.entries
                if e.item.id != item.id
            ][:OPTIONS_SHOWN]
        )

    @app.options(PICK_MILESTONE)
    def milestones(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """The open milestones of the team picked in the same modal, for someone in its
        channel."""
        values: Values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
        team = selected(values, "team", "team", "selected_conversation")
        services = services_for(tenants, context)
        if not team or not services.membership.is_member(team, body["user"]["id"]):
            ack(options=[])
            return
        typed = str(body.get("value") or "").strip().lower()
        ack(
            options=[
                option(str(t.milestone.id), f"{t.milestone.name} (due {t.milestone.due_date})")
                for t in services.planning.store.tracked(team)
                if typed in t.milestone.name.lower()
            ][:OPTIONS_SHOWN]
        )


def _answer_pressed(
    services: Services, body: dict[str, Any], _: dict[str, Any], __: Respond, item_id: int
) -> None:
    """The reporter's Answer button opens the answer modal (a refusal is told by the caller)."""
    item = services.triage.answerable(item_id, body["user"]["id"])
    services.client.views_open(trigger_id=body["trigger_id"], view=answer_modal(item))


def _message_shortcut(tenants: Tenants, after_ack: AfterAck, kind: Form) -> Callable[..., None]:
    def shortcut(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        """Prefilled from the message: its channel as the team, its first line as the title,
        its text as the details."""
        ack()
        message = body.get("message") or {}
        channel_id = (body.get("channel") or {}).get("id")
        text = str(message.get("text") or "")
        source = {
            "channel": channel_id,
            "ts": message.get("ts"),
            "author": message.get("user"),
            "thread_ts": message.get("thread_ts"),
        }
        view = capture_modal(
            kind,
            channel_id=channel_id,
            title=text.strip().split("\n", 1)[0],
            details=text,
            source={k: v for k, v in source.items() if isinstance(v, str)},
        )
        after_ack.run(
            body,
            context,
            lambda: services_for(tenants, context).client.views_open(
                trigger_id=body["trigger_id"], view=view
            ),
            prompt=True,
        )

    return shortcut


def _capture(values: Values, found: dict[str, Any], user_id: str) -> tuple[Errors, Capture | None]:
    """The capture a submitted modal describes, or the errors to show on its fields."""
    errors: Errors = {}
    form = capture_form(selected(values, "kind", PICK_KIND, "selected_option"))
    if form is None:
        errors["kind"] = "Pick feedback, a blocker or a risk."
    team = selected(values, "team", "team", "selected_conversation") or ""
    if not team.startswith(("C", "G")):
        errors["team"] = "Pick the team's channel (a channel, not a direct message)."
    title = (typed_value(values, "title") or "").strip()
    if not title:
        errors["title"] = "Give it a title."
    if errors or form is None:
        return errors, None
    details = (typed_value(values, "details") or "").strip()
    kind = form if isinstance(form, ItemKind) else _risk_kind(values, title, details or title)
    source = found.get("source")
    message = None
    if (
        isinstance(source, dict)
        and isinstance(source.get("channel"), str)
        and isinstance(source.get("ts"), str)
    ):
        message = SourceMessage(
            source["channel"],
            source["ts"],
            details or title,
            source.get("author"),
            source.get("thread_ts"),
        )
    milestone = selected(values, "milestone", PICK_MILESTONE, "selected_option")
    return errors, Capture(
        kind,
        details or title,
        team,
        user_id,
        message,
        via="modal",
        details=Details(
            title=title,
            customer=(typed_value(values, "customer") or "").strip() or None,
            impact=_level(values, "impact"),
            severity=_level(values, "severity"),
            milestone_id=parse_row_id(milestone),
            likelihood=_level(values, "likelihood"),
        ),
    )


def _risk_kind(values: Values, title: str, text: str) -> ItemKind:
    """The kind of risk its filer picked, or the one the keyword rule picks."""
    picked = selected(values, "risk_kind", "risk_kind", "selected_option")
    chosen = next((k for k in RISK_KINDS if k.value == picked), None)
    return chosen or guess_kind(risk_text(title, text)).kind


def _decision(
    services: Services, transition: Transition, values: Values, team_channel_id: str
) -> tuple[Errors, Decision | None]:
    ask = transition.ask
    if ask in (Ask.REASON, Ask.NOTE, Ask.QUESTION):
        reason = (typed_value(values, "reason") or "").strip()
        if not reason and ask is not Ask.NOTE:
            return {"reason": "Say why: the person who raised it will read this."}, None
        return {}, Decision(reason=reason or None)
    if ask is Ask.ORIGINAL:
        original_id = parse_row_id(selected(values, "original", PICK_ORIGINAL, "selected_option"))
        if original_id is None:
            return {"original": "Pick the item it duplicates."}, None
        return {}, Decision(original_id=original_id)
    if ask is Ask.UNTIL:
        raw = selected(values, "until", "until", "selected_date") or ""
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            return {"until": "Pick a day."}, None
        if day <= services.planning.today(team_channel_id):
            return {"until": "Pick a day after today."}, None
        zone = ZoneInfo(services.capture.teams.settings(team_channel_id).timezone)
        return {}, Decision(until=datetime.combine(day, time(9), zone))
    if ask is Ask.OWNER:
        owner = selected(values, "owner", "owner", "selected_user")
        if not owner:
            return {"owner": "Pick who owns it."}, None
        return {}, Decision(owner=services.triage.check_owner(owner))
    holder = selected(values, "holder", "holder", "selected_user")
    if not holder:
        return {"holder": "Pick who takes it."}, None
    return {}, Decision(holder=holder)


def field_error(text: str) -> str:
    """A refusal as a field error, which Slack shows as plain text: no `<#C…>` or `<@U…>`."""
    text = CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "the team channel", text)
    return MENTION.sub("a teammate", text)[:150]


def _first_input(transition: Transition) -> str:
    return {
        Ask.ORIGINAL: "original",
        Ask.UNTIL: "until",
        Ask.HOLDER: "holder",
        Ask.OWNER: "owner",
    }.get(transition.ask, "reason")


def selected(values: Values, block_id: str, action_id: str, field: str) -> str | None:
    """A selection in the submitted state; a selected option gives its value."""
    state = (values.get(block_id) or {}).get(action_id) or {}
    picked = state.get(field)
    if isinstance(picked, dict):
        picked = picked.get("value")
    return picked if isinstance(picked, str) else None


def typed_value(values: Values, block_id: str) -> str | None:
    return selected(values, block_id, block_id, "value")


def _level(values: Values, block_id: str) -> Level | None:
    picked = selected(values, block_id, block_id, "selected_option")
    return Level(picked) if picked in {level.value for level in Level} else None
