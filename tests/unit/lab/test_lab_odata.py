import pytest

from lab.threecx import odata
from lab.threecx.odata import ODataError, apply_query, parse_filter, parse_key, quote

ROWS = [
    {"Id": 1, "Number": "800", "Name": "Sales", "RingTimeout": 10, "Gateway": {"Name": "gw-a"}, "Agents": [1]},
    {"Id": 2, "Number": "801", "Name": "O'Brien's desk", "RingTimeout": 30, "Gateway": {"Name": "gw-b"}, "Agents": []},
    {"Id": 3, "Number": "802", "Name": "Support", "RingTimeout": 30, "Gateway": None, "Agents": [2, 3]},
]


def run(query, **kw):
    kw.setdefault("type_name", "Pbx.Queue")
    kw.setdefault("nav_props", {"Agents"})
    return apply_query(ROWS, {k: [v] for k, v in query.items()}, **kw)


@pytest.mark.parametrize(
    "value, literal",
    [
        ("800", "'800'"),
        ("O'Brien", "'O''Brien'"),
        ("''", "''''''"),
        (7, "7"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_quote(value, literal):
    assert quote(value) == literal


def test_quote_round_trips_through_the_parser():
    for text in ["O'Brien's desk", "a''b", "'", ""]:
        assert parse_filter(f"Name eq {quote(text)}") == ("cmp", "eq", ("prop", ["Name"]), ("lit", text))


@pytest.mark.parametrize(
    "expr, ids",
    [
        ("Number eq '800'", [1]),
        ("RingTimeout eq 30", [2, 3]),
        ("RingTimeout eq 30 and Number eq '802'", [3]),
        ("Number eq '800' or Number eq '802'", [1, 3]),
        ("not (RingTimeout eq 30)", [1]),
        ("Name eq 'O''Brien''s desk'", [2]),
        ("Gateway/Name eq 'gw-b'", [2]),
        ("RingTimeout gt 10 and RingTimeout le 30", [2, 3]),
        ("startswith(Name,'Su')", [3]),
        ("contains(tolower(Name),'sales')", [1]),
        ("Number ne '800'", [2, 3]),
        ("Gateway eq null", [3]),
    ],
)
def test_filter(expr, ids):
    rows, _ignored = run({"$filter": expr})
    assert [r["Id"] for r in rows] == ids


@pytest.mark.parametrize("expr", ["Number eq", "Number eq '800", "(Number eq '1'", "Number eq '1' extra", "frob(Name)"])
def test_filter_syntax_errors_are_400(expr):
    with pytest.raises(ODataError) as exc:
        run({"$filter": expr})
    assert exc.value.status == 400


def test_filter_on_unknown_property_is_refused():
    with pytest.raises(ODataError, match="Nope"):
        run({"$filter": "Nope eq 1"}, known_props={"Id", "Number", "Name", "RingTimeout", "Gateway"})


def test_select_expand_top_skip_count():
    rows, count = run({"$select": "Id,Name", "$top": "1", "$skip": "1", "$count": "true"})
    assert rows == [{"Id": 2, "Name": "O'Brien's desk"}]
    assert count == 3
    rows, count = run({"$expand": "Agents", "$select": "Id"})
    assert rows[0] == {"Id": 1, "Agents": [1]} and count is None
    rows, _ignored = run({})
    assert "Agents" not in rows[0], "navigation properties are only returned when expanded"


def test_orderby():
    rows, _ignored = run({"$orderby": "RingTimeout desc,Number desc", "$select": "Id"})
    assert [r["Id"] for r in rows] == [3, 2, 1]


@pytest.mark.parametrize("query", [{"$select": "Nope"}, {"$expand": "Name"}, {"$top": "-1"}, {"$count": "yes"}, {"$apply": "x"}])
def test_bad_options_are_400(query):
    with pytest.raises(ODataError) as exc:
        run(query)
    assert exc.value.status == 400


@pytest.mark.parametrize(
    "segment, parsed",
    [
        ("64", (None, 64)),
        ("Number='800'", ("Number", "800")),
        ("'X.pv.xml'", (None, "X.pv.xml")),
        ("Number='O''B'", ("Number", "O'B")),
    ],
)
def test_parse_key(segment, parsed):
    assert parse_key(segment) == parsed


def test_envelope_and_error_shape():
    env = odata.envelope("https://h", "Queues", [{"Id": 1}], count=1)
    assert env == {"@odata.context": "https://h/xapi/v1/$metadata#Queues", "@odata.count": 1, "value": [{"Id": 1}]}
    assert ODataError(400, "m", "c").body() == {"error": {"code": "c", "message": "m", "target": None, "details": [], "innerError": {}}}
