"""Exports: a team's items as CSV or JSON Lines, streamed a page at a time, for
`/feedback export …` (a CSV file in the person's DM) and `rolecall export` (a file or stdout).

The writers are pure: they take items and a text stream. CSV cells that a spreadsheet would
read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) are prefixed with `'`,
so an item's text can never run in the spreadsheet of whoever opens the export.
"""

import csv
import json
import logging
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from slack_sdk import WebClient

from bot.clock import Clock
from bot.lists import queue_query
from bot.mrkdwn import unescape
from bot.parsing.team import ItemFilter
from bot.permissions import Permissions
from storage.models import Item, ItemKind
from storage.queues import EXPORT_PAGE, QueueOrder, QueueStore

log = logging.getLogger(__name__)

COLUMNS = (
    "id",
    "kind",
    "status",
    "team_channel_id",
    "title",
    "text",
    "reporter_id",
    "author_id",
    "customer",
    "impact",
    "severity",
    "tags",
    "votes",
    "reason",
    "duplicate_of",
    "assignee_id",
    "permalink",
    "created_at",
    "updated_at",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

EXPORTING = "Exporting… I'll send the file to you in a DM."
NOTHING_TO_EXPORT = "Nothing to export: no {what} in <#{channel}> match. No file was sent."
EXPORT_FAILED = "Sorry, I couldn't send the export just now. Please try again in a few minutes."


def iso(at: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC, to the second: `2026-11-30T08:00:00Z`."""
    if at is None:
        return None
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(item: Item) -> dict[str, Any]:
    """An item as one export row, in `COLUMNS` order: plain values (text as people typed it,
    Slack's `&amp;` `&lt;` `&gt;` undone; tags space-separated, without `#`)."""
    return {
        "id": item.id,
        "kind": item.kind.value,
        "status": item.status.value,
        "team_channel_id": item.team_channel_id,
        "title": item.title,
        "text": unescape(item.text),
        "reporter_id": item.reporter_id,
        "author_id": item.author_id,
        "customer": item.customer,
        "impact": item.impact.value if item.impact else None,
        "severity": item.severity.value if item.severity else None,
        "tags": " ".join(item.tags.split()),
        "votes": item.vote_count,
        "reason": item.reason,
        "duplicate_of": item.duplicate_of,
        "assignee_id": item.assignee_id,
        "permalink": item.permalink,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }


def csv_cell(value: Any) -> str:
    """A value as a CSV cell a spreadsheet shows as text: None is empty; text that would start
    a formula gets a leading `'` (numbers are written as they are)."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return str(int(value))
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(items: Iterable[Item], out: TextIO) -> int:
    """A header row, then one row per item (RFC 4180: CRLF, quoted where needed); returns how
    many items were written. `out` should be opened with `newline=""`."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for item in items:
        values = row(item)
        writer.writerow([csv_cell(values[column]) for column in COLUMNS])
        count += 1
    return count


def write_json_lines(items: Iterable[Item], out: TextIO) -> int:
    """One JSON object per line (JSON Lines), keys in `COLUMNS` order, values unescaped (JSON
    is not read as formulas); returns how many items were written."""
    count = 0
    for item in items:
        out.write(json.dumps(row(item), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def export_items(queues: QueueStore, channel_id: str, wanted: ItemFilter) -> Iterator[Item]:
    """Every item of the team `wanted` names, oldest first, read `EXPORT_PAGE` at a time."""
    query = queue_query(channel_id, wanted, QueueOrder.OLDEST)
    return (entry.item for entry in queues.stream(query, EXPORT_PAGE))


def file_name(channel_id: str, wanted: ItemFilter, at: datetime) -> str:
    tag = f"-{wanted.tag}" if wanted.tag else ""
    return f"rolecall-{wanted.kind.value}-{channel_id}-{wanted.filter}{tag}-{at:%Y%m%d-%H%M}.csv"


class Exports:
    """`/feedback export …`: the team's items as a CSV file in the DM of the person who asked
    (a holder of a role in the team, or a workspace admin)."""

    def __init__(
        self, client: WebClient, queues: QueueStore, permissions: Permissions, clock: Clock
    ) -> None:
        self.client = client
        self.queues = queues
        self.permissions = permissions
        self.clock = clock

    def send(self, channel_id: str, user_id: str, wanted: ItemFilter) -> str | None:
        """Write the export to a temporary file row by row, then upload it to the person's DM.
        Returns what to tell them besides the file (None: the file says it all); raises
        `Refused` for someone who may not export."""
        what = "feedback" if wanted.kind is ItemKind.FEEDBACK else "blockers"
        self.permissions.require_exporter(channel_id, user_id, f"export its {what}")
        now = self.clock()
        name = file_name(channel_id, wanted, now)
        with tempfile.TemporaryDirectory(prefix="rolecall-export-") as folder:
            path = Path(folder) / name
            with path.open("w", newline="", encoding="utf-8") as out:
                count = write_csv(export_items(self.queues, channel_id, wanted), out)
            if count == 0:
                label = "" if wanted.filter == "all" else f"{wanted.filter.replace('-', ' ')} "
                noun = "feedback items" if wanted.kind is ItemKind.FEEDBACK else "blockers"
                return NOTHING_TO_EXPORT.format(what=label + noun, channel=channel_id)
            dm = self.client.conversations_open(users=user_id)["channel"]["id"]
            filters = [f"`{wanted.filter}`"]
            if wanted.tag:
                filters.append(f"#{wanted.tag}")
            if wanted.words:
                filters.append("a text search")
            self.client.files_upload_v2(
                channel=dm,
                file=str(path),
                filename=name,
                title=f"{wanted.kind.value.capitalize()} export, {now:%Y-%m-%d}",
                initial_comment=(
                    f"{count} {wanted.kind.value} {'item' if count == 1 else 'items'} from "
                    f"<#{channel_id}> ({', '.join(filters)}), as of {iso(now)}."
                ),
            )
        log.info("exported %d %s items of %s for %s", count, wanted.kind, channel_id, user_id)
        return None
