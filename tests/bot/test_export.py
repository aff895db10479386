"""Export writers and who may export, without a server."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.export import COLUMNS, csv_cell, iso, write_csv, write_json_lines
from bot.permissions import Permissions, Refused
from storage.models import Item, ItemKind, ItemStatus, Level, Role, RoleAssignment

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def make_item(n: int, text: str, **fields: object) -> Item:
    values: dict[str, object] = {
        "id": n,
        "kind": ItemKind.FEEDBACK,
        "team_channel_id": "C1",
        "text": text,
        "reporter_id": "U1",
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Item.model_validate(values)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1 555", "'+1 555"),
        ("-2+3", "'-2+3"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a = b", "a = b"),
        ("'quoted", "'quoted"),
        ("", ""),
        (None, ""),
        (42, "42"),
        (-1, "-1"),  # a number is a number
    ],
)
def test_a_cell_never_starts_a_formula(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_csv_rows_are_quoted_escaped_and_in_column_order() -> None:
    items = [
        make_item(
            1,
            "=HYPERLINK(&quot;x&quot;) &amp; &lt;b&gt;\nsecond line, with comma",
            title="@everyone look",
            customer="Acme",
            impact=Level.HIGH,
            tags=" pricing q4 ",
            vote_count=3,
            reason="-ish",
            status=ItemStatus.DUPLICATE,
            duplicate_of=7,
            permalink="https://fake.slack.test/archives/C1/p1",
            updated_at=NOW + timedelta(hours=1),
        ),
        make_item(2, "plain", kind=ItemKind.BLOCKER, severity=Level.LOW, assignee_id="U2"),
    ]
    out = io.StringIO(newline="")
    assert write_csv(items, out) == 2
    text = out.getvalue()
    assert text.startswith(",".join(COLUMNS) + "\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    first, second = rows
    assert first["text"] == "'=HYPERLINK(&quot;x&quot;) & <b>\nsecond line, with comma"
    assert first["title"] == "'@everyone look"
    assert first["reason"] == "'-ish"
    assert (first["impact"], first["severity"], first["tags"], first["votes"]) == (
        "high",
        "",
        "pricing q4",
        "3",
    )
    assert (first["status"], first["duplicate_of"]) == ("duplicate", "7")
    assert first["updated_at"] == "2026-11-30T09:00:00Z"
    assert (second["kind"], second["severity"], second["assignee_id"]) == ("blocker", "low", "U2")
    assert second["title"] == "" and second["permalink"] == ""


def test_json_lines_carry_the_values_as_they_are() -> None:
    out = io.StringIO()
    assert write_json_lines([make_item(1, "=1+1", title=None), make_item(2, "é")], out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert list(lines[0]) == list(COLUMNS)
    assert lines[0]["text"] == "=1+1"  # JSON is not read as formulas
    assert lines[0]["title"] is None and lines[0]["id"] == 1 and lines[0]["votes"] == 0
    assert lines[1]["text"] == "é"


def test_times_are_utc_to_the_second() -> None:
    berlin = timezone(timedelta(hours=1))
    assert iso(datetime(2026, 11, 30, 9, 0, 30, 999, tzinfo=berlin)) == "2026-11-30T08:00:30Z"
    assert iso(datetime(2026, 11, 30, 8, 0)) == "2026-11-30T08:00:00Z"  # naive: read as UTC
    assert iso(None) is None


class Teams:
    def __init__(self, holders: list[str]) -> None:
        self.holders = holders

    def roles(self, channel_id: str) -> list[RoleAssignment]:
        return [
            RoleAssignment(
                channel_id=channel_id,
                user_id=user,
                role=Role.PRODUCT,
                assigned_by=user,
                assigned_at=NOW,
            )
            for user in self.holders
        ]


class People:
    def __init__(self, admins: set[str]) -> None:
        self.admins = admins

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admins


def test_only_role_holders_and_admins_may_export_even_without_roles() -> None:
    team = Permissions(Teams(["UPM"]), People({"UADMIN"}))  # type: ignore[arg-type]
    team.require_exporter("C1", "UPM", "export")
    team.require_exporter("C1", "UADMIN", "export")
    with pytest.raises(Refused, match="only the people who hold a role in <#C1>"):
        team.require_exporter("C1", "UOTHER", "export its feedback")
    nobody = Permissions(Teams([]), People({"UADMIN"}))  # type: ignore[arg-type]
    nobody.require_exporter("C1", "UADMIN", "export")
    with pytest.raises(Refused):
        nobody.require_exporter("C1", "UOTHER", "export")  # unlike settings: not anyone
    nobody.require_team_manager("C1", "UOTHER", "change settings")  # (which anyone may, then)
