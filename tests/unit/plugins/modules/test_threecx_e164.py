"""threecx_e164: the walking skeleton's module, in-process against scripted XAPI replies."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx
from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_e164
from tests.unit.plugins.fakes import Reply, ScriptedAdapter, session_with
from tests.unit.plugins.modtest import run_module

SECRET = "e164-test-client-secret"
CONN = {"url": "https://pbx.test:5001", "client_id": "ansible", "client_secret": SECRET}
SETTINGS = {
    "Enabled": True,
    "CountryCode": "1",
    "CountryName": "United States",
    "AreaCode": None,
    "InternationalCode": "011",
    "NationalCode": "1",
    "Prefix": "",
    "RemoveCountryCode": False,
    "RemoveAreaCode": False,
}


@pytest.fixture
def pbx(monkeypatch, tmp_path):
    adapter = ScriptedAdapter().always("POST", "/connect/token", Reply(200, {"access_token": "tok", "expires_in": 3600}))
    real = _threecx.ThreeCXClient

    def factory(*args, **kwargs):
        adapter.client_kwargs = dict(kwargs)
        kwargs["session"] = session_with(adapter)
        kwargs["token_cache"] = _threecx.TokenCache(str(tmp_path))
        return real(*args, **kwargs)

    monkeypatch.setattr(_threecx, "ThreeCXClient", factory)
    return adapter


def run(monkeypatch, **args):
    return run_module(threecx_e164.main, dict(CONN, **args), monkeypatch)


def xapi_writes(adapter):
    return [(m, u.split("/xapi/v1")[1], b) for m, u, _ignored, b in adapter.sent if "/xapi/v1" in u and m != "GET"]


def test_check_mode_predicts_the_change_and_writes_nothing(pbx, monkeypatch):
    pbx.always("GET", "/E164Settings", Reply(200, SETTINGS))
    kind, result = run(monkeypatch, process_e164=False, _ansible_check_mode=True, _ansible_diff=True)
    assert kind == "exit"
    assert result["changed"] is True
    assert result["e164"]["process_e164"] is False
    assert result["diff"] == {"before": {"process_e164": True}, "after": {"process_e164": False}}
    assert xapi_writes(pbx) == []


def test_apply_sends_only_the_changed_field_and_reads_it_back(pbx, monkeypatch):
    pbx.on("GET", "/E164Settings", Reply(200, SETTINGS)).on("PATCH", "/E164Settings", Reply(204))
    pbx.on("GET", "/E164Settings", Reply(200, dict(SETTINGS, Enabled=False)))
    kind, result = run(monkeypatch, process_e164=False, country_code="1", area_code="")
    assert kind == "exit" and result["changed"] is True
    assert xapi_writes(pbx) == [("PATCH", "/E164Settings", '{"Enabled": false}')]
    assert result["msg"] == "E164 settings updated (process_e164)"
    assert result["e164"]["country_code"] == "1"
    assert [r[0] for r in pbx.sent if "/E164Settings" in r[1]] == ["GET", "PATCH", "GET"]  # one read after the write


def test_a_write_the_pbx_does_not_show_fails_naming_the_field(pbx, monkeypatch):
    # E164Settings.Enabled as "Process E164 numbers" is inferred: a PBX that answers the PATCH and
    # keeps the old value must not give a silent changed.
    pbx.always("GET", "/E164Settings", Reply(200, SETTINGS)).on("PATCH", "/E164Settings", Reply(204))
    kind, result = run(monkeypatch, process_e164=False)
    assert kind == "fail"
    assert "process_e164 (Enabled)" in result["msg"] and "does not show it" in result["msg"] and "reads back True" in result["msg"]
    assert len(xapi_writes(pbx)) == 1  # no other wire form to try: sent once


def test_converged_settings_change_nothing_and_send_only_reads(pbx, monkeypatch):
    pbx.always("GET", "/E164Settings", Reply(200, dict(SETTINGS, Enabled=False)))
    kind, result = run(monkeypatch, process_e164=False, _ansible_diff=True)
    assert kind == "exit" and result["changed"] is False
    assert result["diff"] == {"before": {}, "after": {}}
    assert xapi_writes(pbx) == []


@pytest.mark.parametrize(
    "args,fragment",
    [
        (dict(country_code="+44"), "country_code must contain only digits"),
        (dict(country_code="1234"), "country_code must have at most 3"),
        (dict(country_code=""), "country_code must have at least 1"),
        (dict(international_code="0 0"), "international_code must contain only digits"),
        (dict(prefix="9x"), "prefix must contain only digits and + * #"),
        (dict(timeout=0), "timeout must be a positive number"),
        (dict(max_retries=11), "max_retries must be between 0 and 10"),
    ],
)
def test_bad_input_fails_before_any_request(pbx, monkeypatch, args, fragment):
    kind, result = run(monkeypatch, **args)
    assert kind == "fail"
    assert fragment in result["msg"]
    assert pbx.sent == []


def test_api_error_is_reported_with_its_fields_and_no_secret(pbx, monkeypatch):
    pbx.always("GET", "/E164Settings", Reply(200, SETTINGS))
    pbx.on("PATCH", "/E164Settings", Reply(400, {"error": {"code": "", "message": "Bad value", "details": []}}))
    kind, result = run(monkeypatch, process_e164=False)
    assert kind == "fail"
    assert result["msg"] == "3CX XAPI PATCH /E164Settings failed with HTTP 400: Bad value"
    assert result["error"]["status"] == 400
    assert SECRET not in repr(result)


def test_missing_connection_option_names_the_env_var(monkeypatch):
    for var in ("THREECX_URL", "THREECX_CLIENT_ID", "THREECX_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    kind, result = run_module(threecx_e164.main, {"process_e164": False}, monkeypatch)
    assert kind == "fail"
    assert "missing required arguments" in result["msg"] and "client_secret" in result["msg"]


def test_connection_options_come_from_the_environment(pbx, monkeypatch):
    monkeypatch.setenv("THREECX_URL", CONN["url"])
    monkeypatch.setenv("THREECX_CLIENT_ID", CONN["client_id"])
    monkeypatch.setenv("THREECX_CLIENT_SECRET", SECRET)
    pbx.always("GET", "/E164Settings", Reply(200, dict(SETTINGS, Enabled=False)))
    kind, result = run_module(threecx_e164.main, {"process_e164": False}, monkeypatch)
    assert kind == "exit" and result["changed"] is False


def test_empty_optional_values_from_an_awx_credential_mean_unset(pbx, monkeypatch):
    """AWX injects every field of a credential type; unset ones arrive as ""."""
    monkeypatch.setenv("THREECX_CA_PATH", "")
    pbx.always("GET", "/E164Settings", Reply(200, dict(SETTINGS, Enabled=False)))
    kind, result = run(monkeypatch, process_e164=False)
    assert kind == "exit"
    assert pbx.client_kwargs["ca_path"] is None


@pytest.mark.parametrize("where", ["option", "environment", "default"])
def test_token_cache_dir_chooses_where_the_token_is_cached(monkeypatch, tmp_path, where):
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import E164
    from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
    from tests.unit.plugins.modtest import module_args

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("THREECX_TOKEN_CACHE_DIR", raising=False)
    args = dict(url="https://pbx.example.com", client_id="ansible", client_secret="not-a-secret")
    if where == "option":
        args["token_cache_dir"] = str(tmp_path / "shared")
    elif where == "environment":
        monkeypatch.setenv("THREECX_TOKEN_CACHE_DIR", str(tmp_path / "shared"))
    with module_args(args):
        module = ThreeCXModule(E164, supports_check_mode=True)
    expected = tmp_path / "xdg" / "voip.threecx_twilio" / "xapi-tokens" if where == "default" else tmp_path / "shared"
    assert module.client.token_cache.directory == str(expected)


def test_a_token_cache_dir_that_is_a_file_is_refused_before_any_request(monkeypatch, tmp_path):
    from tests.unit.plugins.modtest import run_module

    (tmp_path / "file").write_text("x")
    args = dict(url="https://pbx.example.com", client_id="ansible", client_secret="not-a-secret", token_cache_dir=str(tmp_path / "file"))
    kind, res = run_module(threecx_e164.main, args, monkeypatch)
    assert kind == "fail" and res["msg"].startswith("token_cache_dir: %s exists and is not a directory" % (tmp_path / "file"))
