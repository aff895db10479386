"""The pure helpers behind /rolecall holidays: region codes, hints, dates ahead."""

from datetime import date

import pytest
from holidays import list_supported_countries

from bot.team_settings import (
    LISTED_SUBDIVISIONS,
    canonical_region,
    next_public_holidays,
    region_hint,
    years_after,
)


@pytest.mark.parametrize(
    ("typed", "spelled"),
    [
        ("DE-by", "DE-BY"),
        ("NL-noord", "NL-Noord"),
        ("DE", "DE"),
        ("DE-ZZ", "DE-ZZ"),
        ("XX-y", "XX-y"),
    ],
)
def test_a_region_is_spelled_as_the_library_spells_it(typed: str, spelled: str) -> None:
    assert canonical_region(typed) == spelled


def test_hints_name_the_codes_that_look_right() -> None:
    assert region_hint("XX").startswith("I don't know public holidays for `XX`")
    assert region_hint("IE-DUB") == "`IE` has no regions I know: use `/rolecall holidays IE`."
    netherlands = region_hint("NL-West")
    assert netherlands == (
        "`NL` has no region `West`. Use the country alone (`NL`) or one of `NL-Midden`, "
        "`NL-Noord`, `NL-Zuid`."
    )
    states = [code for code in list_supported_countries()["US"] if code.isalnum()]
    assert len(states) > LISTED_SUBDIVISIONS
    assert region_hint("US-XX").endswith(
        f"`US-{states[LISTED_SUBDIVISIONS - 1]}` and {len(states) - LISTED_SUBDIVISIONS} more."
    )


def test_the_next_public_holidays_come_with_their_names() -> None:
    found = next_public_holidays("DE-BY", date(2026, 12, 26), 2)
    assert [day for day, _ in found] == [date(2026, 12, 26), date(2027, 1, 1)]
    assert all(name for _, name in found)


def test_five_years_after_a_leap_day_is_the_28th() -> None:
    assert years_after(date(2028, 2, 29), 5) == date(2033, 2, 28)
    assert years_after(date(2026, 11, 30), 5) == date(2031, 11, 30)
