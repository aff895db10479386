"""The fake Slack must reject what Slack rejects, or the scenario tests prove nothing."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.fake_slack import FakeSlack
from sandbox.signed_client import SignedClient, state_values

SECRET = "fake-signing-secret"
MODAL = {
    "type": "modal",
    "callback_id": "add_role",
    "private_metadata": "C1",
    "title": {"type": "plain_text", "text": "Add a role"},
    "submit": {"type": "plain_text", "text": "Add"},
    "blocks": [
        {
            "type": "input",
            "block_id": "who",
            "label": {"type": "plain_text", "text": "Who"},
            "element": {"type": "users_select", "action_id": "user"},
        },
        {
            "type": "input",
            "block_id": "role",
            "label": {"type": "plain_text", "text": "Role"},
            "element": {
                "type": "static_select",
                "action_id": "role",
                "options": [
                    {"text": {"type": "plain_text", "text": "Product"}, "value": "product"},
                    {"text": {"type": "plain_text", "text": "Project"}, "value": "project"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "note"},
        },
    ],
}


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


def test_members_are_paged_with_a_cursor_and_unknown_channels_are_refused() -> None:
    with FakeSlack() as fake:
        fake.add_channel("C1", "one", ["U1", "U2", "U3"])
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        first = client.conversations_members(channel="C1", limit=3)
        cursor = first["response_metadata"]["next_cursor"]
        assert cursor
        last = client.conversations_members(channel="C1", limit=3, cursor=cursor)
        assert last["response_metadata"]["next_cursor"] == ""
        assert first["members"] + last["members"] == ["U1", "U2", "U3", fake.bot_user_id]
        assert refusal(client.conversations_members, channel="CNONE") == ("channel_not_found", [])


def refusal(method: Callable[..., Any], **arguments: Any) -> tuple[str, list[str]]:
    """The error code Slack answered a call with, and its details."""
    with pytest.raises(SlackApiError) as raised:
        method(**arguments)
    response = raised.value.response
    return response["error"], response.get("response_metadata", {}).get("messages", [])


class Clock:
    """The fake's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_trigger_id_opens_one_modal_once_and_only_within_three_seconds() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        fake.monotonic = clock = Clock()
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        trigger = fake.issue_trigger("U1")
        opened = client.views_open(trigger_id=trigger, view=MODAL)["view"]
        assert fake.open_views("U1") == [opened]
        assert opened["id"].startswith("V") and opened["hash"]
        assert (opened["callback_id"], opened["private_metadata"]) == ("add_role", "C1")

        again = refusal(client.views_open, trigger_id=trigger, view=MODAL)
        assert again[0] == "exchanged_trigger_id"
        made_up = refusal(client.views_open, trigger_id="1.2.made-up", view=MODAL)
        assert made_up[0] == "invalid_trigger_id"
        late = fake.issue_trigger("U1")
        clock.now += 3.5
        assert refusal(client.views_open, trigger_id=late, view=MODAL)[0] == "expired_trigger_id"
        assert fake.open_views("U1") == [opened]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"title": {"type": "plain_text", "text": "x" * 25}}, "view.title"),
        ({"title": {"type": "mrkdwn", "text": "Add"}}, "view.title"),
        ({"submit": {"type": "plain_text", "text": "x" * 25}}, "view.submit"),
        ({"close": {"type": "plain_text", "text": "x" * 25}}, "view.close"),
        ({"submit": None}, "view.submit is required"),
        ({"type": "home"}, "view.type"),
        ({"callback_id": "c" * 256}, "view.callback_id"),
        ({"private_metadata": "m" * 3001}, "view.private_metadata"),
        ({"blocks": [{"type": "divider"}] * 101}, "view.101 blocks > 100"),
        ({"blocks": [{"type": "input", "element": {"type": "plain_text_input"}}]}, "label"),
        ({"blocks": [{"type": "input", "label": {"type": "plain_text", "text": "L"}}]}, "element"),
    ],
)
def test_modals_over_slacks_limits_are_refused_with_details(
    change: dict[str, Any], detail: str
) -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        view = {key: value for key, value in {**MODAL, **change}.items() if value is not None}
        trigger = fake.issue_trigger("U1")
        error, messages = refusal(client.views_open, trigger_id=trigger, view=view)
        assert error == "invalid_arguments"
        assert any(detail in m for m in messages), messages
        assert fake.open_views("U1") == []
        assert [c.error for c in fake.rejected] == ["invalid_arguments"]
        fake.rejected.clear()


def test_home_views_are_refused_over_slacks_limits() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        home = {"type": "home", "blocks": [{"type": "divider"}]}
        published = client.views_publish(user_id="U1", view=home)["view"]
        assert fake.home_views == {"U1": published}
        for bad in ({"private_metadata": "m" * 3001}, {"blocks": [{"type": "divider"}] * 101}):
            error, _ = refusal(client.views_publish, user_id="U1", view={**home, **bad})
            assert error == "invalid_arguments"
        fake.rejected.clear()


def test_views_update_by_id_or_external_id_and_a_stale_hash_conflicts() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        trigger = fake.issue_trigger("U1")
        opened = client.views_open(trigger_id=trigger, view={**MODAL, "external_id": "e1"})["view"]
        renamed = {**MODAL, "title": {"type": "plain_text", "text": "Renamed"}}

        updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=renamed)
        assert updated["view"]["id"] == opened["id"] and updated["view"]["hash"] != opened["hash"]
        assert fake.open_views("U1")[0]["title"]["text"] == "Renamed"
        stale = {"view_id": opened["id"], "hash": opened["hash"], "view": MODAL}
        assert refusal(client.views_update, **stale)[0] == "hash_conflict"
        client.views_update(external_id="e1", view=MODAL)
        assert fake.open_views("U1")[0]["title"]["text"] == "Add a role"
        assert refusal(client.views_update, view_id="VNOPE", view=MODAL)[0] == "not_found"

        pushed = client.views_push(trigger_id=fake.issue_trigger("U1"), view=renamed)["view"]
        assert [v["id"] for v in fake.open_views("U1")] == [opened["id"], pushed["id"]]
        assert (pushed["root_view_id"], pushed["previous_view_id"]) == (opened["id"], opened["id"])
        client.views_push(trigger_id=fake.issue_trigger("U1"), view=renamed)
        fourth = refusal(client.views_push, trigger_id=fake.issue_trigger("U1"), view=renamed)
        assert fourth[0] == "push_limit_reached"


def test_files_upload_v2_shares_the_bytes_in_the_dm() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        dm = client.conversations_open(users="U1")["channel"]["id"]
        data = b"role,person\nproduct,ann\n"
        shared = client.files_upload_v2(
            channel=dm, content=data, filename="roles.csv", title="Roles", initial_comment="Here"
        )
        assert shared["file"]["title"] == "Roles"
        assert fake.files_in(dm) == [("roles.csv", data, "Roles")]
        [message] = fake.dms_to("U1")
        assert message["text"] == "Here" and message["files"][0]["name"] == "roles.csv"
        assert [s.text for s in fake.seen_by("U1")] == ["Here\nRoles"]


def test_uploads_of_the_wrong_length_or_unknown_files_are_refused() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        fake.add_channel("C1", "elsewhere", ["U1"])
        fake.channels["C1"]["members"].discard(fake.bot_user_id)
        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        ticket = client.files_getUploadURLExternal(filename="a.txt", length=3)
        assert httpx.post(ticket["upload_url"], content=b"four").status_code == 400
        assert [c.error for c in fake.rejected] == ["length_mismatch"]
        fake.rejected.clear()
        complete = client.files_completeUploadExternal
        assert refusal(complete, files=[{"id": ticket["file_id"]}])[0] == "file_not_found"
        assert refusal(complete, files=[{"id": "FNOPE"}])[0] == "file_not_found"
        assert httpx.post(ticket["upload_url"], content=b"abc").text == "OK - 3"
        in_c1 = refusal(complete, files=[{"id": ticket["file_id"]}], channel_id="C1")
        assert in_c1[0] == "not_in_channel"
        assert fake.files_in("C1") == []


def bolt_app(fake: FakeSlack) -> tuple[App, SignedClient, list[dict[str, Any]]]:
    """A Bolt app answering the signed client in process (listeners run before the answer),
    and every payload it was sent."""
    client = WebClient(token="xoxb-test", base_url=fake.api_url)
    app = App(client=client, signing_secret=SECRET, process_before_response=True)
    payloads: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        body = request.read().decode()
        payloads.append(json.loads(parse_qs(body)["payload"][0]))
        reply = app.dispatch(BoltRequest(body=body, headers=dict(request.headers)))
        headers = {name: values[0] for name, values in reply.headers.items()}
        return httpx.Response(reply.status, headers=headers, content=reply.body)

    transport = httpx.MockTransport(answer)
    return app, SignedClient("http://app.test/slack/events", SECRET, fake, transport), payloads


def test_shortcuts_reach_bolt_with_a_trigger_the_fake_honours() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        fake.add_channel("C1", "launch", ["U1"])
        app, slack, payloads = bolt_app(fake)
        opened: list[str] = []

        @app.shortcut("file_it")
        @app.shortcut("add_role")
        def open_modal(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            ack()
            opened.append(
                client.views_open(trigger_id=body["trigger_id"], view=MODAL)["view"]["id"]
            )

        message = fake.user_message("C1", "U1", "we need a PM")
        assert slack.message_shortcut("file_it", "U1", "C1", message).status_code == 200
        action = payloads[-1]
        assert action["type"] == "message_action" and action["callback_id"] == "file_it"
        assert action["channel"] == {"id": "C1", "name": "launch"}
        assert action["message_ts"] == action["message"]["ts"] == message["ts"]
        assert action["message"]["text"] == "we need a PM"
        assert action["response_url"].startswith(fake.url)
        assert action["user"] == {"id": "U1", "username": "ann", "name": "ann", "team_id": "T0001"}
        assert action["team"] == {"id": "T0001", "domain": "fake"}

        assert slack.global_shortcut("add_role", "U1").status_code == 200
        shortcut = payloads[-1]
        assert shortcut["type"] == "shortcut" and shortcut["trigger_id"]
        assert "channel" not in shortcut and "response_url" not in shortcut
        assert [v["id"] for v in fake.open_views("U1")] == opened[-1:]
        assert len(opened) == 2


def test_a_submission_carries_the_stored_view_and_its_answer_moves_the_modal() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        fake.add_user("U2", "bob")
        app, slack, payloads = bolt_app(fake)
        answers: list[dict[str, Any]] = [{"response_action": "errors", "errors": {"who": "?"}}, {}]

        @app.view("add_role")
        def submitted(ack: Ack) -> None:
            ack(**answers.pop(0))

        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        client.views_open(trigger_id=fake.issue_trigger("U1"), view=MODAL)
        [view] = fake.open_views("U1")
        values = state_values(view, {"user": "U2", "role": "product"})
        assert values == {
            "who": {"user": {"type": "users_select", "selected_user": "U2"}},
            "role": {
                "role": {
                    "type": "static_select",
                    "selected_option": {
                        "text": {"type": "plain_text", "text": "Product"},
                        "value": "product",
                    },
                }
            },
            "note": {"note": {"type": "plain_text_input", "value": None}},
        }
        refused = slack.view_submission(view, "U1", values)
        assert refused.json()["response_action"] == "errors"
        assert fake.open_views("U1") == [view]  # errors keep the modal open
        sent = payloads[-1]
        assert sent["type"] == "view_submission" and sent["trigger_id"]
        assert sent["view"]["id"] == view["id"] and sent["view"]["hash"] == view["hash"]
        assert sent["view"]["private_metadata"] == "C1"
        assert sent["view"]["state"]["values"] == values

        assert slack.view_submission(view, "U1", values).status_code == 200
        assert fake.open_views("U1") == []  # an empty ack closes it


def test_options_and_clicks_from_views_are_shaped_like_slacks() -> None:
    with FakeSlack() as fake:
        fake.add_user("U1", "ann")
        app, slack, payloads = bolt_app(fake)
        options = [{"text": {"type": "plain_text", "text": "Launch"}, "value": "C1"}]
        pressed: list[str] = []

        @app.options("channel")
        def suggest(ack: Ack) -> None:
            ack(options=options)

        @app.action("refresh")
        def refresh(ack: Ack, body: dict[str, Any]) -> None:
            ack()
            pressed.append(body["container"]["view_id"])

        client = WebClient(token="xoxb-test", base_url=fake.api_url)
        button = {
            "type": "button",
            "action_id": "refresh",
            "value": "all",
            "text": {"type": "plain_text", "text": "Refresh"},
        }
        home = {
            "type": "home",
            "private_metadata": "p",
            "blocks": [
                {
                    "type": "section",
                    "block_id": "top",
                    "text": {"type": "mrkdwn", "text": "Your roles"},
                    "accessory": button,
                }
            ],
        }
        client.views_publish(user_id="U1", view=home)
        tab = fake.home_views["U1"]
        assert slack.view_click("U1", tab, "refresh", "all").status_code == 200
        click = payloads[-1]
        assert click["container"] == {"type": "view", "view_id": tab["id"]}
        assert click["view"]["type"] == "home" and click["view"]["hash"] == tab["hash"]
        assert click["actions"][0]["block_id"] == "top"
        assert click["actions"][0]["text"]["text"] == "Refresh"
        assert {"channel", "message", "response_url"}.isdisjoint(click) and click["trigger_id"]
        assert pressed == [tab["id"]]

        client.views_open(trigger_id=fake.issue_trigger("U1"), view=MODAL)
        [modal] = fake.open_views("U1")
        suggested = slack.block_suggestion("channel", "where", "lau", "U1", modal)
        assert suggested.json() == {"options": options}
        asked = payloads[-1]
        assert asked["type"] == "block_suggestion" and asked["value"] == "lau"
        assert asked["container"] == {"type": "view", "view_id": modal["id"]}
        assert (asked["action_id"], asked["block_id"]) == ("channel", "where")
