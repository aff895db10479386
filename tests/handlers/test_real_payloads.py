"""Shapes Slack really sends (after api.slack.com's examples) pass the edge's checks."""

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, CAROL, ERIN, TEAM
from tests.handlers.scenario import set_up_team

NOW = f"{time.time():.6f}"
EVENTS: dict[str, dict[str, Any]] = {
    "message_changed": {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": TEAM,
        "ts": NOW,
        "event_ts": NOW,
        "channel_type": "channel",
        "message": {
            "type": "message",
            "user": CAROL,
            "text": "feedback: x",
            "ts": "1.1",
            "edited": {"user": CAROL, "ts": NOW},
        },
        "previous_message": {"type": "message", "user": CAROL, "text": "x", "ts": "1.1"},
    },
    "bot_message": {
        "type": "message",
        "subtype": "bot_message",
        "text": "feedback: build failed",
        "ts": NOW,
        "username": "Jenkins CI (prod)",
        "bot_id": "B0123",
        "channel": TEAM,
        "icons": {"image_48": "https://x/y.png"},
        "event_ts": NOW,
        "channel_type": "channel",
        "bot_profile": {"id": "B0123", "app_id": "A0123", "name": "Jenkins", "team_id": "TFAKE"},
    },
    "file_share": {
        "type": "message",
        "subtype": "file_share",
        "text": "feedback: see screenshot",
        "user": CAROL,
        "ts": NOW,
        "channel": TEAM,
        "event_ts": NOW,
        "upload": False,
        "files": [{"id": "F0123", "name": "shot (1).png", "user": CAROL, "timestamp": 1}],
        "channel_type": "channel",
    },
    "thread_broadcast": {
        "type": "message",
        "subtype": "thread_broadcast",
        "text": "hello",
        "user": CAROL,
        "ts": NOW,
        "thread_ts": "1700000000.000100",
        "channel": TEAM,
        "event_ts": NOW,
        "root": {
            "type": "message",
            "user": ALICE,
            "text": "root",
            "ts": "1700000000.000100",
            "reply_users": [CAROL],
            "reply_count": 1,
        },
        "channel_type": "channel",
    },
    "slack_connect_message": {
        "type": "message",
        "text": "hello",
        "user": "W0EXTERNAL",
        "ts": NOW,
        "channel": TEAM,
        "team": "TOTHER",
        "user_team": "TOTHER",
        "source_team": "TOTHER",
        "user_profile": {"real_name": "Ana Ext", "display_name": "ana (Acme, Inc.)"},
        "event_ts": NOW,
        "channel_type": "channel",
    },
    "app_home_opened": {
        "type": "app_home_opened",
        "user": CAROL,
        "channel": "D0123",
        "tab": "home",
        "event_ts": NOW,
        "view": {"id": "V0123", "team_id": "TFAKE", "type": "home", "blocks": [], "hash": "1.2"},
    },
    "tokens_revoked_user_only": {
        "type": "tokens_revoked",
        "tokens": {"oauth": [ERIN], "bot": []},
        "event_ts": NOW,
    },
}


@pytest.mark.parametrize("name", list(EVENTS))
def test_real_event_shapes_are_accepted(slack: SignedClient, fake: FakeSlack, name: str) -> None:
    set_up_team(slack, fake)
    assert slack.event(EVENTS[name]).status_code == 200


def test_an_enterprise_grid_click_in_app_home_is_accepted(
    slack: SignedClient, fake: FakeSlack
) -> None:
    set_up_team(slack, fake)
    payload = {
        "type": "block_actions",
        "api_app_id": "AROLECALL",
        "token": "t",
        "user": {"id": "W0ALICE", "username": "alice.s", "name": "alice.s", "team_id": "T0A"},
        "team": {"id": "T0A", "domain": "acme-eng", "enterprise_id": "E0ACME"},
        "enterprise": {"id": "E0ACME", "name": "Acme, Inc."},
        "is_enterprise_install": False,
        "container": {"type": "view", "view_id": "V0123"},
        "trigger_id": "123.456.abcdef",
        "view": {"id": "V0123", "type": "home", "blocks": [], "state": {"values": {}}},
        "actions": [
            {"action_id": "something_else", "block_id": "b", "type": "button", "value": "x"}
        ],
        "state": {"values": {}},
    }
    response = slack.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    assert response.status_code in (200, 404)  # an action nobody listens for: never a 400
