"""App Home: which roles you hold where, and how to use Rolecall."""

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock

from bot.blocks.common import ROLE_LABEL, render_blocks, section
from storage.models import RoleAssignment


def home_view(user_id: str, assignments: Sequence[RoleAssignment]) -> dict[str, Any]:
    mine = (
        "\n".join(f"• {ROLE_LABEL[a.role]} in <#{a.channel_id}>" for a in assignments)
        or "You hold no roles yet."
    )
    blocks: list[Block] = [
        HeaderBlock(text="Rolecall"),
        section(
            "Feedback goes to the *product manager*, blockers to the *project manager*. "
            "Raise one with `/feedback …`, `/blocker …`, a `feedback:` or `blocker:` message, "
            "or by reacting with :bulb: or :no_entry:."
        ),
        DividerBlock(),
        section(f"*Your roles, <@{user_id}>*\n{mine}"),
    ]
    return {"type": "home", "blocks": render_blocks(blocks)}
