"""VEN registration and update: the fields each fact carries and the blank-name rule (mutation testing)."""

from __future__ import annotations

import pytest

from api.domain.errors import Conflict, Invalid
from api.domain.vens import NewVen, VenPatch, plan_registration, plan_update
from dr_contracts.facts import Location

pytestmark = pytest.mark.unit

_FULL = {"name": " Oak St 4 ", "location": {"lat": 51.5, "lon": -0.1}, "status": "maintenance"}


def test_a_registration_carries_every_given_field() -> None:
    fact = plan_registration(NewVen.model_validate(_FULL), "ven-1", None)
    assert (fact.venId, fact.name, fact.location, fact.status) == (
        "ven-1",
        "Oak St 4",
        Location(lat=51.5, lon=-0.1),
        "maintenance",
    )


def test_an_update_carries_every_given_field() -> None:
    fact = plan_update("ven-1", VenPatch.model_validate(_FULL))
    assert (fact.venId, fact.name, fact.location, fact.status) == (
        "ven-1",
        "Oak St 4",
        Location(lat=51.5, lon=-0.1),
        "maintenance",
    )


@pytest.mark.parametrize(
    "plan",
    [
        lambda: plan_registration(NewVen(name="   "), "ven-1", None),
        lambda: plan_update("ven-1", VenPatch(name="   ")),
    ],
)
def test_a_blank_name_is_too_short(plan: object) -> None:
    with pytest.raises(Invalid) as exc:
        plan()  # type: ignore[operator]
    assert [(p.field, p.code, bool(p.reason)) for p in exc.value.problems] == [("name", "too_short", True)]


@pytest.mark.parametrize(("body", "field"), [({}, "body"), ({"location": None}, "location")])
def test_an_empty_or_null_patch_is_refused_with_a_reason(body: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as exc:
        plan_update("ven-1", VenPatch.model_validate(body))
    assert [(p.field, bool(p.reason)) for p in exc.value.problems] == [(field, True)]


def test_a_second_registration_names_the_ven() -> None:
    with pytest.raises(Conflict, match="ven-1"):
        plan_registration(NewVen(name="x"), "ven-1", "api")
