"""A user's CA choice must survive REQUESTS_CA_BUNDLE in the controller's environment."""

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils._http import PinnedVerifySession
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx import ThreeCXClient
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio import build_client


@pytest.fixture(autouse=True)
def env_bundle(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/env-bundle.pem")


def effective_verify(session):
    return session.merge_environment_settings("https://pbx.test/", {}, None, None, None)["verify"]


def test_plain_requests_lets_the_environment_win():
    import requests

    session = requests.Session()
    session.verify = "/lab/ca.pem"
    assert effective_verify(session) == "/etc/ssl/env-bundle.pem"  # the trap this module avoids


@pytest.mark.parametrize("pinned,expected", [("/lab/ca.pem", "/lab/ca.pem"), (False, False), (None, "/etc/ssl/env-bundle.pem")])
def test_pinned_session(pinned, expected):
    assert effective_verify(PinnedVerifySession(pinned)) == expected


def test_threecx_client_pins_ca_path_and_validate_certs():
    assert effective_verify(ThreeCXClient("https://pbx.test", "a", "b", ca_path="/lab/ca.pem").session) == "/lab/ca.pem"
    assert effective_verify(ThreeCXClient("https://pbx.test", "a", "b", validate_certs=False).session) is False


def test_twilio_client_pins_ca_bundle():
    client = build_client(account_sid="AC" + "1" * 32, auth_token="t", ca_bundle="/lab/ca.pem")
    assert effective_verify(client.http_client.session) == "/lab/ca.pem"
