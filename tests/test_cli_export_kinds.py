"""`rolecall export` without `--kind` writes every item of the team, kind by kind, and its help
and the README say so."""

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.export import COLUMNS
from handlers.cli import main
from storage.db import Database, make_engine
from storage.items import ItemStore
from storage.models import Item, ItemKind
from storage.workspaces import WorkspaceStore

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def seed(database_url: str) -> dict[ItemKind, int]:
    """One item of each kind in #launch, the newest kinds filed first."""
    engine = make_engine(database_url)
    db = Database(engine)
    WorkspaceStore(db).known("T0001", "T0001", None, AT)
    ids = {}
    for n, kind in enumerate(reversed(ItemKind)):
        at = AT + timedelta(minutes=n)
        item = Item(
            kind=kind,
            team_channel_id="CLAUNCH",
            text=f"a {kind.value}",
            reporter_id="UCAROL",
            created_at=at,
            updated_at=at,
        )
        filed, _ = ItemStore(db, "T0001").file(item)
        assert filed.id is not None
        ids[kind] = filed.id
    engine.dispose()
    return ids


def test_export_without_a_kind_writes_every_kind_in_order(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = seed(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)

    assert main(["export", "--team", "CLAUNCH", "--status", "open"]) == 0

    out, err = capsys.readouterr()
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in csv.reader(io.StringIO(out))][1:]
    assert [(row["kind"], int(row["id"])) for row in rows] == [
        (kind.value, ids[kind]) for kind in ItemKind
    ]
    assert err == f"exported {len(ItemKind)} items of CLAUNCH\n"


def test_the_help_and_the_readme_say_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "default: every kind, one after the other in the order listed" in help_text
    assert "{" + ",".join(kind.value for kind in ItemKind) + "}" in help_text

    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert f"[--kind {'|'.join(kind.value for kind in ItemKind)}]" in readme
    assert (
        "without `--kind`: every item of the team, kind by kind: the feedback, then the "
        "blockers, the market risks and the operational risks" in readme
    )
