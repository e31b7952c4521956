"""NaturalKey: which of several objects sharing a natural key a module manages, and which it may delete."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils._duplicates import NaturalKey

KEY = NaturalKey("credential list", "friendly_name", entry="credential")
OLD = {"sid": "CL01", "date_created": "Tue, 01 Dec 2026 10:00:00 +0000"}
MID = {"sid": "CL02", "date_created": "Tue, 01 Dec 2026 10:00:05 +0000"}
NEW = {"sid": "CL00", "date_created": "Wed, 02 Dec 2026 09:00:00 +0000"}


def resolve(found, policy, entries, check_mode=False):
    deleted = []
    kept, ids = KEY.one(found, policy, count=lambda i: entries.get(i["sid"], 0), delete=deleted.append, key="acme", check_mode=check_mode)
    return kept, ids, [d["sid"] for d in deleted]


@pytest.mark.parametrize("found", [[], [OLD]])
def test_none_or_one_is_no_question(found):
    assert resolve(found, "fail", {}) == ((found or [None])[0], [], [])


def test_fail_lists_each_with_its_id_creation_time_and_entries_oldest_first():
    with pytest.raises(ValueError) as err:
        resolve([NEW, OLD], "fail", {"CL00": 2})
    text = str(err.value)
    assert text.startswith("friendly_name: 2 credential lists are named 'acme': CL01 (created Tue, 01 Dec 2026 10:00:00 +0000, empty), CL00 (created")
    assert "CL00 (created Wed, 02 Dec 2026 09:00:00 +0000, 2 credentials)" in text and "duplicates: adopt_oldest" in text


def test_adopt_oldest_keeps_the_oldest_and_deletes_the_newer_empty_ones_sorting_by_time_not_by_sid():
    assert resolve([NEW, MID, OLD], "adopt_oldest", {"CL01": 3}) == (OLD, ["CL02", "CL00"], ["CL02", "CL00"])


def test_check_mode_predicts_the_deletes_and_sends_none():
    assert resolve([NEW, OLD], "adopt_oldest", {}, check_mode=True) == (OLD, ["CL00"], [])


def test_a_newer_duplicate_with_entries_fails_before_any_delete():
    with pytest.raises(ValueError) as err:
        resolve([OLD, MID, NEW], "adopt_oldest", {"CL00": 1})
    assert "CL00 holds entries and may be in use" in str(err.value) and "keeps CL01" in str(err.value)


@pytest.mark.parametrize(
    "other",
    [dict(MID, date_created=OLD["date_created"]), {"sid": "CL09", "date_created": None}, {"sid": "CL09", "date_created": "garbage"}],
    ids=["tie", "none", "unparsable"],
)
def test_adopt_oldest_refuses_when_the_oldest_is_not_certain(other):
    found = [other, OLD]  # one with a known time does not make an unknown one newer
    with pytest.raises(ValueError) as err:
        resolve(found, "adopt_oldest", {})
    assert "cannot tell which one is the oldest" in str(err.value)


def test_fold_says_what_was_deleted_in_the_message_the_result_and_the_diff():
    result = {"changed": False, "msg": "credential list acme already as desired", "diff": {"before": {}, "after": {}}}
    folded = KEY.fold(result, ["CL00"])
    assert folded["changed"] is True and folded["duplicates_deleted"] == ["CL00"]
    assert folded["msg"].endswith("; newer empty duplicate deleted: CL00")
    assert folded["diff"] == {"before": {"duplicates": ["CL00"]}, "after": {"duplicates": []}}
    assert KEY.fold(result, []) is result


# ---- found by scripts/mutation (docs/testing.md): messages, orders and defaults the tests above let change


def test_the_defaults_are_twilio_fields_and_check_mode_is_off():
    key = NaturalKey("IP access control list", "friendly_name")  # built here: a module-level object is built before a mutant is on
    deleted = []
    old = {"sid": "AL1", "date_created": OLD["date_created"]}
    new = {"sid": "AL2", "date_created": NEW["date_created"]}
    assert key.one([new, old], "adopt_oldest", count=lambda i: 0, delete=deleted.append, key="k") == (old, ["AL2"])
    assert deleted == [new]
    with pytest.raises(ValueError) as err:
        key.one([new, dict(old, date_created=None)], "fail", count=lambda i: 1, delete=None, key="k")
    assert str(err.value).startswith(
        "friendly_name: 2 IP access control lists are named 'k': AL2 (created Wed, 02 Dec 2026 09:00:00 +0000, 1 entry), "
        "AL1 (created at an unknown time, 1 entry). Ansible cannot tell which one is meant: delete or rename all but one, or set "
        "duplicates: adopt_oldest to keep the oldest and delete the newer ones that hold nothing"
    )


def test_same_times_are_listed_by_id_and_the_refusals_say_why():
    tie = [dict(MID, sid="CL09", date_created=OLD["date_created"]), OLD]
    with pytest.raises(ValueError) as err:
        resolve(tie, "adopt_oldest", {})
    assert "'acme': CL01 (created" in str(err.value) and str(err.value).endswith(
        ". duplicates: adopt_oldest cannot tell which one is the oldest (same or unknown creation time); delete or rename all but one"
    )
    with pytest.raises(ValueError) as err:
        resolve([OLD, MID, NEW], "adopt_oldest", {"CL02": 1, "CL00": 2})
    assert str(err.value).endswith(
        ". duplicates: adopt_oldest keeps CL01 and deletes only newer duplicates that hold nothing; CL02, CL00 hold entries and may be "
        "in use: move or delete them by hand"
    )


def test_fold_keeps_the_diff_and_says_the_plural():
    result = {"changed": True, "msg": "m", "diff": {"before": {"state": "absent"}, "after": {"state": "present"}}}
    folded = KEY.fold(result, ["CL02", "CL00"])
    assert folded["msg"] == "m; newer empty duplicates deleted: CL02, CL00"
    assert folded["diff"] == {"before": {"state": "absent", "duplicates": ["CL02", "CL00"]}, "after": {"state": "present", "duplicates": []}}
