"""Fuzzed command text through the real app, on every database: a reply, never a failure.

PostgreSQL and SQLite disagree about some text (NUL characters, lengths of varchar columns);
whatever a person types, both must give the same kind of answer.
"""

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.errors import SORRY
from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient
from tests.conftest import BOB, CAROL, TEAM
from tests.handlers.scenario import ephemerals, set_up_team

WORDS = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("\x00ßİ:<>@#&*_~`"),
    max_size=300,
)
COMMANDS = st.sampled_from(
    [
        ("/feedback", "{}"),
        ("/blocker", "{}"),
        ("/milestone", "add {} 2026-12-20"),
        ("/milestone", "{}"),
        ("/deadline", "{} 2026-12-20"),
        ("/rolecall", "emoji feedback {}"),
        ("/role", "{} product"),
        ("/digest", "schedule {}"),
    ]
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(command=COMMANDS, text=WORDS)
def test_any_command_text_gets_a_reply_not_a_failure(
    slack: SignedClient,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    command: tuple[str, str],
    text: str,
) -> None:
    if not ephemerals(fake, BOB):
        set_up_team(slack, fake)
    name, template = command
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        response = slack.command(name, template.format(text), BOB, TEAM)

    assert response.status_code == 200
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert SORRY not in ephemerals(fake, BOB) + ephemerals(fake, CAROL)
