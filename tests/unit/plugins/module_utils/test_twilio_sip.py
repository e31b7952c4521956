"""_twilio_sip helpers, and FakeTwilio: a small stateful Twilio SIP API the module tests run against.

FakeTwilio is a requests adapter mounted on the SDK's session: it keeps domains, IP ACLs and their
entries, credential lists and credentials, the Auth/Calls, Auth/Registrations and legacy mappings
and TwiML Apps of one account, pages lists, and can script faults (a status with Retry-After, a
dropped connection, a create that commits and then drops its reply). Every request is recorded
with the host the SDK chose (X-Forwarded-Host) and its form body, and its query in ``queries``.

It also keeps a read-only call log (``add_call``): ``Calls.json`` newest first (by date_created) with
the ``To``, ``From`` and ``Status`` filters, and ``Calls/{Sid}.json``.
"""

import datetime
import email.utils
import json
import re
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio as tw
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_regions as regions
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _twilio_sip as sip
from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import RetryPolicy
from ansible_collections.voip.threecx_twilio.plugins.module_utils._validation import check_http_url, check_sid, check_sip_domain_name

AC = "AC" + "1" * 32
TOKEN = "fake-auth-token-0123456789"
API_SECRET = "fake-api-secret-0123456789"

BOOLS = {"sip_registration", "secure", "emergency_calling_enabled", "voice_caller_id_lookup", "public_application_connect_enabled"}
INTS = {"cidr_prefix_length"}
SECRETS = {"password"}

# (name, path regex below /Accounts/{AC}/, SID prefix, data key, parent group name or None, maps (param, target))
COLLECTIONS = [
    ("applications", r"Applications", "AP", "applications", None, None),
    ("domains", r"SIP/Domains", "SD", "domains", None, None),
    ("calls_acl_maps", r"SIP/Domains/(?P<parent>SD\w+)/Auth/Calls/IpAccessControlListMappings", None, "contents", "domains",
     ("IpAccessControlListSid", "acls")),
    ("calls_cl_maps", r"SIP/Domains/(?P<parent>SD\w+)/Auth/Calls/CredentialListMappings", None, "contents", "domains", ("CredentialListSid", "cls")),
    ("reg_cl_maps", r"SIP/Domains/(?P<parent>SD\w+)/Auth/Registrations/CredentialListMappings", None, "contents", "domains", ("CredentialListSid", "cls")),
    ("legacy_acl_maps", r"SIP/Domains/(?P<parent>SD\w+)/IpAccessControlListMappings", None, "ip_access_control_list_mappings", "domains",
     ("IpAccessControlListSid", "acls")),
    ("legacy_cl_maps", r"SIP/Domains/(?P<parent>SD\w+)/CredentialListMappings", None, "credential_list_mappings", "domains", ("CredentialListSid", "cls")),
    ("acls", r"SIP/IpAccessControlLists", "AL", "ip_access_control_lists", None, None),
    ("ips", r"SIP/IpAccessControlLists/(?P<parent>AL\w+)/IpAddresses", "IP", "ip_addresses", "acls", None),
    ("cls", r"SIP/CredentialLists", "CL", "credential_lists", None, None),
    ("creds", r"SIP/CredentialLists/(?P<parent>CL\w+)/Credentials", "CR", "credentials", "cls", None),
    ("calls", r"Calls", "CA", "calls", None, None),
]

# The call log's list filters: query parameter -> field.
CALL_FILTERS = {"To": "to", "From": "from", "Status": "status"}

DEFAULTS = {
    "domains": {
        "voice_method": "POST", "voice_fallback_method": "POST", "voice_status_callback_method": "POST", "voice_url": None,
        "voice_fallback_url": None, "voice_status_callback_url": None, "friendly_name": None, "sip_registration": False,
        "secure": False, "emergency_calling_enabled": False, "byoc_trunk_sid": None, "emergency_caller_sid": None, "api_version": "2010-04-01",
    },
    "applications": {"voice_method": "POST", "voice_fallback_method": "POST", "voice_url": None, "voice_fallback_url": None, "friendly_name": None},
    "ips": {"cidr_prefix_length": 0},
}


def snake(param):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", param).lower()


class Drop(requests.exceptions.ConnectionError):
    pass


class FakeTwilio(BaseAdapter):
    def __init__(self, shared_mappings=False, taken=()):
        super().__init__()
        self.data = dict((c[0], {}) for c in COLLECTIONS)
        self.passwords = {}
        self.sent = []
        self.queries = []  # (method, path, parsed query) per request
        self.faults = []
        self.shared_mappings = shared_mappings
        self.taken = set(taken)  # domain names held by other accounts
        # POST Calls.json: None refuses it (the log is read-only); a test gives a function(form) -> record
        # that places the call (logs it, and whatever its PSTN leg brings).
        self.on_call_create = None

    # ---- test helpers -------------------------------------------------------------------------
    def fault(self, method, path, action, times=1, status=None, retry_after=None):
        self.faults.append({"method": method, "path": re.compile(path), "action": action, "times": times, "status": status, "retry_after": retry_after})

    def add(self, name, parent=None, **fields):
        """Make a record directly (resources made outside Ansible)."""
        col = self._col(name)
        rec = dict(DEFAULTS.get(name, {}), **fields)
        if "sid" not in rec:
            rec["sid"] = col[2] + uuid.uuid4().hex
        rec["account_sid"] = AC
        if parent:
            rec["_parent"] = parent
        self.data[self._store(name)][rec["sid"] + (parent or "")] = rec
        return rec

    def add_call(self, from_, to, created, status="completed", **fields):
        """Log a call created at ``created`` (an aware datetime); dates are rendered in RFC 2822 like Twilio's."""
        answered = status == "completed"
        rec = {
            "from": from_, "to": to, "status": status, "from_formatted": from_, "to_formatted": to, "direction": "inbound",
            "parent_call_sid": None, "caller_name": None, "trunk_sid": None, "price": None, "api_version": "2010-04-01",
            "date_created": email.utils.format_datetime(created), "date_updated": email.utils.format_datetime(created),
            "start_time": email.utils.format_datetime(created) if answered else None,
            "end_time": email.utils.format_datetime(created + datetime.timedelta(seconds=12)) if answered else None,
            "duration": "12" if answered else "0",
        }
        rec.update(fields)
        return self.add("calls", **rec)

    def rows(self, name, parent=None):
        return [r for r in self.data[self._store(name)].values() if parent is None or r.get("_parent") == parent]

    def writes(self):
        return [s for s in self.sent if s[0] != "GET"]

    def reads(self):
        return [s for s in self.sent if s[0] == "GET"]

    # ---- internals ----------------------------------------------------------------------------
    def _col(self, name):
        return next(c for c in COLLECTIONS if c[0] == name)

    def _store(self, name):
        if self.shared_mappings:
            return {"legacy_acl_maps": "calls_acl_maps", "legacy_cl_maps": "calls_cl_maps"}.get(name, name)
        return name

    def _render(self, name, rec):
        out = dict((k, v) for k, v in rec.items() if not k.startswith("_"))
        if name == "domains":
            kinds = []
            if self.rows("calls_acl_maps", rec["sid"]) or self.rows("legacy_acl_maps", rec["sid"]):
                kinds.append("IP_ACL")
            if self.rows("calls_cl_maps", rec["sid"]) or self.rows("legacy_cl_maps", rec["sid"]):
                kinds.append("CREDENTIAL_LIST")
            out["auth_type"] = ",".join(kinds)
            out["date_created"] = out["date_updated"] = "Tue, 14 Apr 2026 10:00:00 +0000"
        return out

    def _reply(self, request, status, body=None, headers=None):
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers or {})
        response._content = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url
        response.encoding = "utf-8"
        return response

    @staticmethod
    def _error(status, code, message):
        return {"code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status}

    def send(self, request, **kwargs):
        url = urlsplit(request.url)
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        form = dict((k, v[-1]) for k, v in parse_qs(body, keep_blank_values=True).items())
        host = request.headers.get("X-Forwarded-Host") or url.netloc
        self.sent.append((request.method, host, url.path, form))
        self.queries.append((request.method, url.path, parse_qs(url.query)))
        action = None
        for fault in self.faults:
            if fault["times"] > 0 and fault["method"] in (None, request.method) and fault["path"].search(url.path):
                fault["times"] -= 1
                action = fault
                break
        if action is not None and action["action"] == "status":
            headers = {"Retry-After": str(action["retry_after"])} if action["retry_after"] is not None else {}
            code = 20429 if action["status"] == 429 else 20000 + action["status"]
            return self._reply(request, action["status"], self._error(action["status"], code, "scripted"), headers)
        if action is not None and action["action"] == "drop":
            raise Drop("Connection aborted.")
        status, out = self._handle(request.method, url.path, parse_qs(url.query), form)
        if action is not None and action["action"] == "commit_then_drop":
            raise Drop("Connection aborted.")
        return self._reply(request, status, out)

    def _handle(self, method, path, query, form):
        m = re.match(r"^/2010-04-01/Accounts/(AC\w+)/(.+?)(?:/(\w{34}))?\.json$", path)
        if not m or m.group(1) != AC:
            return 404, self._error(404, 20404, "not found %s" % path)
        rel, sid = m.group(2), m.group(3)
        for name, pattern, prefix, data_key, parent_group, maps in COLLECTIONS:
            pm = re.match("^%s$" % pattern, rel)
            if not pm:
                continue
            parent = pm.groupdict().get("parent")
            if parent is not None and self._get(parent_group, parent) is None:
                return 404, self._error(404, 20404, "parent %s not found" % parent)
            if name == "calls" and method == "POST" and sid is None and self.on_call_create is not None:
                return 201, self._render(name, self.on_call_create(form))
            if name == "calls" and method != "GET":
                return 405, self._error(405, 20004, "the fake call log is read-only")
            if sid is None and method == "GET":
                return 200, self._list(name, data_key, parent, query, path)
            if sid is None and method == "POST":
                return self._create(name, prefix, parent, maps, form)
            rec = self.data[self._store(name)].get(sid + (parent or ""))
            if rec is None:
                return 404, self._error(404, 20404, "The requested resource %s was not found" % path)
            if method == "GET":
                return 200, self._render(name, rec)
            if method == "POST":
                return self._update(name, rec, form)
            if method == "DELETE":
                self._delete(name, rec)
                return 204, None
        return 404, self._error(404, 20404, "no route %s" % path)

    def _get(self, name, sid):
        return self.data[self._store(name)].get(sid)

    def _list(self, name, data_key, parent, query, path):
        rows = [self._render(name, r) for r in self.rows(name, parent)]
        if "FriendlyName" in query:
            rows = [r for r in rows if r.get("friendly_name") == query["FriendlyName"][-1]]
        if name == "calls":
            for param, field in CALL_FILTERS.items():
                if param in query:
                    rows = [r for r in rows if r.get(field) == query[param][-1]]
            # Newest first; of two calls with the same date_created, the one logged later first.
            rows = sorted(reversed(rows), key=lambda r: email.utils.parsedate_to_datetime(r["date_created"]), reverse=True)
        size = int(query.get("PageSize", ["50"])[-1])
        page = int(query.get("Page", ["0"])[-1])
        chunk = rows[page * size:(page + 1) * size]
        more = (page + 1) * size < len(rows)
        params = [(k, v[-1]) for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")]
        nxt = "%s?%s" % (path, urlencode(params + [("PageSize", size), ("Page", page + 1), ("PageToken", "PA" + str(page + 1))])) if more else None
        first = "%s?%s" % (path, urlencode(params + [("PageSize", size), ("Page", 0)]))
        return {
            data_key: chunk, "first_page_uri": first, "next_page_uri": nxt, "previous_page_uri": None, "page": page,
            "page_size": size, "start": page * size, "end": page * size + max(len(chunk) - 1, 0), "uri": path,
        }

    def _values(self, form):
        values = {}
        for param, raw in form.items():
            key = snake(param)
            if key in BOOLS:
                values[key] = raw == "true"
            elif key in INTS:
                values[key] = int(raw)
            else:
                values[key] = raw
        return values

    def _create(self, name, prefix, parent, maps, form):
        values = self._values(form)
        if maps is not None:
            param, target = maps
            target_sid = form.get(param)
            target_rec = self._get(target, target_sid or "")
            if target_rec is None:
                return 404, self._error(404, 20404, "%s %s not found" % (param, target_sid))
            if self.data[self._store(name)].get(target_sid + parent):
                return 400, self._error(400, 21231, "%s is already mapped to this domain" % target_sid)
            rec = {"sid": target_sid, "friendly_name": target_rec.get("friendly_name"), "account_sid": AC, "_parent": parent}
            self.data[self._store(name)][target_sid + parent] = rec
            return 201, self._render(name, rec)
        if name == "domains":
            dn = values.get("domain_name", "")
            if dn in self.taken or any(r["domain_name"] == dn for r in self.rows("domains")):
                return 400, self._error(400, 21232, "Domain name %s already exists" % dn)
        if name == "creds":
            if any(r["username"] == values.get("username") for r in self.rows("creds", parent)):
                return 400, self._error(400, 21502, "username exists")
        password = values.pop("password", None)
        rec = dict(DEFAULTS.get(name, {}), **values)
        rec["sid"] = prefix + uuid.uuid4().hex
        rec["account_sid"] = AC
        if parent:
            rec["_parent"] = parent
        self.data[name][rec["sid"] + (parent or "")] = rec
        if password is not None:
            self.passwords[rec["sid"]] = password
        return 201, self._render(name, rec)

    def _update(self, name, rec, form):
        values = self._values(form)
        password = values.pop("password", None)
        if password is not None:
            self.passwords[rec["sid"]] = password
        rec.update(values)
        return 200, self._render(name, rec)

    def _delete(self, name, rec):
        store = self.data[self._store(name)]
        for key, value in list(store.items()):
            if value is rec:
                del store[key]
        for child, _p, _x, _d, parent_group, _m in COLLECTIONS:
            if parent_group == name:
                for crec in self.rows(child, rec["sid"]):
                    self._delete(child, crec)

    def close(self):
        pass


def install(monkeypatch, fake, sleep=None):
    """Make every module's client talk to ``fake`` (and not sleep between retries)."""
    real = tw.build_client
    sleeps = []

    def factory(**kwargs):
        kwargs["retry"] = RetryPolicy(max_retries=kwargs["retry"].max_retries, sleep=sleeps.append)
        client = real(**kwargs)
        client.http_client.session.mount("https://", fake)
        client.http_client.session.mount("http://", fake)
        fake.client_kwargs = kwargs
        return client

    monkeypatch.setattr(tw, "build_client", factory)
    fake.sleeps = sleeps
    return fake


def client_for(fake, region="us1"):
    client = tw.build_client(account_sid=AC, auth_token=TOKEN, region=region, retry=RetryPolicy(max_retries=3, sleep=lambda s: None))
    client.http_client.session.mount("https://", fake)
    return client


# ---- helper tests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value,full",
    [("acme", "acme.sip.twilio.com"), ("ACME-1.sip.twilio.com", "acme-1.sip.twilio.com"), ("pbx.acme.sip.twilio.com", "pbx.acme.sip.twilio.com")],
)
def test_domain_names_are_normalised(value, full):
    assert check_sip_domain_name("domain_name", value) == full


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("acme_1", "letters, digits and hyphens"),
        ("-acme", "letters, digits and hyphens"),
        ("acme.sip.ie1.twilio.com", "regional or edge SIP URI"),
        ("acme.twilio.com", "must end with .sip.twilio.com"),
        ("", "must not be empty"),
        ("ac me", "letters, digits and hyphens"),
    ],
)
def test_bad_domain_names_are_refused_with_the_option_name(value, fragment):
    with pytest.raises(ValueError) as err:
        check_sip_domain_name("domain_name", value)
    assert fragment in str(err.value) and "domain_name" in str(err.value)


def test_urls_and_sids_are_checked():
    assert check_http_url("voice_url", "https://x.example/v") == "https://x.example/v"
    assert check_http_url("voice_fallback_url", "") == ""
    with pytest.raises(ValueError, match="voice_url must be an absolute"):
        check_http_url("voice_url", "ftp://x", allow_empty=False)
    with pytest.raises(ValueError, match="studio_flow must be a Twilio SID starting with FW"):
        check_sid("studio_flow", "FWxyz", "FW")
    assert check_sid("byoc_trunk_sid", "", "BY", allow_empty=True) == ""


@pytest.mark.parametrize(
    "region,label",
    [("us1", "acme.sip.us1.twilio.com"), ("ie1", "acme.sip.ie1.twilio.com"), ("au1", "acme.sip.au1.twilio.com")],
)
def test_sip_uris_for_each_region(region, label):
    assert regions.sip_uri("acme.sip.twilio.com", region) == label
    uris = regions.sip_uris("acme.sip.twilio.com", region)
    assert uris["region"] == label and uris["global"] == "acme.sip.twilio.com"
    assert uris["sao_paulo"] == "acme.sip.sao-paulo.twilio.com"
    assert set(uris) == {"global", "region", "ashburn", "umatilla", "dublin", "frankfurt", "singapore", "tokyo", "sao_paulo", "sydney"}
    assert "roaming" not in json.dumps(uris)


def test_find_by_friendly_name_refuses_duplicates_naming_both_sids():
    items = [{"sid": "AL1", "friendly_name": "x"}, {"sid": "AL2", "friendly_name": "x"}, {"sid": "AL3", "friendly_name": "y"}]
    assert sip.find_by_friendly_name(items, "y", "IP access control list", "friendly_name")["sid"] == "AL3"
    assert sip.find_by_friendly_name(items, "z", "IP access control list", "friendly_name") is None
    with pytest.raises(ValueError) as err:
        sip.find_by_friendly_name(items, "x", "IP access control list", "friendly_name")
    assert "AL1" in str(err.value) and "AL2" in str(err.value) and "friendly_name" in str(err.value)


def test_resolve_refs_by_name_and_sid_in_order_without_repeats():
    al1, al2 = "AL" + "a" * 32, "AL" + "b" * 32
    items = [{"sid": al1, "friendly_name": "one"}, {"sid": al2, "friendly_name": "two"}]
    got = sip.resolve_refs(items, ["two", al1, al2], "AL", "IP access control list", "ip_access_control_lists", "hint", AC, "ie1")
    assert got == [{"sid": al2, "friendly_name": "two"}, {"sid": al1, "friendly_name": "one"}]
    with pytest.raises(ValueError, match=r"ip_access_control_lists: there is no IP access control list named 'three' in account AC1+ in region IE1"):
        sip.resolve_refs(items, ["three"], "AL", "IP access control list", "ip_access_control_lists", "hint", AC, "ie1")
    with pytest.raises(ValueError, match="no IP access control list with SID"):
        sip.resolve_refs(items, ["AL" + "c" * 32], "AL", "IP access control list", "ip_access_control_lists", "hint", AC, "us1")
    warnings = []
    got = sip.resolve_refs(items, ["three"], "AL", "IP ACL", "x", "hint", AC, "us1", check_mode=True, warn=warnings.append)
    assert got == [{"sid": None, "friendly_name": "three"}] and "check mode" in warnings[0]


def test_lists_follow_pages_and_read_mappings_from_both_stores():
    fake = FakeTwilio()
    for n in range(5):
        fake.add("acls", friendly_name="acl%d" % n)
    client = client_for(fake)
    saved = sip.PAGE_SIZE
    sip.PAGE_SIZE = 2
    try:
        assert len(sip.list_all(client.sip.ip_access_control_lists)) == 5
    finally:
        sip.PAGE_SIZE = saved
    assert len(fake.reads()) == 3
    domain = fake.add("domains", domain_name="acme.sip.twilio.com")
    acl = fake.rows("acls")[0]
    fake.add("legacy_acl_maps", parent=domain["sid"], sid=acl["sid"], friendly_name=acl["friendly_name"])
    maps = sip.read_mappings(client.sip.domains(domain["sid"]))
    assert maps["ip_access_control_lists"][acl["sid"]]["mapped_via"] == ["legacy"]
    assert maps["credential_lists"] == {}


def test_as_dict_turns_sdk_objects_into_plain_dicts():
    fake = FakeTwilio()
    fake.add("domains", domain_name="acme.sip.twilio.com")
    client = client_for(fake)
    domain = sip.list_all(client.sip.domains)[0]
    assert domain["domain_name"] == "acme.sip.twilio.com"
    assert domain["date_created"] == "Tue, 14 Apr 2026 10:00:00 -0000" or domain["date_created"].startswith("Tue, 14 Apr 2026")
    assert not any(k.startswith("_") for k in domain)


def test_fetch_or_none_and_delete_if_present_treat_404_as_absent():
    fake = FakeTwilio()
    client = client_for(fake)
    assert sip.fetch_or_none(client.sip.domains("SD" + "0" * 32)) is None
    sip.delete_if_present(client.sip.domains("SD" + "0" * 32))


def test_create_or_find_resolves_a_lost_reply():
    fake = FakeTwilio()
    fake.fault("POST", r"IpAccessControlLists\.json$", "commit_then_drop")
    client = client_for(fake)
    acls = client.sip.ip_access_control_lists
    got = sip.create_or_find(
        lambda: sip.as_dict(acls.create(friendly_name="x")),
        lambda: sip.find_by_friendly_name(sip.list_all(acls), "x", "IP ACL", "friendly_name"),
        "IP ACL x",
    )
    assert got["friendly_name"] == "x" and len(fake.rows("acls")) == 1
    fake.fault("POST", r"IpAccessControlLists\.json$", "drop")
    with pytest.raises(tw.TwilioCallError, match="the next run finds it by its natural key"):
        sip.create_or_find(lambda: acls.create(friendly_name="y"), lambda: None, "IP ACL y")
    assert len(fake.rows("acls")) == 1


def test_create_or_find_reads_back_for_the_settle_time_and_adopts_a_slow_create(settle_clock):
    seen = []

    def find():
        seen.append(settle_clock.now)
        return {"sid": "CR1"} if len(seen) == 3 else None

    def create():
        raise tw.TwilioAmbiguousWrite("Twilio POST /Credentials.json: no reply (read timed out)", method="POST")

    assert sip.create_or_find(create, find, "credentials entry u", settle_seconds=30) == {"sid": "CR1"}
    assert seen == [0.0, 0.5, 1.5]
    with pytest.raises(tw.TwilioCallError) as caught:
        sip.create_or_find(create, lambda: None, "credentials entry u", settle_seconds=5)
    assert "not seen in 5 s" in str(caught.value) and "nothing was made" not in str(caught.value)


def test_create_or_find_adopts_an_entry_another_run_made():
    def create():
        raise tw.TwilioCallError("Twilio POST /IpAddresses.json failed with HTTP 409: already exists", status=409)

    assert sip.create_or_find(create, lambda: {"sid": "IP1"}, "ip_addresses entry x") == {"sid": "IP1"}
    with pytest.raises(tw.TwilioCallError, match="409"):
        sip.create_or_find(create, lambda: None, "ip_addresses entry x")
