"""Events Slack sends about the app itself: uninstall, revoked tokens, rate-limited events; and
events about messages that are gone."""

import json
import logging
from datetime import timedelta

import pytest

from bot.tick import Ticker
from handlers.services import Services
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import ALICE, BOB, CAROL, ERIN, TEAM, FixedClock
from tests.handlers.scenario import cards, command, nudges, set_up_team, tick


def _uninstall(slack: SignedClient) -> None:
    assert slack.event({"type": "app_uninstalled"}).status_code == 200


def test_after_an_uninstall_nothing_is_posted_until_slack_sends_again(
    slack: SignedClient, fake: FakeSlack, ticker: Ticker, clock: FixedClock
) -> None:
    set_up_team(slack, fake)
    command(slack, fake, "/milestone", f"add Beta {(clock.now + timedelta(days=1)).date()}", BOB)
    _uninstall(slack)
    posted = len(fake.calls_to("chat.postMessage"))

    tick(ticker, clock, clock.now + timedelta(hours=4))  # Monday noon: the nudge is due
    assert len(fake.calls_to("chat.postMessage")) == posted

    # Reinstalled: Slack sends again, and what was owed goes out.
    command(slack, fake, "/feedback", "Back again", CAROL)
    tick(ticker, clock, clock.now + timedelta(minutes=5))
    assert len(cards(fake, ALICE)) == 1
    assert nudges(fake)


@pytest.mark.parametrize(
    ("tokens", "stops_posting"),
    [({"oauth": [], "bot": ["UROLECALL"]}, True), ({"oauth": [ERIN], "bot": []}, False)],
)
def test_revoking_the_bot_token_stops_posting_a_user_token_does_not(
    slack: SignedClient,
    fake: FakeSlack,
    services: Services,
    tokens: dict[str, list[str]],
    stops_posting: bool,
) -> None:
    set_up_team(slack, fake)
    response = slack.event({"type": "tokens_revoked", "tokens": tokens})
    assert response.status_code == 200
    assert services.workspaces.posting_allowed(services.workspace_id) is not stops_posting


def test_a_rate_limit_notice_is_answered_200_and_counted(
    slack: SignedClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    notice = {
        "token": "legacy-verification-token",
        "type": "app_rate_limited",
        "team_id": "TFAKE",
        "minute_rate_limited": 1518467820,
        "api_app_id": "AROLECALL",
    }
    with caplog.at_level(logging.WARNING):
        response = slack.post(json.dumps(notice), "application/json")
    assert response.status_code == 200
    assert services.workspaces.rate_limited_minutes == 1
    assert "rate-limited events for workspace TFAKE in minute 1518467820" in caplog.text


def test_a_reaction_on_a_message_that_is_gone_is_ignored_quietly(
    slack: SignedClient, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    set_up_team(slack, fake)
    with caplog.at_level(logging.WARNING):
        response = slack.react(TEAM, CAROL, "1500000000.000100", "bulb")
    assert response.status_code == 200
    assert cards(fake, ALICE) == []
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
