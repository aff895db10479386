"""Membership over the fake Slack: members paged with a cursor, and a Slack that does not answer
counted as "not in it", with a note that says what to do."""

import socket

from slack_sdk import WebClient

from bot.membership import Membership
from sandbox.fake_slack import FakeSlack


def test_a_big_channel_is_read_page_by_page() -> None:
    people = [f"U{n:05d}" for n in range(2_500)]
    with FakeSlack() as fake:
        fake.add_channel("CBIG", "big", people)
        membership = Membership(WebClient(token=fake.token, base_url=fake.api_url))

        assert membership.is_member("CBIG", people[-1])
        assert not membership.is_member("CBIG", "UOUTSIDER")  # a menu: the kept members do
        among = membership.members_among(["CBIG"], "UOUTSIDER", recheck_absent=True)
        assert among.channels == []

        calls = fake.calls_to("conversations.members")
    # Read once for the member and the menu; a role or a filing asks afresh about someone
    # the kept members lack (someone just invited).
    assert [c.get("cursor") for c in calls] == [None, "1000", "2000"] * 2
    assert {c["limit"] for c in calls} == {"1000"}


def test_a_slack_that_does_not_answer_counts_as_not_a_member() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed when the test asks it: connection refused
    membership = Membership(WebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{port}/"))

    among = membership.members_among(["C1", "C2"], "U1")

    assert among.channels == []
    assert among.unchecked == {"C1": "network_error", "C2": "network_error"}
    assert among.note() == "Rolecall could not check who is in <#C1>, <#C2>: try again in a minute."
