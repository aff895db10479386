"""The fake Slack must reject what Slack rejects, or the scenario tests prove nothing."""

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack


def test_signatures_match_slacks_documented_vector() -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008"
        "85554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c4"
        "47fce8b6703c"
    )
    verifier = SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5")
    assert verifier.generate_signature(timestamp="1531420618", body=body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


def test_over_limit_messages_and_replies_are_rejected_and_recorded() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        client = WebClient(token="xoxb-t", base_url=fake.api_url)
        too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
        try:
            client.chat_postMessage(channel="U1", text="t", blocks=too_long)
        except SlackApiError as error:
            assert error.response["error"] == "invalid_blocks"
        else:
            raise AssertionError("a 3001-character section must be refused")
        try:
            client.chat_postMessage(channel="U1", text="y" * 40_001)
        except SlackApiError as error:
            assert error.response["error"] == "msg_too_long"
        reply = httpx.post(fake.response_url("U1", "C1"), json={"text": "ok", "blocks": too_long})
        assert reply.status_code == 400
        assert [c.error for c in fake.rejected] == [
            "invalid_blocks",
            "msg_too_long",
            "invalid_blocks",
        ]
        fake.rejected.clear()


def test_rate_limits_answer_429_with_retry_after() -> None:
    with FakeSlack() as fake:
        fake.rate_limit_next("auth.test", retry_after=7)
        response = httpx.post(
            f"{fake.api_url}auth.test", headers={"Authorization": "Bearer xoxb-t"}
        )
        assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
        assert response.json() == {"ok": False, "error": "ratelimited"}


def test_a_simulated_channel_limit_answers_429_and_records_the_violation() -> None:
    with FakeSlack(channel_post_interval=60) as fake:
        fake.add_channel("C1", "one", [])
        fake.add_channel("C2", "two", [])
        client = httpx.Client(headers={"Authorization": "Bearer xoxb-test"})
        post = f"{fake.api_url}chat.postMessage"
        assert client.post(post, json={"channel": "C1", "text": "a"}).status_code == 200
        assert client.post(post, json={"channel": "C2", "text": "b"}).status_code == 200
        limited = client.post(post, json={"channel": "C1", "text": "c"})
        assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
        assert fake.limit_violations == ["C1"]
        assert [m["text"] for m in fake.messages["C1"]] == ["a"]


def test_angle_brackets_slack_would_not_understand_are_flagged() -> None:
    with FakeSlack() as fake:
        fake.add_channel("C1", "one", [])
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        client.chat_postMessage(
            channel="C1", text="<@U1> <#C1|one> <https://x.test/a|a link> `/milestone add <name>`"
        )
        assert fake.malformed == ["<name>"]


def test_a_lost_response_posts_the_message_and_answers_500() -> None:
    with FakeSlack() as fake:
        fake.add_channel("C1", "one", [fake.bot_user_id])
        fake.lose_response("chat.postMessage", lambda p: p["text"] == "b")
        client = httpx.Client(headers={"Authorization": "Bearer xoxb-test"})
        post = f"{fake.api_url}chat.postMessage"
        assert client.post(post, json={"channel": "C1", "text": "a"}).status_code == 200
        lost = client.post(post, json={"channel": "C1", "text": "b"})
        assert (lost.status_code, lost.json()["ok"]) == (500, False)
        assert client.post(post, json={"channel": "C1", "text": "b"}).status_code == 200
        assert [m["text"] for m in fake.messages["C1"]] == ["a", "b", "b"]


def test_history_and_replies_list_like_slack() -> None:
    with FakeSlack() as fake:
        fake.add_channel("C1", "one", [fake.bot_user_id])
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        tagged = {"event_type": "t", "event_payload": {"k": 1}}
        parent = client.chat_postMessage(channel="C1", text="parent", metadata=tagged)["ts"]
        replies = [
            client.chat_postMessage(channel="C1", text=f"r{n}", thread_ts=parent)["ts"]
            for n in range(3)
        ]

        [listed] = client.conversations_history(channel="C1")["messages"]
        assert "metadata" not in listed  # only when asked for
        [listed] = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
        assert listed["metadata"] == tagged
        # the parent comes first on every page; replies from `oldest`, earliest first
        page = client.conversations_replies(
            channel="C1", ts=replies[1], oldest=replies[1], inclusive=True, limit=2
        )
        assert [m["text"] for m in page["messages"]] == ["parent", "r1"]
        assert page["has_more"] is True
