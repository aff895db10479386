"""Slack's limits and markup rules, as the fake Web API enforces them.

The fake must reject what Slack rejects, or the scenario tests prove nothing: these checks are
what makes a test fail where a workspace would answer `invalid_blocks` or `msg_too_long`, or
where a message would ping a whole channel.
"""

import re
from typing import Any

BROADCAST = re.compile(r"<!(channel|here|everyone|subteam\^)[^>]*>")
# What Slack's mrkdwn understands between angle brackets; anything else renders as garbage.
TOKEN = re.compile(r"<([^<>]*)>")
KNOWN_TOKEN = re.compile(r"[@#][UWCG][A-Z0-9]+(\|.*)?|!.+|(https?|mailto):[^|\s]+(\|.*)?")
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
TEXT_LIMIT = 40_000
VIEW_BUTTON_LIMIT = 24  # a modal's title, submit and close texts
PRIVATE_METADATA_LIMIT = 3000


def block_kit_errors(blocks: list[dict[str, Any]], max_blocks: int) -> list[str]:
    """Everything Slack would reject in these blocks (limits from Slack's Block Kit docs)."""
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"{len(blocks)} blocks > {max_blocks}")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > 255:
                errors.append(f"{where}.block_id too long")
            if block_id in block_ids:
                errors.append(f"{where}.block_id {block_id!r} repeated")
            block_ids.add(block_id)
        kind = block.get("type")
        if kind == "section":
            text = block.get("text", {}).get("text", "")
            fields = block.get("fields", [])
            if not text and not fields:
                errors.append(f"{where} section without text")
            if len(text) > 3000:
                errors.append(f"{where}.text {len(text)} > 3000")
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                errors.append(f"{where}.fields over limits")
        elif kind == "header":
            text = block.get("text", {})
            if text.get("type") != "plain_text" or len(text.get("text", "")) > 150:
                errors.append(f"{where} header must be plain_text <= 150")
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 10:
                errors.append(f"{where} context needs 1..10 elements")
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= 25:
                errors.append(f"{where} actions needs 1..25 elements")
            action_ids: set[str] = set()
            for element in elements:
                action_id = element.get("action_id", "")
                if len(action_id) > 255 or action_id in action_ids:
                    errors.append(f"{where} action_id {action_id!r} invalid or repeated")
                action_ids.add(action_id)
                if element.get("type") == "button":
                    if len(element.get("text", {}).get("text", "")) > 75:
                        errors.append(f"{where} button text > 75")
                    if len(element.get("value", "")) > 2000:
                        errors.append(f"{where} button value > 2000")
        elif kind == "input":
            label = block.get("label") or {}
            if label.get("type") != "plain_text" or not 1 <= len(label.get("text", "")) <= 2000:
                errors.append(f"{where} input needs a plain_text label <= 2000")
            if not block.get("element"):
                errors.append(f"{where} input needs an element")
        elif kind not in {"divider", "image", "rich_text", "file"}:
            errors.append(f"{where} unknown block type {kind!r}")
    return errors


def view_errors(view: dict[str, Any], surface: str) -> list[str]:
    """Everything Slack would refuse in a modal or Home tab view (`surface`: "modal" or
    "home"); the views.* methods answer `invalid_arguments` with these."""
    errors = [f"view.{e}" for e in block_kit_errors(view.get("blocks", []), VIEW_BLOCK_LIMIT)]
    if view.get("type") != surface:
        errors.append(f"view.type {view.get('type')!r} is not {surface!r}")
    if len(view.get("private_metadata", "")) > PRIVATE_METADATA_LIMIT:
        errors.append(f"view.private_metadata > {PRIVATE_METADATA_LIMIT}")
    for key in ("callback_id", "external_id"):
        if len(view.get(key, "")) > 255:
            errors.append(f"view.{key} > 255")
    if surface == "modal":
        for key in ("title", "submit", "close"):
            if key not in view and key != "title":
                continue  # only the title is required
            text = view.get(key) or {}
            size = len(text.get("text", ""))
            if text.get("type") != "plain_text" or not 1 <= size <= VIEW_BUTTON_LIMIT:
                errors.append(f"view.{key} must be plain_text of 1..{VIEW_BUTTON_LIMIT}")
        if "submit" not in view and any(b.get("type") == "input" for b in view.get("blocks", [])):
            errors.append("view.submit is required with input blocks")
    return errors
