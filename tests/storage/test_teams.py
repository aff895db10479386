"""Roles and team settings (SQLite and PostgreSQL)."""

from datetime import UTC, datetime

from storage.db import Database
from storage.models import Role
from storage.teams import TeamStore
from tests.conftest import WORKSPACE

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_roles_are_per_channel_and_one_person_may_hold_both(db: Database) -> None:
    teams = TeamStore(db, WORKSPACE)
    assert teams.assign("C1", "U1", Role.PRODUCT, "U1", NOW)
    assert teams.assign("C1", "U1", Role.PROJECT, "U1", NOW)
    assert teams.assign("C1", "U1", Role.PRODUCT, "U2", NOW) is None
    assert teams.assign("C2", "U2", Role.PRODUCT, "U2", NOW)

    assert teams.holders("C1", Role.PRODUCT) == ["U1"]
    assert teams.holders("C1", Role.PROJECT) == ["U1"]
    assert teams.holders("C2", Role.PROJECT) == []
    assert teams.remove("C1", "U1", Role.PROJECT)
    assert not teams.remove("C1", "U1", Role.PROJECT)
    assert [(a.channel_id, a.role) for a in teams.roles_of("U1")] == [("C1", Role.PRODUCT)]
    assert teams.roles_of("U1")[0].role is Role.PRODUCT  # read back as the enum


def test_routing_is_the_holders_or_the_queue_channel(db: Database) -> None:
    teams = TeamStore(db, WORKSPACE)
    teams.assign("C1", "U1", Role.PRODUCT, "U1", NOW)
    teams.assign("C1", "U2", Role.PRODUCT, "U1", NOW)
    assert teams.routing("C1", Role.PRODUCT).recipients == ["U1", "U2"]
    settings = teams.settings("C1")
    settings.product_queue_channel = "CQ"
    teams.save_settings(settings)
    routing = teams.routing("C1", Role.PRODUCT)
    assert (routing.holders, routing.recipients) == (["U1", "U2"], ["CQ"])
    assert teams.routing("C1", Role.PROJECT).recipients == []


def test_settings_default_and_persist(db: Database) -> None:
    teams = TeamStore(db, WORKSPACE)
    settings = teams.settings("C1")
    assert (settings.feedback_emoji, settings.blocker_emoji) == ("bulb", "no_entry")
    settings.blocker_emoji = "rotating_light"
    settings.project_queue_channel = "C9"
    teams.save_settings(settings)
    again = teams.settings("C1")
    assert (again.blocker_emoji, again.project_queue_channel) == ("rotating_light", "C9")
    assert teams.settings("C2").blocker_emoji == "no_entry"
