import pytest

from lab.threecx.odata import ODataError
from lab.threecx.store import Collection, Singleton

DEFAULTS = {"Number": "", "Name": "", "RingTimeout": 30, "Enabled": True, "Agents": []}


def make():
    return Collection(
        "Queues",
        "Pbx.Queue",
        DEFAULTS,
        alt_keys=("Number",),
        nav_props=("Agents",),
        immutable=("Number",),
        unique=("Number",),
        first_id=64,
    )


def test_crud_and_keys():
    coll = make()
    created = coll.create({"Number": "800", "Name": "Sales"})
    assert created["Id"] == 64 and created["RingTimeout"] == 30
    assert coll.get("64", {}, "https://h")["Name"] == "Sales"
    assert coll.get("Number='800'", {}, "https://h")["Id"] == 64
    coll.patch("64", {"RingTimeout": 10})
    listing = coll.list({"$filter": ["RingTimeout eq 10"]}, "https://h")
    assert [q["Id"] for q in listing["value"]] == [64]
    assert listing["@odata.context"].endswith("$metadata#Queues")
    coll.delete("Number='800'")
    with pytest.raises(ODataError) as exc:
        coll.get("64", {}, "https://h")
    assert exc.value.status == 404


@pytest.mark.parametrize(
    "body, message",
    [
        ({"Bogus": 1}, "does not exist"),
        ({"RingTimeout": "ten"}, "Cannot convert"),
        ({"Enabled": 1}, "Cannot convert"),
        ([1], "JSON object"),
    ],
)
def test_create_rejects_bad_bodies(body, message):
    with pytest.raises(ODataError, match=message) as exc:
        make().create(body)
    assert exc.value.status == 400


def test_number_is_immutable_and_unique():
    coll = make()
    coll.create({"Number": "800"})
    coll.create({"Number": "801"})
    with pytest.raises(ODataError, match="cannot be changed"):
        coll.patch("64", {"Number": "900"})
    with pytest.raises(ODataError) as exc:
        coll.create({"Number": "800"})
    assert exc.value.status == 409


def test_invalid_int32_key():
    with pytest.raises(ODataError):
        make().resolve("4294967296")


def test_singleton_patch_select_reset():
    single = Singleton("E164Settings", "Pbx.E164Settings", {"Enabled": True, "CountryCode": "1"})
    single.patch({"Enabled": False})
    got = single.get({"$select": ["Enabled"]}, "https://h")
    assert got == {"@odata.context": "https://h/xapi/v1/$metadata#E164Settings(Enabled)", "Enabled": False}
    with pytest.raises(ODataError, match="does not exist"):
        single.patch({"Foo": 1})
    single.reset()
    assert single.value["Enabled"] is True
