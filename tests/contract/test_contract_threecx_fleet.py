"""A named PBX of the fleet (/pbx/<name>) against the 3CX document, through requests.

The violation guard reads the root's request log, which includes every named PBX's entries:
these tests fail on any violation a named PBX records.
"""

import pytest

SITE = "contract-site"


class NamedPbx:
    """Just what the collection's client does: <url>/connect/token and <url>/xapi/v1<path>."""

    def __init__(self, lab, descriptor: dict):
        self.lab = lab
        self.d = descriptor
        form = {
            "grant_type": "client_credentials",
            "client_id": descriptor["client_id"],
            "client_secret": descriptor["client_secret"],
        }
        resp = lab.http.post(descriptor["url"] + "/connect/token", data=form, timeout=30)
        assert resp.status_code == 200, resp.text
        self.token = resp.json()["access_token"]

    def call(self, method: str, path: str, **kw):
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.lab.http.request(method, f"{self.d['url']}/xapi/v1{path}", headers=headers, timeout=30, **kw)


@pytest.fixture
def site(threecx_lab) -> NamedPbx:
    resp = threecx_lab.control("threecx", "POST", "pbxs", json={"names": [SITE]})
    assert resp.status_code == 200, resp.text
    return NamedPbx(threecx_lab, resp.json()["pbxs"][SITE])


def test_named_pbx_serves_the_documented_xapi(threecx_lab, site):
    params = site.call("GET", "/Defs/Pbx.GetSystemParameters()").json()
    assert params["StaticIp"] == site.d["public_ip"] and params["Version"].startswith(site.d["version"] + ".")
    assert site.call("PATCH", "/E164Settings", json={"Enabled": False}).status_code == 204
    assert site.call("GET", "/E164Settings", params={"$select": "Enabled"}).json()["Enabled"] is False
    queue = site.call("POST", "/Queues", json={"Name": "Contract", "Agents": [{"Number": "100"}]})
    assert queue.status_code == 201, queue.text
    listed = site.call("GET", "/Queues", params={"$expand": "Agents"}).json()
    assert listed["@odata.context"].startswith(site.d["url"] + "/xapi/v1/$metadata#Queues")
    assert [a["Number"] for a in listed["value"][0]["Agents"]] == ["100"]
    trunk = site.call("GET", "/Trunks/Pbx.InitTrunk(template='GenericVoIPProvider.pv.xml')").json()
    trunk.pop("@odata.context")
    trunk["Gateway"]["Host"] = "contract.sip.us1.twilio.com"
    assert site.call("POST", "/Trunks", json=trunk).status_code == 201
    assert site.call("DELETE", f"/Queues({queue.json()['Id']})").status_code == 204
    entries = [e for e in threecx_lab.requests_log("threecx") if e.get("pbx") == SITE]
    assert len(entries) == 9 and all(e["path"].startswith(f"/pbx/{SITE}/") for e in entries)


def test_named_pbx_violations_reach_the_root_log(threecx_lab, site, expect_violations):
    resp = site.call("POST", "/Queues", json={"Name": "Bad", "PollingStrategy": "Ring All"})
    assert resp.status_code == 500 and resp.json()["error"]["code"] == "LabContractViolation"
    assert site.call("GET", "/Queues").json()["value"] == [], "an invalid request is never performed"
    flagged = [(e.get("pbx"), e["path"]) for e in threecx_lab.requests_log("threecx") if e["violations"]]
    assert flagged == [(SITE, f"/pbx/{SITE}/xapi/v1/Queues")]
