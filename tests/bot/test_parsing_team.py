import pytest

from bot.parsing.team import (
    AddWebhook,
    AssignRole,
    FileItem,
    ListItems,
    ListRoles,
    ListWebhooks,
    RemoveRole,
    RemoveWebhook,
    SetEmoji,
    SetQueueChannel,
    ShowSettings,
    normalise_emoji,
    parse_capture,
    parse_item_command,
    parse_role_command,
    parse_rolecall_command,
    parse_settings_command,
    strip_leading_mention,
)
from bot.parsing.words import UsageError
from bot.webhooks import WebhookEvent
from storage.models import ItemKind, Role


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ListRoles()),
        ("list", ListRoles()),
        ("<@U1|ann> product", AssignRole("U1", Role.PRODUCT)),
        ("<@W2> PROJECT", AssignRole("W2", Role.PROJECT)),
        ("remove <@U1|ann> project", RemoveRole("U1", Role.PROJECT)),
        ("Remove <@U1> product", RemoveRole("U1", Role.PRODUCT)),
    ],
)
def test_role_commands(text: str, expected: object) -> None:
    assert parse_role_command(text) == expected


@pytest.mark.parametrize(
    "text", ["ann product", "<@U1> owner", "remove <@U1>", "<@U1>", "<@U1> product now"]
)
def test_bad_role_commands_raise_usage(text: str) -> None:
    with pytest.raises(UsageError):
        parse_role_command(text)


def test_item_commands() -> None:
    assert parse_item_command(ItemKind.FEEDBACK, " list ") == ListItems(ItemKind.FEEDBACK)
    assert parse_item_command(ItemKind.BLOCKER, " db down ") == FileItem(
        ItemKind.BLOCKER, "db down"
    )
    with pytest.raises(UsageError, match="/blocker &lt;text&gt;"):
        parse_item_command(ItemKind.BLOCKER, "  ")


def test_settings_commands() -> None:
    assert parse_settings_command("") == ShowSettings()
    assert parse_settings_command("emoji feedback :star-struck:") == SetEmoji(
        ItemKind.FEEDBACK, "star-struck"
    )
    assert parse_settings_command("queue project <#C1|ops>") == SetQueueChannel(Role.PROJECT, "C1")
    assert parse_settings_command("queue product off") == SetQueueChannel(Role.PRODUCT, None)
    for bad in ["emoji feedback :a b:", "queue product #ops", "emoji nothing :x:", "frobnicate"]:
        with pytest.raises(UsageError):
            parse_settings_command(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("feedback: more filters", FileItem(ItemKind.FEEDBACK, "more filters")),
        ("  Blocker :  keys expired\n", FileItem(ItemKind.BLOCKER, "keys expired")),
        ("FEEDBACK:multi\nline", FileItem(ItemKind.FEEDBACK, "multi\nline")),
        ("feedback:", None),
        ("my feedback: later", None),
        ("feedbacks: no", None),
    ],
)
def test_message_capture(text: str, expected: FileItem | None) -> None:
    assert parse_capture(text) == expected


def test_mention_capture_accepts_the_keyword_without_a_colon() -> None:
    text = strip_leading_mention("<@UBOT|rolecall> blocker the build is red", "UBOT")
    assert parse_capture(text, keyword_colon_required=False) == FileItem(
        ItemKind.BLOCKER, "the build is red"
    )
    assert parse_capture("hello", keyword_colon_required=False) is None


def test_skin_tones_do_not_change_the_routing_emoji() -> None:
    assert normalise_emoji("bulb::skin-tone-4") == "bulb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("webhook", ListWebhooks()),
        ("Webhook LIST", ListWebhooks()),
        ("webhook remove 12", RemoveWebhook(12)),
        (
            "webhook add <https://hooks.example.com/in?a=1&amp;b=2>",
            AddWebhook("https://hooks.example.com/in?a=1&b=2", frozenset(WebhookEvent)),
        ),
        (
            "webhook add <https://hooks.example.com/in|hooks.example.com/in> status, milestone",
            AddWebhook(
                "https://hooks.example.com/in",
                frozenset({WebhookEvent.ITEM_STATUS_CHANGED, WebhookEvent.MILESTONE_DONE}),
            ),
        ),
        (
            "webhook add https://hooks.example.com/x item.filed",
            AddWebhook("https://hooks.example.com/x", frozenset({WebhookEvent.ITEM_FILED})),
        ),
        ("timezone Europe/Berlin", parse_settings_command("timezone Europe/Berlin")),
    ],
)
def test_rolecall_webhook_commands(text: str, expected: object) -> None:
    assert parse_rolecall_command(text) == expected


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("webhook add", "Usage: `/rolecall webhook add"),
        ("webhook remove", "Usage: `/rolecall webhook add"),
        ("webhook list all", "Usage: `/rolecall webhook add"),
        ("webhook remove 1e3", "Name the webhook by its number"),
        ("webhook add https://x.example/ <!here>", "`&lt;!here&gt;` is not a webhook event"),
    ],
)
def test_bad_webhook_commands_raise_usage(text: str, reply: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse_rolecall_command(text)
    assert str(raised.value).startswith(reply)
