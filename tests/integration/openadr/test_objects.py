"""Programs and VEN objects over the facade: CRUD, names, ownership, as facts."""

from __future__ import annotations

import pytest

from api.settings import Settings
from tests.integration.api.conftest import count_records
from tests.integration.openadr.conftest import Oadr

pytestmark = pytest.mark.integration


async def test_program_crud_as_facts(bl: Oadr, oadr_settings: Settings) -> None:
    sent = {"programName": "summer", "targets": ["site-a"], "intervalPeriod": None, "attributes": None}
    created = await bl.ok("POST", "/programs", 201, json=sent)
    assert created["programName"] == "summer" and created["targets"] == ["site-a"]
    assert "intervalPeriod" not in created  # an explicit null is "not given"
    program_id = created["id"]

    assert await bl.ok("GET", f"/programs/{program_id}") == created
    listed = await bl.ok("GET", "/programs")
    assert [p["id"] for p in listed] == ["platform", program_id]  # the default program first

    changed = await bl.ok("PUT", f"/programs/{program_id}", json={"programName": "summer-2026"})
    assert changed["createdDateTime"] == created["createdDateTime"]
    assert changed["modificationDateTime"] > created["modificationDateTime"]
    assert "targets" not in changed  # PUT replaces the object
    assert await bl.ok("GET", f"/programs/{program_id}") == changed

    assert await bl.ok("DELETE", f"/programs/{program_id}") == changed
    assert (await bl.call("GET", f"/programs/{program_id}")).status_code == 404
    assert await count_records(oadr_settings, oadr_settings.topics.oadr_objects) == 3


async def test_program_names_are_unique_and_the_default_is_fixed(bl: Oadr) -> None:
    await bl.ok("POST", "/programs", 201, json={"programName": "winter"})
    clash = await bl.call("POST", "/programs", json={"programName": "winter"})
    assert clash.status_code == 409 and "winter" in clash.json()["detail"]
    # The spec documents no 409 for DELETE: refusals there are 400.
    assert (await bl.call("DELETE", "/programs/platform")).status_code == 400
    assert (await bl.call("PUT", "/programs/platform", json={"programName": "x"})).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "programName"),
        ({"programName": ""}, "programName"),
        ({"programName": "p", "targets": "site-a"}, "targets"),
        ([], "body"),
    ],
)
async def test_bad_program_bodies_are_400_naming_the_field(bl: Oadr, body: object, field: str) -> None:
    response = await bl.call("POST", "/programs", json=body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)


async def test_malformed_json_and_bad_paging_are_400(bl: Oadr) -> None:
    assert (await bl.call("POST", "/programs", content=b"{nope")).status_code == 400
    assert (await bl.call("GET", "/programs?limit=51")).status_code == 400
    assert (await bl.call("GET", "/programs?skip=-1")).status_code == 400
    assert await bl.ok("GET", "/programs?limit=0") == []


async def test_programs_targeted_elsewhere_are_hidden_from_a_ven(bl: Oadr, ven1: Oadr) -> None:
    await bl.ok(
        "POST",
        "/vens",
        201,
        json={"venName": "v1", "clientID": "ven-1", "targets": ["site-a"], "objectType": "BL_VEN_REQUEST"},
    )
    mine = await bl.ok("POST", "/programs", 201, json={"programName": "a", "targets": ["site-a", "site-b"]})
    await bl.ok("POST", "/programs", 201, json={"programName": "b", "targets": ["site-b"]})
    seen = await ven1.ok("GET", "/programs")
    assert [p["id"] for p in seen] == ["platform", mine["id"]]
    assert (await ven1.call("GET", f"/programs/{mine['id']}")).status_code == 200


async def test_ven_objects_belong_to_their_client(bl: Oadr, ven1: Oadr, ven2: Oadr) -> None:
    granted = await bl.ok(
        "POST",
        "/vens",
        201,
        json={"venName": "v1", "clientID": "ven-1", "targets": ["site-a"], "objectType": "BL_VEN_REQUEST"},
    )
    own = await ven2.ok(
        "POST", "/vens", 201, json={"venName": "v2", "objectType": "VEN_VEN_REQUEST", "attributes": None}
    )
    assert own["clientID"] == "ven-2" and "targets" not in own

    assert [v["id"] for v in await ven1.ok("GET", "/vens")] == [granted["id"]]
    assert [v["id"] for v in await ven2.ok("GET", "/vens")] == [own["id"]]
    assert (await ven2.call("GET", f"/vens/{granted['id']}")).status_code == 404
    assert len(await bl.ok("GET", "/vens")) == 2
    assert [v["id"] for v in await bl.ok("GET", "/vens?venName=v2")] == [own["id"]]

    # A VEN renames its own object but keeps the targets the BL granted; it cannot grant any.
    renamed = await ven1.ok(
        "PUT", f"/vens/{granted['id']}", json={"venName": "v1-new", "objectType": "VEN_VEN_REQUEST"}
    )
    assert renamed["targets"] == ["site-a"] and renamed["clientID"] == "ven-1"
    grab = {"venName": "v1", "objectType": "VEN_VEN_REQUEST", "targets": ["site-b"]}
    assert (await ven1.call("PUT", f"/vens/{granted['id']}", json=grab)).status_code == 403
    assert (await ven1.call("DELETE", f"/vens/{own['id']}")).status_code == 404
    taken = {"venName": "v2", "clientID": "x", "objectType": "BL_VEN_REQUEST"}
    assert (await bl.call("POST", "/vens", json=taken)).status_code == 400  # no 409 in the spec here
    assert (
        await bl.call("POST", "/vens", json={"venName": "v3", "objectType": "BL_VEN_REQUEST"})
    ).status_code == 400
    assert await ven2.ok("DELETE", f"/vens/{own['id']}") == own


async def test_resources_belong_to_a_ven_object_and_widen_its_targets(
    bl: Oadr, ven1: Oadr, ven2: Oadr
) -> None:
    ven = await bl.ok(
        "POST", "/vens", 201, json={"venName": "v1", "clientID": "ven-1", "objectType": "BL_VEN_REQUEST"}
    )
    by_bl = {
        "resourceName": "battery",
        "venID": ven["id"],
        "clientID": "ven-1",
        "targets": ["feeder-7"],
        "objectType": "BL_RESOURCE_REQUEST",
    }
    battery = await bl.ok("POST", "/resources", 201, json=by_bl)
    pv = await ven1.ok(
        "POST",
        "/resources",
        201,
        json={"resourceName": "pv", "venID": ven["id"], "objectType": "VEN_RESOURCE_REQUEST"},
    )
    assert pv["clientID"] == "ven-1" and "targets" not in pv
    assert (
        await ven1.call("POST", "/resources", json={"resourceName": "pv", "venID": ven["id"]})
    ).status_code == 409
    assert (
        await ven2.call("POST", "/resources", json={"resourceName": "x", "venID": ven["id"]})
    ).status_code == 400
    assert (
        await ven1.call(
            "POST", "/resources", json={"resourceName": "y", "venID": ven["id"], "targets": ["t"]}
        )
    ).status_code == 403
    listed = await ven1.ok("GET", f"/resources?venID={ven['id']}")
    assert sorted(r["resourceName"] for r in listed) == ["battery", "pv"]
    assert [r["id"] for r in await bl.ok("GET", "/resources?resourceName=battery")] == [battery["id"]]
    assert await ven2.ok("GET", "/resources") == []

    # A program targeted at the resource's target reaches the VEN.
    program = await bl.ok("POST", "/programs", 201, json={"programName": "feeder", "targets": ["feeder-7"]})
    assert program["id"] in [p["id"] for p in await ven1.ok("GET", "/programs")]
    assert program["id"] not in [p["id"] for p in await ven2.ok("GET", "/programs")]
    assert await ven1.ok("DELETE", f"/resources/{pv['id']}") == pv


async def test_notifiers_name_webhooks_only(bl: Oadr, ven1: Oadr) -> None:
    assert await bl.ok("GET", "/notifiers") == {"WEBHOOK": True}
    assert await ven1.ok("GET", "/notifiers") == {"WEBHOOK": True}


async def test_grants_follow_the_ven_object_and_names_cannot_be_dodged(bl: Oadr, ven1: Oadr) -> None:
    ven = await bl.ok(
        "POST",
        "/vens",
        201,
        json={"venName": "v1", "clientID": "ven-1", "objectType": "BL_VEN_REQUEST", "programName": "decoy"},
    )
    # An extra field does not hide the name: venName stays taken.
    twin = {"venName": "v1", "clientID": "ven-2", "objectType": "BL_VEN_REQUEST"}
    assert (await bl.call("POST", "/vens", json=twin)).status_code == 400
    # A resource names the client that owns its VEN object, else 400.
    stolen = {
        "resourceName": "r",
        "venID": ven["id"],
        "clientID": "ven-2",
        "targets": ["g"],
        "objectType": "BL_RESOURCE_REQUEST",
    }
    assert (await bl.call("POST", "/resources", json=stolen)).status_code == 400
    resource = await bl.ok("POST", "/resources", 201, json=stolen | {"clientID": "ven-1"})
    program = await bl.ok(
        "POST", "/programs", 201, json={"programName": "g-only", "targets": ["g", "other-site"]}
    )
    [seen] = [p for p in await ven1.ok("GET", "/programs") if p["id"] == program["id"]]
    assert seen["targets"] == ["g"]  # the other VENs' targets are hidden
    assert await ven1.ok("GET", "/programs?targets=other-site") == []  # and cannot be probed
    # A VEN object with resources is not deleted under them; once they are gone, the grant is.
    assert (await bl.call("DELETE", f"/vens/{ven['id']}")).status_code == 400
    await bl.ok("DELETE", f"/resources/{resource['id']}")
    await bl.ok("DELETE", f"/vens/{ven['id']}")
    assert program["id"] not in [p["id"] for p in await ven1.ok("GET", "/programs")]
