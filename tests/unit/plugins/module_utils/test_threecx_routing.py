"""_threecx_routing: destinations, mapped fields, look-ups; and FakeXapi, the stateful PBX the
routing modules' unit tests run against (imported by tests/unit/plugins/modules/test_threecx_*)."""

import copy
import json
import re
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_inputs as tx
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_routing as r
from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import Engine, Field
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import RetryPolicy
from tests.unit.plugins.fakes import RecordingSleep, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "routing-test-client-secret"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}

NAV = {"Queues": ("Agents", "Managers", "Groups"), "RingGroups": ("Members", "Groups"), "InboundRules": ("TrunkDN",), "Trunks": ("RoutingRules",)}
QUEUE_DEFAULTS = {
    "Name": "",
    "PollingStrategy": "Hunt",
    "RingTimeout": 30,
    "MasterTimeout": 1800,
    "ForwardNoAnswer": {"External": "", "To": "None", "Number": "", "Tags": []},
    "Agents": [],
    "Managers": [],
    "Groups": [],
}
RING_GROUP_DEFAULTS = {
    "Name": "",
    "RingStrategy": "Hunt",
    "RingTime": 30,
    "ForwardNoAnswer": {"External": "", "To": "None", "Number": "", "Tags": []},
    "Members": [],
    "Groups": [],
}
UNUSED = {"TrunkId": -1, "TrunkName": None, "StripDigits": 0, "Prepend": "", "Append": "", "CallerID": ""}
DEFAULTS = {
    "Queues": QUEUE_DEFAULTS,
    "RingGroups": RING_GROUP_DEFAULTS,
    "InboundRules": {"RuleName": "", "Condition": "BasedOnDID", "Data": "", "CallType": "AllCalls", "TrunkDN": None},
    "OutboundRules": {"Name": "", "Prefix": "", "GroupIds": [], "GroupNames": [], "DNRanges": [], "NumberLengthRanges": "", "Routes": []},
}


class Dropped(requests.exceptions.ConnectionError):
    pass


class FakeXapi(BaseAdapter):
    """A small stateful 3CX XAPI: the collections the routing modules use, OData key/filter/expand,
    MoveUpDown, and scripted faults. Every request is recorded in ``sent``."""

    def __init__(self, version="20.0.10"):
        super().__init__()
        self.version = version
        self.sent = []
        self.faults = []
        self.ids = 100
        self.data = {name: {} for name in ("Queues", "RingGroups", "InboundRules", "OutboundRules", "Users", "Trunks", "Groups")}
        for number in ("100", "101", "102", "103", "104", "105"):
            self.add("Users", {"Number": number, "FirstName": "User", "LastName": number})
        self.add("Groups", {"Name": "DEFAULT", "Number": "GRP0000"})
        self.add("Groups", {"Name": "Sales", "Number": "GRP0001"})
        self.token_valid = True

    def vt(self):
        return tuple(int(x) for x in self.version.split("."))

    # ---- state helpers
    def add(self, collection, obj):
        self.ids += 1
        obj = copy.deepcopy(obj)
        obj.setdefault("Id", self.ids)
        if collection == "OutboundRules":
            obj.setdefault("Priority", max([o["Priority"] for o in self.data[collection].values()] + [0]) + 1)
            routes = obj.get("Routes") or []
            obj["Routes"] = [dict(UNUSED, **x) for x in routes] + [dict(UNUSED) for _ignored in range(5 - len(routes))]
            for route in obj["Routes"]:
                trunk = self.data["Trunks"].get(route["TrunkId"])
                route["TrunkName"] = (trunk or {}).get("Gateway", {}).get("Name")
            obj["GroupNames"] = [self.data["Groups"][g]["Name"] for g in obj.get("GroupIds") or [] if g in self.data["Groups"]]
        self.data[collection][obj["Id"]] = obj
        return obj

    def all(self, collection):
        return list(self.data[collection].values())

    def add_trunk(self, name, number, dids=()):
        return self.add("Trunks", {"Number": number, "Gateway": {"Name": name, "Host": "h.example.com"}, "DidNumbers": list(dids)})

    def writes(self):
        return [(m, p, b) for m, p, b in self.sent if m != "GET" and p != "/connect/token"]

    def fault(self, method, path, action, times=1):
        self.faults.append([method, path, action, times])

    # ---- transport
    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        path = unquote(url.path)
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        if path == "/connect/token":
            self.sent.append((request.method, path, None))
            self.token_valid = True
            return self.reply(request, 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": "tok", "refresh_token": None})
        xpath = path.split("/xapi/v1", 1)[1]
        parsed = json.loads(body) if body else None
        self.sent.append((request.method, xpath, copy.deepcopy(parsed)))
        query = dict((k, v[0]) for k, v in parse_qs(url.query).items())
        for fault in self.faults:
            method, fpath, action, times = fault
            if times > 0 and method == request.method and re.search(fpath, xpath):
                fault[3] -= 1
                if action == "drop":
                    raise Dropped("connection dropped")
                if action == "commit_then_drop":
                    self.handle(request.method, xpath, query, parsed)
                    raise Dropped("connection dropped after commit")
                if action == "revoke":
                    self.token_valid = False
                    break
                return self.reply(request, action, {"error": {"code": str(action), "message": "fault"}}, {"Retry-After": "1"})
        if not self.token_valid:
            return self.reply(request, 401, {"error": {"code": "401", "message": "token revoked"}})
        status, out = self.handle(request.method, xpath, query, parsed)
        return self.reply(request, status, out)

    def handle(self, method, path, query, body):
        if path == "/Defs/Pbx.GetSystemParameters()":
            return 200, {"Version": self.version + ".100"}
        if path == "/OutboundRules/Pbx.MoveUpDown" and method == "POST":
            rules = sorted(self.all("OutboundRules"), key=lambda o: o["Priority"])
            index = [o["Id"] for o in rules].index(body["id"])
            other = index - 1 if body["up"] else index + 1
            if 0 <= other < len(rules):
                rules[index]["Priority"], rules[other]["Priority"] = rules[other]["Priority"], rules[index]["Priority"]
            return 204, None
        m = re.match(r"^/(\w+)(?:\((?:Number='([^']*)'|(\d+))\)|/Pbx\.GetByNumber\(number='([^']*)'\))?$", path)
        if not m or m.group(1) not in self.data:
            return 404, {"error": {"code": "404", "message": "no route %s" % path}}
        collection, by_number, by_id, by_function = m.groups()
        if by_number is not None and self.vt() < (20, 0, 8):
            return 400, {"error": {"code": "400", "message": "Number keys need 20.0.8"}}
        if by_function is not None and self.vt() >= (20, 0, 8):
            return 404, {"error": {"code": "404", "message": "GetByNumber was removed in 20.0.8"}}
        number = by_number if by_number is not None else by_function
        if number is None and by_id is None:
            if method == "GET":
                items = [self.view(collection, o, query) for o in self.all(collection) if self.matches(o, query.get("$filter"))]
                if query.get("$orderby"):
                    items.sort(key=lambda o: o.get(query["$orderby"]))
                return 200, {"@odata.context": "x", "value": items}
            if method == "POST":
                unknown = set(body) - set(DEFAULTS[collection]) - {"Number", "Id"}
                if collection == "InboundRules":
                    unknown -= {"OfficeHoursDestination", "OutOfOfficeHoursDestination"}
                if unknown:
                    return 400, {"error": {"code": "400", "message": "unknown %s" % sorted(unknown)}}
                obj = copy.deepcopy(DEFAULTS[collection])
                if collection in ("Queues", "RingGroups"):
                    # A new group is in the default department unless the POST names others (as the lab does).
                    obj["Groups"] = [{"GroupId": g["Id"]} for g in self.all("Groups") if g["Name"] == "DEFAULT"]
                obj.update(body)
                obj = self.add(collection, self.normalise(collection, obj))
                return 201, self.view(collection, obj, {})
            return 405, None
        found = [
            o for o in self.all(collection) if (by_id is not None and o["Id"] == int(by_id)) or (number is not None and o.get("Number") == number)
        ]
        if not found:
            return 404, {"error": {"code": "404", "message": "not found"}}
        obj = found[0]
        if method == "GET":
            return 200, self.view(collection, obj, query)
        if method == "PATCH":
            if "Number" in body and body["Number"] != obj.get("Number"):
                return 400, {"error": {"code": "400", "message": "Number cannot be changed"}}
            for key, value in body.items():
                if isinstance(value, dict) and isinstance(obj.get(key), dict):
                    obj[key].update(value)
                else:
                    obj[key] = copy.deepcopy(value)
            self.normalise(collection, obj)
            return 204, None
        if method == "DELETE":
            del self.data[collection][obj["Id"]]
            return 204, None
        return 405, None

    def normalise(self, collection, obj):
        users = dict((u["Number"], u) for u in self.all("Users"))
        for key in ("Agents", "Members"):
            if key in obj:
                obj[key] = [{"Id": users[a["Number"]]["Id"], "Number": a["Number"], "Name": "User " + a["Number"], "Tags": []} for a in obj[key]]
        if collection in ("Queues", "RingGroups") and isinstance(obj.get("Groups"), list):
            obj["Groups"] = [
                {"GroupId": g["GroupId"], "Name": self.data["Groups"][g["GroupId"]]["Name"], "Number": self.data["Groups"][g["GroupId"]]["Number"]}
                for g in obj["Groups"]
            ]
        if collection == "InboundRules" and isinstance(obj.get("TrunkDN"), dict):
            trunk = self.data["Trunks"].get(obj["TrunkDN"].get("Id"))
            obj["TrunkDN"] = {"Id": trunk["Id"], "Number": trunk["Number"], "Name": trunk["Gateway"]["Name"], "Type": "ExternalLine"}
        if collection == "OutboundRules" and "Routes" in obj:
            for route in obj["Routes"]:
                route["TrunkName"] = (self.data["Trunks"].get(route.get("TrunkId")) or {}).get("Gateway", {}).get("Name")
            obj["GroupNames"] = [self.data["Groups"][g]["Name"] for g in obj.get("GroupIds") or [] if g in self.data["Groups"]]
        return obj

    def view(self, collection, obj, query):
        out = copy.deepcopy(obj)
        expand = (query.get("$expand") or "").split(",")
        for nav in NAV.get(collection, ()):
            if nav not in expand:
                out.pop(nav, None)
        return out

    @staticmethod
    def matches(obj, text):
        if not text:
            return True
        for clause in text.split(" or "):
            field, _eq, literal = clause.partition(" eq ")
            if str(obj.get(field)) == literal.strip()[1:-1].replace("''", "'"):
                return True
        return False

    @staticmethod
    def reply(request, status, body, headers=None):
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers or {})
        response._content = b"" if body is None else json.dumps(body).encode()
        response.request = request
        response.url = request.url
        response.encoding = "utf-8"
        return response

    def close(self):
        pass


def install(monkeypatch, tmp_path, fake):
    """Make every ThreeCXClient the modules build talk to ``fake``, without sleeping on retries."""
    real = _threecx.ThreeCXClient

    def factory(*args, **kwargs):
        kwargs["session"] = session_with(fake)
        kwargs["token_cache"] = _threecx.TokenCache(str(tmp_path))
        kwargs["retry"] = RetryPolicy(max_retries=kwargs["retry"].max_retries, sleep=RecordingSleep())
        return real(*args, **kwargs)

    monkeypatch.setattr(_threecx, "ThreeCXClient", factory)
    return fake


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    return install(monkeypatch, tmp_path, FakeXapi())


def runner(main):
    def run(monkeypatch, check=False, diff=True, **args):
        return run_module(main, dict(CONN, _ansible_check_mode=check, _ansible_diff=diff, **args), monkeypatch)

    return run


# ============================================================================ the helpers


@pytest.mark.parametrize(
    "dest,fragment",
    [
        ({"type": "external", "number": None, "external": None}, "type external needs 'external'"),
        ({"type": "external", "number": "100", "external": "+14155550100"}, "not in 'number'"),
        ({"type": "external", "number": None, "external": "415-555"}, "must be a phone number"),
        ({"type": "external", "number": None, "external": "sip:@x.example.com"}, "has no user part"),
        ({"type": "external", "number": None, "external": "sip:+1415@bad_host"}, "host name"),
        ({"type": "queue", "number": None, "external": None}, "type queue needs 'number'"),
        ({"type": "queue", "number": "8o0", "external": None}, "must contain only digits"),
        ({"type": "voicemail", "number": None, "external": None}, "voicemail takes the call"),
        ({"type": "extension", "number": "100", "external": "+1415"}, "not 'external'"),
        ({"type": "none", "number": "100", "external": None}, "takes neither"),
    ],
)
def test_bad_destinations_name_the_option(dest, fragment):
    with pytest.raises(ValueError) as err:
        tx.check_destination("no_answer_destination", dest)
    assert fragment in str(err.value)
    assert str(err.value).startswith("no_answer_destination")


def test_destinations_map_to_the_api_and_back():
    ext = tx.check_destination("d", {"type": "external", "number": None, "external": "+14155550100"})
    assert r.destination_to_api(ext) == {"To": "External", "Number": "", "External": "+14155550100"}
    assert r.destination_from_api({"To": "External", "External": "+14155550100", "Number": "", "Tags": []}) == ext
    sip = tx.check_destination("d", {"type": "external", "number": None, "external": "sip:+14155550100@a.sip.us1.twilio.com"})
    assert r.destination_to_api(sip)["External"] == "sip:+14155550100@a.sip.us1.twilio.com"
    queue = {"type": "queue", "number": "800", "external": None}
    assert r.destination_to_api(queue) == {"To": "Queue", "Number": "800", "External": ""}
    assert r.destination_from_api({"To": "Queue", "Number": "800", "External": None}) == queue
    assert r.destination_to_api({"type": "ring_group", "number": "700"})["To"] == "RingGroup"
    assert r.destination_to_api({"type": "voicemail", "number": "100"})["To"] == "VoiceMail"
    assert r.destination_from_api({"To": "None", "Number": "", "External": ""}) == {"type": "none", "number": None, "external": None}
    assert r.destination_from_api(None) is None


def test_destination_compare_looks_only_at_what_routes_the_call():
    # A stale Number on an External destination does not make a change.
    current = r.destination_from_api({"To": "External", "External": "+1415", "Number": "126"})
    assert not r.destination_differs(current, {"type": "external", "number": None, "external": "+1415"})
    assert r.destination_differs(current, {"type": "external", "number": None, "external": "+1416"})
    assert r.destination_differs(None, {"type": "queue", "number": "800", "external": None})
    assert not r.destination_differs(None, {"type": "none", "number": None, "external": None})
    assert not r.destination_differs(current, None)


def test_numbers_field_is_a_set_and_encodes_the_full_list():
    field = r.numbers_field("agents", "Agents")
    assert field.read({"Agents": [{"Number": "101", "Id": 2}, {"Number": "100", "Id": 1}]}) == ["100", "101"]
    assert field.read({}) == []
    assert not field.differs(["100", "101"], ["101", "100"])
    assert field.differs(["100"], [])
    fields = r.ApiFieldMap(field, r.enum_field("strategy", "PollingStrategy", {"ring_all": "RingAll"}))
    assert fields.to_api({"agents": ["101", "100"], "strategy": "ring_all"}) == {
        "Agents": [{"Number": "100"}, {"Number": "101"}],
        "PollingStrategy": "RingAll",
    }
    assert fields.from_api({"PollingStrategy": "RingAll"})["strategy"] == "ring_all"
    assert fields.from_api({"PollingStrategy": "Mystery"})["strategy"] == "Mystery"  # unknown values are shown, not hidden


def test_engine_runs_on_desired_values_the_module_resolved():
    class Module:
        params = {"trunk": "Twilio", "trunk_id": None}
        check_mode = True
        _diff = True

    fields = r.ApiFieldMap(
        r.Mapped("trunk_id", "TrunkDN", decode=lambda v: (v or {}).get("Id"), encode=lambda v: {"Id": v}), Field("id", "Id", read_only=True)
    )
    engine = Engine(r.Desired(Module(), trunk_id=5), fields, result_key="x", kind="x")
    result = engine.present({"Id": 1, "TrunkDN": {"Id": 4, "Name": "Old"}}, update=lambda c, p: None)
    assert result["changed"] and result["diff"] == {"before": {"trunk_id": 4}, "after": {"trunk_id": 5}}
    assert result["x"]["trunk_id"] == 5


def make_client(fake):
    return _threecx.ThreeCXClient(CONN["url"], "ansible", SECRET, session=session_with(fake), retry=RetryPolicy(max_retries=0))


def test_find_trunk_by_name_then_number_and_fails_clearly():
    fake = FakeXapi()
    twilio = fake.add_trunk("Twilio SIP Domain Trunk", "10000", ["+14155550100"])
    fake.add_trunk("PSTN", "10001")
    client = make_client(fake)
    assert r.find_trunk(client, "Twilio SIP Domain Trunk")["Id"] == twilio["Id"]
    assert r.find_trunk(client, "10000")["Id"] == twilio["Id"]
    with pytest.raises(ValueError) as err:
        r.find_trunk(client, "Nope")
    assert "no trunk named or numbered 'Nope'" in str(err.value) and "'PSTN' (10001)" in str(err.value)
    fake.add_trunk("PSTN", "10002")
    with pytest.raises(ValueError) as err:
        r.find_trunk(client, "PSTN")
    assert "2 trunks are named 'PSTN'" in str(err.value)
    # One read, with a $select; no write.
    assert all(m == "GET" for m, _p, _b in fake.sent if _p != "/connect/token")


def test_check_extensions_is_one_get_and_names_the_unknown_ones():
    fake = FakeXapi()
    client = make_client(fake)
    r.check_extensions(client, "agents", ["100", "101"])
    with pytest.raises(ValueError) as err:
        r.check_extensions(client, "agents", ["100", "999", "998"])
    assert "agents: no extension '998', '999' on the PBX" in str(err.value)
    gets = [p for m, p, _b in fake.sent if p == "/Users"]
    assert len(gets) == 2


def test_find_groups_maps_names_to_ids():
    fake = FakeXapi()
    client = make_client(fake)
    ids = dict((g["Name"], g["Id"]) for g in fake.all("Groups"))
    assert r.find_groups(client, "departments", ["Sales", "DEFAULT"]) == sorted(ids.values())
    with pytest.raises(ValueError) as err:
        r.find_groups(client, "departments", ["Support"])
    assert "no department 'Support'" in str(err.value)


@pytest.mark.parametrize(
    "version,path", [("20.0.10", "/Queues(Number='800')"), ("20.0.8", "/Queues(Number='800')"), ("20.0.7", "/Queues/Pbx.GetByNumber(number='800')")]
)
def test_find_by_number_uses_the_syntax_of_the_version(version, path):
    fake = FakeXapi(version)
    fake.add("Queues", dict(QUEUE_DEFAULTS, Number="800", Agents=[{"Number": "100"}]))
    client = make_client(fake)
    found = r.find_by_number(client, "Queues", "800", expand=["Agents"])
    assert found["Number"] == "800" and found["Agents"]
    assert fake.sent[-1][1] == path  # the read that found it
    assert r.find_by_number(client, "Queues", "801") is None


def test_check_destination_target_reads_only():
    fake = FakeXapi()
    fake.add("Queues", dict(QUEUE_DEFAULTS, Number="800"))
    client = make_client(fake)
    r.check_destination_target(client, "destination", {"type": "queue", "number": "800"})
    with pytest.raises(ValueError) as err:
        r.check_destination_target(client, "destination", {"type": "ring_group", "number": "700"})
    assert "no ring group '700'" in str(err.value)
    with pytest.raises(ValueError):
        r.check_destination_target(client, "destination", {"type": "extension", "number": "555"})
    r.check_destination_target(client, "destination", {"type": "external", "external": "+1415"})
    assert fake.writes() == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_assume_in_check_mode_turns_only_a_missing_reference_into_a_warning(check_mode):
    class Module:
        def __init__(self):
            self.check_mode = check_mode
            self.warnings = []

        def warn(self, msg):
            self.warnings.append(msg)

    def missing(name):
        raise r.MissingReference("trunk: no trunk %r" % name, "trunk", "trunk %r" % name)

    def broken(name):
        raise ValueError("trunk: 2 trunks are named %r" % name)

    module = Module()
    assert r.assume_in_check_mode(module, lambda name: {"Id": 5}, "PSTN") == {"Id": 5}
    with pytest.raises(ValueError, match="2 trunks are named"):
        r.assume_in_check_mode(module, broken, "PSTN")  # not a missing object: an error in check mode too
    if check_mode:
        assert r.assume_in_check_mode(module, missing, "PSTN") is None
        assert module.warnings == [
            "trunk: trunk 'PSTN' does not exist on the PBX; check mode assumes that an earlier task in the same play creates it "
            "and predicts the change (a run without check mode fails if it still does not exist)"
        ]
    else:
        with pytest.raises(r.MissingReference, match="^trunk: no trunk 'PSTN'$"):
            r.assume_in_check_mode(module, missing, "PSTN")
        assert module.warnings == []


def test_only_a_missing_queue_or_ring_group_is_a_missing_reference():
    fake = FakeXapi()
    client = make_client(fake)
    with pytest.raises(r.MissingReference) as err:
        r.check_destination_target(client, "destination", {"type": "queue", "number": "800"})
    assert (err.value.option, err.value.missing) == ("destination", "queue '800'")
    with pytest.raises(ValueError) as err:
        r.check_destination_target(client, "destination", {"type": "extension", "number": "555"})
    assert not isinstance(err.value, r.MissingReference)  # extensions are never made by this collection
    with pytest.raises(r.MissingReference) as err:
        r.find_trunk(client, "PSTN")
    assert (err.value.option, err.value.missing) == ("trunk", "trunk 'PSTN'")
    fake.add_trunk("PSTN", "10001")
    fake.add_trunk("PSTN", "10002")
    with pytest.raises(ValueError) as err:
        r.find_trunk(client, "PSTN")
    assert not isinstance(err.value, r.MissingReference)  # two trunks of one name: never assumed away
