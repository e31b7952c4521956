"""The resource engine: compare only what is set, send only what differs, check and diff."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils._retry import not_seen_message

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import (
    KIND_SET,
    KIND_STR,
    KIND_SUBSET,
    SECRET_MASK,
    Children,
    Engine,
    Field,
    FieldMap,
    ReadBack,
    WriteNotTaken,
    combine,
    deep_merge,
)

FIELDS = FieldMap(
    Field("name", "Name"),
    Field("host", "Gateway.Host"),
    Field("port", "Gateway.Port"),
    Field("area", "AreaCode", KIND_STR),
    Field("codecs", "Gateway.Codecs", KIND_SET),
    Field("forward", "ForwardNoAnswer", KIND_SUBSET),
    Field("password", "AuthPassword.Value", write_only=True),
    Field("id", "Id", read_only=True),
)

CURRENT = {
    "Id": 7,
    "Name": "Twilio",
    "AreaCode": None,
    "Gateway": {"Host": "a.sip.twilio.com", "Port": 5060, "Codecs": ["PCMU", "PCMA"], "Type": "Provider"},
    "ForwardNoAnswer": {"To": "External", "External": "+15550001", "Tags": []},
    "AuthPassword": {"Concealed": True},
}


class FakeModule:
    def __init__(self, params, check_mode=False, diff=False):
        self.params = params
        self.check_mode = check_mode
        self._diff = diff


class Recorder:
    def __init__(self):
        self.calls = []

    def create(self, payload):
        self.calls.append(("create", payload))
        return dict(payload, Id=9)

    def update(self, current, payload):
        self.calls.append(("update", payload))

    def delete(self, current):
        self.calls.append(("delete", current["Id"]))


def params(**kw):
    base = dict((f.option, None) for f in FIELDS.fields)
    base.update(kw)
    return base


def test_unset_options_are_not_compared():
    engine = Engine(FakeModule(params(name="Twilio")), FIELDS, "trunk", "trunk")
    rec = Recorder()
    result = engine.present(CURRENT, update=rec.update)
    assert result["changed"] is False and rec.calls == []
    assert result["trunk"]["host"] == "a.sip.twilio.com"
    assert "password" not in result["trunk"]


def test_only_changed_fields_are_sent_nested():
    engine = Engine(FakeModule(params(name="Twilio", host="b.sip.twilio.com", port=5060)), FIELDS, "trunk", "trunk")
    rec = Recorder()
    result = engine.present(CURRENT, update=rec.update)
    assert rec.calls == [("update", {"Gateway": {"Host": "b.sip.twilio.com"}})]
    assert result["changed"] is True
    assert result["trunk"]["host"] == "b.sip.twilio.com" and result["trunk"]["port"] == 5060
    assert result["msg"] == "trunk updated (host)"


@pytest.mark.parametrize(
    "kw,changed",
    [
        (dict(area=""), False),  # None on the PBX equals "" from the user
        (dict(area="212"), True),
        (dict(codecs=["PCMA", "PCMU"]), False),  # order does not matter for a set
        (dict(codecs=["PCMU"]), True),
        (dict(forward={"To": "External"}), False),  # only given keys of a subset
        (dict(forward={"External": "+15550002"}), True),
    ],
)
def test_value_kinds(kw, changed):
    engine = Engine(FakeModule(params(**kw)), FIELDS, "trunk", "trunk")
    assert engine.present(CURRENT, update=Recorder().update)["changed"] is changed


def test_subset_update_keeps_the_other_keys():
    engine = Engine(FakeModule(params(forward={"External": "+15550002"})), FIELDS, "trunk", "trunk")
    rec = Recorder()
    engine.present(CURRENT, update=rec.update)
    assert rec.calls == [("update", {"ForwardNoAnswer": {"External": "+15550002"}})]


def test_check_mode_predicts_exactly_and_writes_nothing():
    for check in (True, False):
        rec = Recorder()
        engine = Engine(FakeModule(params(host="b.sip.twilio.com"), check_mode=check, diff=True), FIELDS, "trunk", "trunk")
        result = engine.present(CURRENT, update=rec.update)
        assert result["changed"] is True
        assert result["diff"] == {"before": {"host": "a.sip.twilio.com"}, "after": {"host": "b.sip.twilio.com"}}
        assert result["trunk"]["host"] == "b.sip.twilio.com"
        assert rec.calls == ([] if check else [("update", {"Gateway": {"Host": "b.sip.twilio.com"}})])


def test_create_in_check_mode_and_for_real():
    for check in (True, False):
        rec = Recorder()
        engine = Engine(FakeModule(params(name="New", password="Sup3rSecretPass"), check_mode=check, diff=True), FIELDS, "trunk", "trunk")
        result = engine.present(None, create=rec.create, name="New")
        assert result["changed"] is True and result["msg"] == "trunk New created"
        assert result["diff"] == {"before": {"state": "absent"}, "after": {"name": "New", "password": SECRET_MASK, "state": "present"}}
        assert "Sup3rSecretPass" not in repr(result)
        if check:
            assert rec.calls == []
        else:
            assert rec.calls == [("create", {"Name": "New", "AuthPassword": {"Value": "Sup3rSecretPass"}})]
            assert result["trunk"]["id"] == 9


def test_write_only_is_sent_on_update_only_when_asked():
    rec = Recorder()
    on_create = Engine(FakeModule(params(password="Sup3rSecretPass")), FIELDS, "trunk", "trunk")
    assert on_create.present(CURRENT, update=rec.update)["changed"] is False
    always = Engine(FakeModule(params(password="Sup3rSecretPass"), diff=True), FIELDS, "trunk", "trunk", update_secrets="always")
    result = always.present(CURRENT, update=rec.update)
    assert result["changed"] is True
    assert rec.calls == [("update", {"AuthPassword": {"Value": "Sup3rSecretPass"}})]
    assert result["diff"] == {"before": {"password": SECRET_MASK}, "after": {"password": SECRET_MASK}}
    assert "Sup3rSecretPass" not in repr(result)


def test_absent():
    for check in (True, False):
        rec = Recorder()
        engine = Engine(FakeModule(params(), check_mode=check, diff=True), FIELDS, "trunk", "trunk")
        result = engine.absent(CURRENT, rec.delete, name="Twilio")
        assert result["changed"] is True and result["trunk"] == {}
        assert result["diff"]["after"] == {"state": "absent"}
        assert result["diff"]["before"]["name"] == "Twilio"
        assert rec.calls == ([] if check else [("delete", 7)])
    again = Engine(FakeModule(params()), FIELDS, "trunk", "trunk").absent(None, Recorder().delete, name="Twilio")
    assert again == {"changed": False, "msg": "trunk Twilio already absent", "trunk": {}}


def test_no_diff_key_unless_diff_mode():
    result = Engine(FakeModule(params(host="x")), FIELDS, "trunk", "trunk").present(CURRENT, update=Recorder().update)
    assert "diff" not in result


def test_create_needs_a_create_function():
    with pytest.raises(ValueError, match="cannot be created"):
        Engine(FakeModule(params()), FIELDS, "e164", "E164 settings").present(None)


def test_deep_merge():
    assert deep_merge({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"b": 3}, "l": [2]}) == {"a": {"b": 3, "c": 2}, "l": [2]}
    assert deep_merge(None, {"a": 1}) == {"a": 1}


def test_to_api_overlays_without_touching_the_base():
    base = {"Gateway": {"Host": "a", "Port": 1}}
    out = FIELDS.to_api({"host": "b"}, base=base)
    assert out == {"Gateway": {"Host": "b", "Port": 1}} and base["Gateway"]["Host"] == "a"


class OtherError(Exception):
    pass


def _lost_error_class():
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXAmbiguousWrite

    return ThreeCXAmbiguousWrite


def test_create_with_a_lost_reply_adopts_what_landed():
    lost = _lost_error_class()

    def create(payload):
        raise lost("no reply", method="POST")

    engine = Engine(FakeModule(params(name="New")), FIELDS, "trunk", "trunk")
    result = engine.present(None, create=create, find=lambda: {"Id": 11, "Name": "New"}, name="New")
    assert result["changed"] is True and result["trunk"]["id"] == 11


def test_create_with_a_lost_reply_that_did_not_land_says_it_may_still_appear():
    lost = _lost_error_class()

    def create(payload):
        raise lost("no reply", method="POST")

    engine = Engine(FakeModule(params(name="New")), FIELDS, "trunk", "trunk")
    with pytest.raises(lost, match="was not seen in 60 s of reading it back. It may still appear"):
        engine.present(None, create=create, find=lambda: None, name="New")


def test_a_slow_create_that_lands_while_reading_back_is_adopted(settle_clock):
    """The vendor finished the create after the client gave up: it shows up on the fourth read."""
    lost = _lost_error_class()
    reads = []

    def create(payload):
        raise lost("timed out", method="POST")

    def find():
        reads.append(settle_clock.now)
        return {"Id": 12, "Name": "New"} if len(reads) == 4 else None

    engine = Engine(FakeModule(params(name="New")), FIELDS, "trunk", "trunk")
    result = engine.present(None, create=create, find=find, name="New")
    assert result["changed"] is True and result["trunk"]["id"] == 12
    assert settle_clock.sleeps == [0.5, 1.0, 2.0]  # backoff between the reads, no second create


def test_reading_back_is_bounded_by_settle_timeout(settle_clock):
    lost = _lost_error_class()

    def create(payload):
        raise lost("timed out", method="POST")

    engine = Engine(FakeModule(dict(params(name="New"), settle_timeout=20)), FIELDS, "trunk", "trunk")
    with pytest.raises(lost) as caught:
        engine.present(None, create=create, find=lambda: None, name="New")
    assert sum(settle_clock.sleeps) == 20 and max(settle_clock.sleeps) <= 10
    assert "not seen in 20 s" in str(caught.value) and "nothing was made" not in str(caught.value)


def test_a_conflicting_create_adopts_what_another_run_made():
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXError

    def create(payload):
        raise ThreeCXError("3CX XAPI POST /TrunkTemplates failed with HTTP 409: already exists", status=409, method="POST")

    updates = []
    engine = Engine(FakeModule(params(name="New", port=5060)), FIELDS, "trunk", "trunk")
    same = engine.present(None, create=create, find=lambda: {"Id": 13, "Name": "New", "Gateway": {"Port": 5060}}, name="New")
    assert same["changed"] is False and same["trunk"]["id"] == 13  # the other run made it as wanted: nothing to do
    other = {"Id": 13, "Name": "New", "Gateway": {"Port": 5080}}
    fixed = engine.present(None, create=create, update=lambda cur, payload: updates.append(payload), find=lambda: other, name="New")
    assert fixed["changed"] is True and updates == [{"Gateway": {"Port": 5060}}]
    with pytest.raises(ThreeCXError, match="409"):
        engine.present(None, create=create, find=lambda: None, name="New")


def test_other_create_errors_propagate_without_a_lookup():
    looked = []

    def create(payload):
        raise OtherError("boom")

    engine = Engine(FakeModule(params(name="New")), FIELDS, "trunk", "trunk")
    with pytest.raises(OtherError):
        engine.present(None, create=create, find=lambda: looked.append(1), name="New")
    assert looked == []


ENTRY_FIELDS = FieldMap(Field("ip", "ip_address"), Field("prefix", "cidr_prefix_length"), Field("name", "friendly_name"))


def entry_key(item):
    return (item["ip"], item["prefix"] or 32)


CURRENT_ENTRIES = [
    {"sid": "IP1", "ip_address": "192.0.2.10", "cidr_prefix_length": 32, "friendly_name": "pbx"},
    {"sid": "IP2", "ip_address": "198.51.100.0", "cidr_prefix_length": 24, "friendly_name": "office"},
]


class ChildCalls:
    def __init__(self):
        self.calls = []

    def create(self, want):
        self.calls.append(("create", want["ip"]))
        return {"sid": "IP9", "ip_address": want["ip"], "cidr_prefix_length": want["prefix"], "friendly_name": want["name"]}

    def update(self, item, want):
        self.calls.append(("update", item["sid"], want["name"]))

    def delete(self, item):
        self.calls.append(("delete", item["sid"]))


def test_children_plan_create_update_and_purge_in_order():
    for check in (True, False):
        calls = ChildCalls()
        children = Children(FakeModule({}, check_mode=check), "ip_addresses", entry_key, ENTRY_FIELDS, purge=True)
        desired = [{"ip": "192.0.2.10", "prefix": 32, "name": "pbx-main"}, {"ip": "203.0.113.5", "prefix": 32, "name": "new"}]
        out = children.run(CURRENT_ENTRIES, desired, calls.create, calls.update, calls.delete)
        assert out["changed"] is True
        assert out["summary"] == {"created": 1, "updated": 1, "deleted": 1}
        assert out["before"] == {"ip_addresses": [("192.0.2.10", 32), ("198.51.100.0", 24)]}
        assert out["after"] == {"ip_addresses": [("192.0.2.10", 32), ("203.0.113.5", 32)]}
        assert [i["name"] for i in out["items"]] == ["pbx-main", "new"]
        assert calls.calls == ([] if check else [("delete", "IP2"), ("update", "IP1", "pbx-main"), ("create", "203.0.113.5")])


def test_children_without_purge_keep_unlisted_entries_and_ignore_unset_fields():
    calls = ChildCalls()
    children = Children(FakeModule({}), "ip_addresses", entry_key, ENTRY_FIELDS, purge=False)
    out = children.run(CURRENT_ENTRIES, [{"ip": "192.0.2.10", "prefix": 32, "name": None}], calls.create, calls.update, calls.delete)
    assert out["changed"] is False and calls.calls == [] and out["before"] == {} and len(out["items"]) == 2


def test_combine_folds_children_into_the_result():
    parent = {"changed": False, "msg": "IP ACL pbx already as desired", "acl": {"name": "pbx"}, "diff": {"before": {}, "after": {}}}
    child = {
        "changed": True,
        "before": {"ip": [1]},
        "after": {"ip": [1, 2]},
        "items": [{"ip": 1}, {"ip": 2}],
        "summary": {"created": 1, "updated": 0, "deleted": 0},
    }
    out = combine(parent, child, "acl", "ip")
    assert out["changed"] is True
    assert out["acl"] == {"name": "pbx", "ip": [{"ip": 1}, {"ip": 2}]}
    assert out["diff"] == {"before": {"ip": [1]}, "after": {"ip": [1, 2]}}
    assert out["msg"] == "IP ACL pbx already as desired; ip: 1 created"


# ---- built inside the tests: a FieldMap made at import time runs before a mutation test switches a
# mutant on, so these pin what Field, FieldMap and deep_merge do with objects made here.


def test_a_field_made_here_keeps_its_option_path_kind_and_flags():
    plain, secret, nested = Field("name", "Name"), Field("pw", "Auth.Value", write_only=True), Field("c", "A.B.C", KIND_SET, read_only=True)
    assert (plain.option, plain.api, plain.path, plain.kind, plain.write_only, plain.read_only) == ("name", "Name", ("Name",), "raw", False, False)
    assert (secret.api, secret.path, secret.write_only, secret.read_only) == ("Auth.Value", ("Auth", "Value"), True, False)
    assert (nested.path, nested.kind, nested.read_only) == (("A", "B", "C"), KIND_SET, True)
    fields = FieldMap(plain, secret, nested)
    assert fields.desired({"name": "x", "pw": "p", "c": [1]}) == {"name": "x", "pw": "p"}
    assert fields.from_api({"Name": "x", "Auth": {"Value": "p"}, "A": {"B": {"C": [1]}}}) == {"name": "x", "c": [1]}


def test_a_value_read_or_written_is_a_copy_to_the_last_level():
    obj = {"Gateway": {"Codecs": [["PCMU"]]}}
    read = Field("codecs", "Gateway.Codecs").read(obj)
    read[0].append("PCMA")
    assert obj == {"Gateway": {"Codecs": [["PCMU"]]}}
    value = {"Tags": [["a"]]}
    payload = FieldMap(Field("fwd", "Forward")).to_api({"fwd": value})
    payload["Forward"]["Tags"][0].append("b")
    assert value == {"Tags": [["a"]]}
    base = {"Gateway": {"Codecs": [["PCMU"]]}}
    overlay = {"Tags": [["a"]]}
    merged = deep_merge(base, overlay)
    merged["Gateway"]["Codecs"][0].append("PCMA")
    merged["Tags"][0].append("b")
    assert (base, overlay) == ({"Gateway": {"Codecs": [["PCMU"]]}}, {"Tags": [["a"]]})


def test_only_a_set_ignores_order_and_only_a_subset_ignores_other_keys():
    assert Field("x", "X", KIND_SET).differs([{"a": 2}, {"a": 1}], [{"a": 1}, {"a": 2}]) is False  # dicts do not sort by themselves
    assert Field("x", "X").differs([1, 2], [2, 1]) is True
    assert Field("x", "X").differs({"a": 1, "b": 2}, {"a": 1}) is True
    assert Field("x", "X", KIND_SUBSET).differs({"a": 1, "b": 2}, {"a": 1}) is False
    assert Field("x", "X", KIND_SUBSET).differs(None, {"a": 1}) is True


def test_a_subset_merges_into_its_own_node_at_any_depth_and_a_raw_dict_replaces():
    fields = FieldMap(Field("fwd", "A.B.C", KIND_SUBSET), Field("raw", "A.B.R"))
    base = {"A": {"B": {"C": {"To": "x", "Ext": "1"}, "R": {"keep": 1}, "B": {"no": 1}}}}
    assert fields.to_api({"fwd": {"To": "y"}, "raw": {"new": 2}}, base=base) == {
        "A": {"B": {"C": {"To": "y", "Ext": "1"}, "R": {"new": 2}, "B": {"no": 1}}}
    }


def test_deep_merge_replaces_a_dict_by_a_value_and_a_value_by_a_dict():
    assert deep_merge({"a": {"b": 1}, "c": 1}, {"a": 5, "c": {"d": 2}}) == {"a": 5, "c": {"d": 2}}


def test_every_option_after_a_secret_is_still_compared():
    fields = FieldMap(Field("pw", "Pw", write_only=True), Field("name", "Name"))
    engine = Engine(FakeModule({"pw": "p", "name": "new"}), fields, "x", "thing")
    assert engine.changes({"Name": "old"}, {"pw": "p", "name": "new"}) == {"name": "new"}


def test_the_exact_words_of_the_engine(settle_clock):
    engine = Engine(FakeModule(params(name="Twilio")), FIELDS, "trunk", "trunk")
    with pytest.raises(ValueError) as err:
        engine.present(None, name="Twilio")
    assert str(err.value) == "trunk Twilio does not exist and cannot be created"
    assert engine.present(CURRENT, name="Twilio")["msg"] == "trunk Twilio already as desired"
    two = Engine(FakeModule(params(name="New", port=5080)), FIELDS, "trunk", "trunk")
    assert two.present(CURRENT, update=lambda c, p: None, name="Twilio")["msg"] == "trunk Twilio updated (name, port)"
    lost = _lost_error_class()

    reply_lost = lost("3CX XAPI POST /Trunks: no reply", method="POST")

    def create(payload):
        raise reply_lost

    with pytest.raises(lost) as err:
        engine.present(None, create=create, find=lambda: None, name="Twilio")
    assert err.value.method == "POST" and str(err.value) == not_seen_message("trunk Twilio", reply_lost, 60)


def test_an_object_another_run_made_is_brought_in_line_under_its_name_and_confirmed():
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXError

    def create(payload):
        raise ThreeCXError("HTTP 409: already exists", status=409, method="POST")

    made = {"Id": 13, "Name": "New", "Gateway": {"Port": 5080}}
    stored = {}
    reads = []

    def update(current, payload):
        stored.update(deep_merge(current, payload))

    def read(obj):
        reads.append(obj)
        return stored

    engine = Engine(FakeModule(params(name="New", port=5060)), FIELDS, "trunk", "trunk")
    result = engine.present(None, create=create, update=update, find=lambda: made, name="New", confirm=ReadBack(read))
    assert result["msg"] == "trunk New updated (port)" and result["trunk"]["port"] == 5060
    assert reads == [made]  # read back: the object adopted, as it was before the update


def test_a_confirmed_create_and_update_read_back_what_was_written_and_name_it_when_not_taken():
    pbx = {}

    def create(payload):
        pbx.update(payload, Id=9)
        return {"Id": 9}

    reads = []

    def read(obj):
        reads.append(obj)
        return dict(pbx)

    engine = Engine(FakeModule(params(name="New")), FIELDS, "trunk", "trunk")
    assert engine.present(None, create=create, name="New", confirm=ReadBack(read))["trunk"]["id"] == 9
    assert reads == [{"Id": 9}]  # the create's own reply is what is read back
    current = dict(pbx)
    update = Engine(FakeModule(params(name="Newer")), FIELDS, "trunk", "trunk")
    reads.clear()
    update.present(current, update=lambda cur, payload: pbx.update(payload), name="New", confirm=ReadBack(read))
    assert reads == [current]

    def ignore(cur, payload):
        pass

    with pytest.raises(WriteNotTaken) as err:
        Engine(FakeModule(params(name="Other")), FIELDS, "trunk", "trunk").present(
            dict(pbx), update=ignore, name="New", confirm=ReadBack(read, hint="Fix it.")
        )
    assert str(err.value) == (
        "trunk New: the PBX answered the write but does not show it: name (Name): sent as Name (accepted, not stored); it reads back 'Newer'. Fix it."
    )


AGENTS = FieldMap(Field("agents", "Agents", KIND_SET), Field("name", "Name"), Field("hosts", "Hosts", KIND_SET))


def _bind(value):
    return {"Agents@odata.bind": ["Users(%s)" % v for v in value]}


class Refusal(Exception):
    pass


def test_a_field_refused_inline_is_sent_once_in_its_other_form_and_named_when_refused_both_ways():
    sent = []

    def refuse_inline(payload):
        sent.append(payload)
        raise Refusal("HTTP 400 inline" if "Agents" in payload else "HTTP 400 bound")

    forms = {"agents": _bind, "hosts": lambda v: {"Hosts@odata.bind": v, "HostsX": 1}}
    confirm = ReadBack(lambda obj: obj, forms=forms, refused=lambda e: isinstance(e, Refusal), hint="Hint.")
    engine = Engine(FakeModule({"agents": ["1", "2"], "name": "Q", "hosts": ["h"]}), AGENTS, "queue", "queue")
    with pytest.raises(WriteNotTaken) as err:
        engine.present(None, create=refuse_inline, name="800", confirm=confirm)
    assert sent[1] == {"Name": "Q", "Agents@odata.bind": ["Users(1)", "Users(2)"], "Hosts@odata.bind": ["h"], "HostsX": 1}
    assert str(err.value) == (
        "queue 800: the PBX refused the write both ways: "
        "agents (Agents): sent as Agents inline (refused: HTTP 400 inline), then as Agents@odata.bind (refused: HTTP 400 bound); "
        "hosts (Hosts): sent as Hosts inline (refused: HTTP 400 inline), then as Hosts@odata.bind + HostsX (refused: HTTP 400 bound). Hint."
    )


def test_a_write_error_that_is_not_a_refusal_is_not_sent_again():
    sent = []

    def fail(payload):
        sent.append(payload)
        raise RuntimeError("HTTP 500")

    for confirm in (ReadBack(lambda obj: obj, forms={"agents": _bind}), ReadBack(lambda obj: obj, forms={"agents": _bind}, refused=lambda e: False)):
        sent.clear()
        with pytest.raises(RuntimeError):
            Engine(FakeModule({"agents": ["1"], "name": "Q"}), AGENTS, "queue", "queue").present(None, create=fail, name="800", confirm=confirm)
        assert len(sent) == 1


def test_a_field_accepted_but_not_stored_is_sent_once_in_its_other_form_then_named():
    stored = {"Id": 1, "Name": "Q", "Agents": []}
    updates = []

    def update(current, payload):
        updates.append(payload)

    confirm = ReadBack(lambda obj: dict(stored), forms={"agents": _bind}, hint="Hint.")
    with pytest.raises(WriteNotTaken) as err:
        Engine(FakeModule({"agents": ["1"], "name": None, "hosts": None}), AGENTS, "queue", "queue").present(
            dict(stored), update=update, name="800", confirm=confirm
        )
    assert updates == [{"Agents": ["1"]}, {"Agents@odata.bind": ["Users(1)"]}]  # inline, then once bound: never a third time
    assert str(err.value) == (
        "queue 800: the PBX answered the write but does not show it: agents (Agents): sent as Agents inline (accepted, not stored), "
        "then as Agents@odata.bind (accepted, not stored); it reads back []. Hint."
    )


def test_children_refuse_changes_they_cannot_make_in_words_naming_the_option():
    children = Children(FakeModule({}), "ip_addresses", entry_key, ENTRY_FIELDS, purge=True)
    with pytest.raises(ValueError) as err:
        children.run(CURRENT_ENTRIES, [], lambda w: None, None, None)
    assert str(err.value) == "ip_addresses: removing entries is not supported"
    with pytest.raises(ValueError) as err:
        children.run(CURRENT_ENTRIES, [{"ip": "192.0.2.10", "prefix": 32, "name": "x"}], lambda w: None, None, lambda i: None)
    assert str(err.value) == "ip_addresses: entries cannot be changed in place"
    assert Children(FakeModule({}), "ip_addresses", entry_key, ENTRY_FIELDS).purge is False


def test_children_keep_an_updated_entrys_other_fields_and_sort_keys_of_mixed_types():
    calls = ChildCalls()
    current = [{"sid": "IP1", "ip_address": "192.0.2.10", "cidr_prefix_length": 32, "friendly_name": "pbx"}]
    out = Children(FakeModule({}), "ip", entry_key, ENTRY_FIELDS).run(current, [{"ip": "192.0.2.10", "prefix": 32, "name": "new"}], calls.create, calls.update)
    assert out["items"] == [{"ip": "192.0.2.10", "prefix": 32, "name": "new"}]
    mixed = Children(FakeModule({}), "ip", lambda item: item["key"], purge=True)
    out = mixed.run([{"key": None}, {"key": "a"}], [{"key": 1}], lambda w: None, delete=lambda i: None)
    assert out["before"] == {"ip": ["a", None]} and out["after"] == {"ip": [1]}


def test_combine_keeps_the_parents_diff_and_counts_every_kind():
    parent = {"changed": True, "msg": "m", "acl": {}, "diff": {"before": {"name": "a"}, "after": {"name": "b"}}}
    child = {"changed": True, "before": {"ip": [1]}, "after": {"ip": [2]}, "items": [], "summary": {"created": 1, "updated": 2, "deleted": 3}}
    out = combine(parent, child, "acl", "ip")
    assert out["diff"] == {"before": {"name": "a", "ip": [1]}, "after": {"name": "b", "ip": [2]}}
    assert out["msg"] == "m; ip: 1 created, 3 deleted, 2 updated"


# ---- the survivors of the mutation run (docs/testing.md): each test below kills mutants that the tests above let live


def test_update_secrets_must_be_one_of_its_choices():
    assert Engine(FakeModule(params()), FIELDS, "trunk", "trunk").update_secrets == "on_create"
    with pytest.raises(ValueError) as err:
        Engine(FakeModule(params()), FIELDS, "trunk", "trunk", update_secrets="sometimes")
    assert str(err.value) == "update_secrets must be one of on_create, always, got 'sometimes'"


def test_an_update_refused_inline_goes_again_to_the_same_object_and_a_double_refusal_names_the_object():
    current = {"Id": 1, "Name": "Q", "Agents": []}
    stored = dict(current)
    sent = []

    def update(cur, payload):
        sent.append((cur, payload))
        if "Agents" in payload:
            raise Refusal("HTTP 400 inline")
        stored["Agents"] = [bound[len("Users(") : -1] for bound in payload["Agents@odata.bind"]]

    def confirm():
        return ReadBack(lambda obj: dict(stored), forms={"agents": _bind}, refused=lambda e: isinstance(e, Refusal), hint="Hint.")

    engine = Engine(FakeModule({"agents": ["1"], "name": None, "hosts": None}), AGENTS, "queue", "queue")
    result = engine.present(dict(current), update=update, name="800", confirm=confirm())
    assert result["msg"] == "queue 800 updated (agents)" and result["queue"]["agents"] == ["1"]
    assert sent == [(current, {"Agents": ["1"]}), (current, {"Agents@odata.bind": ["Users(1)"]})]

    def refuse(cur, payload):
        raise Refusal("HTTP 400")

    with pytest.raises(WriteNotTaken) as err:
        engine.present(dict(current), update=refuse, name="800", confirm=confirm())
    assert str(err.value) == (
        "queue 800: the PBX refused the write both ways: "
        "agents (Agents): sent as Agents inline (refused: HTTP 400), then as Agents@odata.bind (refused: HTTP 400). Hint."
    )


def test_a_create_refused_inline_then_not_stored_in_the_other_form_is_not_sent_a_third_time():
    sent = []
    updates = []

    def create(payload):
        sent.append(payload)
        if "Agents" in payload:
            raise Refusal("HTTP 400 inline")
        return {"Id": 5, "Name": "Q", "Agents": []}

    confirm = ReadBack(lambda obj: {"Id": 5, "Name": "Q", "Agents": []}, forms={"agents": _bind}, refused=lambda e: isinstance(e, Refusal))
    engine = Engine(FakeModule({"agents": ["1"], "name": "Q", "hosts": None}), AGENTS, "queue", "queue")
    with pytest.raises(WriteNotTaken) as err:
        engine.present(None, create=create, update=lambda cur, payload: updates.append(payload), name="800", confirm=confirm)
    assert len(sent) == 2 and updates == []
    # Without a hint the message ends at its last fact.
    assert str(err.value) == (
        "queue 800: the PBX answered the write but does not show it: agents (Agents): sent as Agents inline (refused: HTTP 400 inline), "
        "then as Agents@odata.bind (accepted, not stored); it reads back []."
    )


def test_the_other_form_goes_to_the_object_read_back_and_is_read_back_from_it():
    stored = {"Id": 1, "Name": "Q", "Agents": []}
    reads = []
    updates = []

    def read(obj):
        reads.append(obj)
        return dict(stored)

    def update(cur, payload):
        updates.append((cur, payload))
        if "Agents@odata.bind" in payload:
            stored["Agents"] = ["1"]

    current = dict(stored)
    engine = Engine(FakeModule({"agents": ["1"], "name": None, "hosts": None}), AGENTS, "queue", "queue")
    result = engine.present(current, update=update, name="800", confirm=ReadBack(read, forms={"agents": _bind}))
    first_read = {"Id": 1, "Name": "Q", "Agents": []}
    assert updates == [(current, {"Agents": ["1"]}), (first_read, {"Agents@odata.bind": ["Users(1)"]})]
    assert reads == [current, first_read]
    assert result["queue"]["agents"] == ["1"]


def test_every_field_not_taken_is_named_and_a_vanished_object_names_all_but_the_secrets():
    def ignore(cur, payload):
        pass

    current = {"Id": 1, "Name": "Q", "Agents": [], "Hosts": []}
    with pytest.raises(WriteNotTaken) as err:
        Engine(FakeModule({"agents": None, "name": "R", "hosts": ["h"]}), AGENTS, "queue", "queue").present(
            current, update=ignore, name="800", confirm=ReadBack(lambda obj: dict(current))
        )
    assert str(err.value) == (
        "queue 800: the PBX answered the write but does not show it: hosts (Hosts): sent as Hosts (accepted, not stored); it reads back []; "
        "name (Name): sent as Name (accepted, not stored); it reads back 'Q'."
    )
    engine = Engine(FakeModule(params(name="New", password="Sup3rSecretPass")), FIELDS, "trunk", "trunk")
    with pytest.raises(WriteNotTaken) as err:
        engine.present(None, create=lambda payload: {"Id": 9}, name="New", confirm=ReadBack(lambda obj: None))
    assert str(err.value) == "trunk New: the PBX answered the write but does not show it: name (Name): sent as Name (accepted, not stored); it reads back None."


def test_children_keep_what_an_update_leaves_unset_and_sort_new_keys_of_mixed_types():
    current = [{"sid": "IP1", "ip_address": "192.0.2.10", "cidr_prefix_length": 32, "friendly_name": "pbx"}]
    out = Children(FakeModule({}), "ip", entry_key, ENTRY_FIELDS).run(
        current, [{"ip": "192.0.2.10", "prefix": None, "name": "new"}], ChildCalls().create, ChildCalls().update
    )
    assert out["items"] == [{"ip": "192.0.2.10", "prefix": 32, "name": "new"}]
    mixed = Children(FakeModule({}), "ip", lambda item: item["key"])
    out = mixed.run([], [{"key": 1}, {"key": "b"}], lambda w: None)
    assert out["after"] == {"ip": ["b", 1]} and out["items"] == [{"key": "b"}, {"key": 1}]


def test_a_create_shows_the_predicted_or_sent_object_and_an_update_what_the_vendor_returned():
    predicted = Engine(FakeModule(params(name="New"), check_mode=True), FIELDS, "trunk", "trunk").present(
        None, create=Recorder().create, predict=lambda payload: dict(payload, Id=0)
    )
    assert predicted["trunk"]["id"] == 0 and predicted["trunk"]["name"] == "New"
    made = Engine(FakeModule(params(name="New", port=5080)), FIELDS, "trunk", "trunk").present(None, create=lambda payload: None)
    assert (made["trunk"]["name"], made["trunk"]["port"]) == ("New", 5080)  # the create returned nothing: what was sent
    returned = Engine(FakeModule(params(port=5080)), FIELDS, "trunk", "trunk").present(
        CURRENT, update=lambda current, payload: dict(deep_merge(current, payload), Name="Renamed by the vendor")
    )
    assert returned["trunk"]["name"] == "Renamed by the vendor" and returned["trunk"]["port"] == 5080


def test_a_create_not_stored_inline_is_sent_again_as_an_update_of_the_object_made():
    stored = {}
    updates = []

    def create(payload):
        stored.update({"Id": 5, "Name": payload["Name"], "Agents": []})
        return dict(stored)

    def update(cur, payload):
        updates.append((cur, payload))
        stored["Agents"] = ["1"]

    engine = Engine(FakeModule({"agents": ["1"], "name": "Q", "hosts": None}), AGENTS, "queue", "queue")
    result = engine.present(None, create=create, update=update, name="800", confirm=ReadBack(lambda obj: dict(stored), forms={"agents": _bind}))
    assert updates == [({"Id": 5, "Name": "Q", "Agents": []}, {"Agents@odata.bind": ["Users(1)"]})]
    assert result["queue"]["agents"] == ["1"]


def test_a_delete_says_so_and_shows_the_object_as_it_was():
    result = Engine(FakeModule(params(), diff=True), FIELDS, "trunk", "trunk").absent(CURRENT, Recorder().delete, name="Twilio")
    assert result["msg"] == "trunk Twilio deleted"
    assert result["diff"]["before"] == {
        "name": "Twilio",
        "host": "a.sip.twilio.com",
        "port": 5060,
        "codecs": ["PCMU", "PCMA"],
        "forward": {"To": "External", "External": "+15550001", "Tags": []},
        "id": 7,
        "state": "present",
    }


def test_children_without_fields_compare_keys_only_and_count_every_kind_of_change():
    plain = Children(FakeModule({}), "ip", lambda item: item["key"], purge=True)
    unchanged = plain.run([{"key": "a", "extra": 1}], [{"key": "a"}], lambda w: None, update=None, delete=lambda i: None)
    assert unchanged["changed"] is False and unchanged["before"] == {} and unchanged["after"] == {}
    deleted = plain.run([{"key": "a"}, {"key": "b"}], [{"key": "a"}], lambda w: None, delete=lambda i: None)
    assert deleted["changed"] is True and deleted["after"] == {"ip": ["a"]}
    updated = Children(FakeModule({}), "ip", entry_key, ENTRY_FIELDS).run(
        CURRENT_ENTRIES[:1], [{"ip": "192.0.2.10", "prefix": 32, "name": "new"}], ChildCalls().create, ChildCalls().update
    )
    assert updated["changed"] is True


def test_children_show_an_entry_as_the_vendor_made_it():
    def create(want):
        return {"sid": "IP9", "ip_address": want["ip"], "cidr_prefix_length": want["prefix"], "friendly_name": want["name"].lower()}

    out = Children(FakeModule({}), "ip", entry_key, ENTRY_FIELDS).run([], [{"ip": "203.0.113.5", "prefix": 32, "name": "NEW"}], create)
    assert out["items"] == [{"ip": "203.0.113.5", "prefix": 32, "name": "new"}]
