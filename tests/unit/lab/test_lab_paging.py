import pytest

from lab.twilio.resources import APPLICATIONS, Resources, TwilioError, paginate

ACCOUNT = "AC" + "0" * 32


def rows(n):
    return [{"sid": f"AP{i:032x}"} for i in range(n)]


def q(**kw):
    return {k: [str(v)] for k, v in kw.items()}


def test_first_page_and_links():
    env = paginate("applications", "/p.json", [("FriendlyName", "a b")], rows(5), q(PageSize=2))
    assert [r["sid"][-1] for r in env["applications"]] == ["0", "1"]
    assert env["page"] == 0 and env["page_size"] == 2 and env["start"] == 0 and env["end"] == 1
    assert env["first_page_uri"] == "/p.json?FriendlyName=a+b&PageSize=2&Page=0"
    assert env["next_page_uri"].startswith("/p.json?FriendlyName=a+b&PageSize=2&Page=1&PageToken=PA")
    assert env["previous_page_uri"] is None
    assert set(env) - {
        "first_page_uri",
        "next_page_uri",
        "previous_page_uri",
        "page",
        "page_size",
        "start",
        "end",
        "uri",
    } == {"applications"}


def test_last_page_and_token():
    data = rows(5)
    env = paginate("x", "/p.json", [], data, q(PageSize=2, Page=2, PageToken="PA" + data[3]["sid"]))
    assert [r["sid"] for r in env["x"]] == [data[4]["sid"]]
    assert env["next_page_uri"] is None
    assert env["previous_page_uri"].startswith("/p.json?PageSize=2&Page=1&PageToken=PB")
    assert env["start"] == 4 and env["end"] == 4


def test_token_survives_deletion_before_it():
    data = rows(6)
    token = "PA" + data[1]["sid"]
    del data[0]  # a row on an earlier page went away
    env = paginate("x", "/p.json", [], data, q(PageSize=2, Page=1, PageToken=token))
    assert [r["sid"] for r in env["x"]] == [d["sid"] for d in data[1:3]]


def test_empty_list_and_defaults():
    env = paginate("x", "/p.json", [], [], {})
    assert env["x"] == [] and env["page_size"] == 50 and env["end"] == 0 and env["next_page_uri"] is None


@pytest.mark.parametrize("query", [q(PageSize=0), q(PageSize=1001), q(Page=-1), q(PageSize="x")])
def test_bad_paging_params(query):
    with pytest.raises(TwilioError):
        paginate("x", "/p.json", [], rows(1), query)


def test_resource_store_defaults_and_filter():
    store = Resources({"applications": APPLICATIONS}, ACCOUNT)
    made = store.create(
        APPLICATIONS,
        {},
        {"FriendlyName": ["a"], "VoiceMethod": ["get"], "VoiceCallerIdLookup": ["true"], "Unknown": ["x"]},
        "/u",
    )
    assert made["sid"].startswith("AP") and len(made["sid"]) == 34
    assert made["voice_method"] == "GET" and made["voice_fallback_method"] == "POST"
    assert made["voice_caller_id_lookup"] is True and made["api_version"] == "2010-04-01"
    assert made["date_created"].endswith("+0000")
    assert made["uri"] == f"/2010-04-01/Accounts/{ACCOUNT}/Applications/{made['sid']}.json"
    store.create(APPLICATIONS, {}, {"FriendlyName": ["b"]}, "/u")
    listing = store.list(APPLICATIONS, {}, q(FriendlyName="a"), "/u")
    assert [a["friendly_name"] for a in listing["applications"]] == ["a"]
    with pytest.raises(TwilioError) as exc:
        store.create(APPLICATIONS, {}, {"VoiceMethod": ["PUT"]}, "/u")
    assert exc.value.status == 400
