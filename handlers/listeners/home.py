"""App Home's own controls: its filters and paging, each re-publishing the Home of the person
who used it. (The triage buttons on its rows are the cards' own: `actions.py`.)"""

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.blocks.home import HomeState
from bot.home import changed
from handlers.after_ack import AfterAck
from handlers.listeners import services_for
from handlers.services import Tenants

HOME_ACTION = re.compile(r"^home_")


def register(app: App, tenants: Tenants, after_ack: AfterAck) -> None:
    @app.action(HOME_ACTION)
    def home_control(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext
    ) -> None:
        ack()
        user_id = (body.get("user") or {}).get("id")
        view = body.get("view")
        if not isinstance(user_id, str) or not isinstance(view, dict):
            return
        if view.get("type") != "home":
            return
        # The state is the view's own (a click on a view another replica published carries
        # it too); a forged or garbled one gives the default Home.
        state, note = changed(
            HomeState.parse(view.get("private_metadata")),
            str(action.get("action_id", "")),
            picked(action),
        )
        after_ack.run(
            body,
            context,
            lambda: services_for(tenants, context).home.publish(user_id, state, note),
        )


def picked(action: dict[str, Any]) -> str | None:
    """What a control sends: a select's choice, an input's text, a button's value."""
    kind = action.get("type")
    if kind == "conversations_select":
        value = action.get("selected_conversation")
    elif kind == "static_select":
        value = (action.get("selected_option") or {}).get("value")
    else:
        value = action.get("value")
    return value if isinstance(value, str) else None
