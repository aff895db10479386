"""manifest.yml matches what the code registers, and is a valid Slack app manifest."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from slack_sdk import WebClient

from bot.clock import utc_now
from bot.status import TRANSITIONS
from bot.workspaces import Workspaces
from handlers.after_ack import AfterAck
from handlers.app import create_app
from handlers.install import BOT_SCOPES, Installs
from handlers.listeners.actions import ACTIONS
from handlers.listeners.commands import COMMANDS
from handlers.listeners.events import EVENTS
from handlers.listeners.modals import GLOBAL_SHORTCUT, MESSAGE_SHORTCUTS
from handlers.services import Tenants
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from storage.db import Database, make_engine
from storage.workspaces import WorkspaceStore
from tests.conftest import CAROL, TEAM

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "data" / "slack-manifest.schema.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def manifest_events(manifest: dict[str, Any]) -> set[str]:
    """Slack subscribes `message` per conversation type; Bolt sees one `message` event."""
    return {e.split(".")[0] for e in manifest["settings"]["event_subscriptions"]["bot_events"]}


def test_commands_events_and_actions_match_the_code(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    assert {c["command"] for c in commands} == set(COMMANDS)
    assert all(c["should_escape"] is True for c in commands)
    assert manifest_events(manifest) == set(EVENTS)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert set(ACTIONS) == {*TRANSITIONS, "item_merge"}
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {
        **{callback_id: "message" for callback_id in MESSAGE_SHORTCUTS},
        GLOBAL_SHORTCUT: "global",
    }
    # External selects (a duplicate's original, a blocker's milestone) load their options here.
    interactivity = manifest["settings"]["interactivity"]
    assert interactivity["message_menu_options_url"] == interactivity["request_url"]


def test_the_app_registers_exactly_these_listeners(
    manifest: dict[str, Any], slack: SignedClient, fake: FakeSlack
) -> None:
    """Every manifest command and event reaches a listener (Bolt answers 404 otherwise)."""
    for command in COMMANDS:
        assert slack.command(command, "help", CAROL, TEAM).status_code == 200, command
    for event in sorted(manifest_events(manifest)):
        payload = {
            "type": event,
            "user": CAROL,
            "channel": TEAM,
            "ts": "1.1",
            "text": "hi",
            "tab": "messages",
            "reaction": "wave",
            "item": {"type": "message", "channel": TEAM, "ts": "1.1"},
            "event_ts": "1.1",
        }
        assert slack.event(payload).status_code == 200, event
    unknown = slack.event({"type": "team_join", "user": {"id": CAROL}, "event_ts": "1.1"})
    assert unknown.status_code == 404
    assert slack.command("/unknown", "", CAROL, TEAM).status_code == 404


# The bot scopes each Web API method needs (Slack's method reference), for the conversation
# kinds Rolecall reads: public and private channels, and its own DMs.
METHOD_SCOPES = {
    "auth_test": set(),
    "chat_getPermalink": set(),
    "chat_postEphemeral": {"chat:write"},
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "conversations_history": {"channels:history", "groups:history", "im:history"},
    "conversations_members": {"channels:read", "groups:read"},
    "conversations_open": {"im:write"},
    "conversations_replies": {"channels:history", "groups:history", "im:history"},
    "files_upload_v2": {"files:write"},
    "users_info": {"users:read"},
    "views_open": set(),
    "views_publish": set(),
    "views_update": set(),
}
# Scopes that come with what the app subscribes to rather than with a method it calls.
FEATURE_SCOPES = {"commands", "reactions:read", "app_mentions:read"}


def test_scopes_are_exactly_what_the_web_api_methods_used_need(manifest: dict[str, Any]) -> None:
    source = "\n".join(p.read_text() for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py"))
    used = set(re.findall(r"client\.([a-z]+_[A-Za-z0-9_]+)\(", source))
    assert used == set(METHOD_SCOPES)  # a new method: add the scopes it needs here
    needed = set().union(*(METHOD_SCOPES[m] for m in used)) | FEATURE_SCOPES
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_every_request_url_points_at_the_one_endpoint(manifest: dict[str, Any]) -> None:
    urls = {c["url"] for c in manifest["features"]["slash_commands"]}
    urls.add(manifest["settings"]["event_subscriptions"]["request_url"])
    urls.add(manifest["settings"]["interactivity"]["request_url"])
    assert urls == {"https://rolecall.example.com/slack/events"}


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema lives in ../shared")
def test_manifest_validates_against_slacks_schema(manifest: dict[str, Any]) -> None:
    validator = Draft7Validator(json.loads(SCHEMA.read_text()))
    assert [e.message for e in validator.iter_errors(manifest)] == []


def test_the_code_registers_nothing_the_manifest_lacks() -> None:
    """One listener per command, event, shortcut, modal and options load; one for all triage
    buttons, one for the lists' "More", one for Home's controls, one for the capture modal's
    kind, one for the handoff cards' buttons, one for the reminders' Snooze and Mute and one
    for the reporter's Answer: nothing unlisted."""
    client = WebClient(token="xoxb-unused")
    db = Database(make_engine("sqlite://"))
    workspaces = Workspaces(WorkspaceStore(db), utc_now)
    tenants = Tenants(db, workspaces, lambda _: "xoxb-unused", lambda _: client, single="T1")
    installs = Installs(workspaces, None, tenants.forget)
    app = create_app(tenants, installs, "unused-secret", AfterAck(threads=1), client)
    shortcuts = len(MESSAGE_SHORTCUTS) + 1
    modals, options, actions = 7, 3, 7  # the reporter's Answer: a button and its modal
    expected = len(COMMANDS) + len(EVENTS) + shortcuts + modals + options + actions
    assert len(app._listeners) == expected


def test_an_install_asks_for_the_manifests_bot_scopes(manifest: dict[str, Any]) -> None:
    assert sorted(BOT_SCOPES) == sorted(manifest["oauth_config"]["scopes"]["bot"])
