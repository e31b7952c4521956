"""The site model (_site.plan): derived values, the table of bad sites, and agreement with the modules.

The table (tests/support/site_cases.py) is run twice: through the site model, where every bad case
must be refused naming its variable; and through the modules themselves, fed with the arguments the
plan gives their task (secrets and connection added as the roles wire them), with any request
stopped at the client. A value the site model accepts must be accepted by every module, and a bad
value the site model refuses must be refused by a module too, unless the case is listed as a rule
of the site alone (SITE_ONLY), which no module may then refuse.
"""

from __future__ import annotations

import importlib
import json

import pytest

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _site
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import (
    ThreeCXModule,
)
from ansible_collections.voip.threecx_twilio.plugins.module_utils._twilio_module import (
    TwilioModule,
)
from tests.support import site_cases
from tests.unit.plugins.modtest import run_module

ENV_PREFIXES = ("TWILIO_", "THREECX_")


@pytest.fixture(autouse=True)
def no_vendor_environment(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIXES):
            monkeypatch.delenv(name)


def test_a_good_site_is_planned_with_every_derived_value():
    plan = _site.plan(site_cases.site(dict(twilio_sip_domain_region="ie1")))
    assert plan["ok"] and plan["problems"] == []
    assert (plan["region"], plan["edge"]) == ("ie1", "dublin")
    assert plan["domain_name"] == "acme.sip.twilio.com"
    assert plan["sip_uri"] == plan["sip_address"] == "acme.sip.ie1.twilio.com"
    twilio, threecx = plan["twilio"], plan["threecx"]
    assert twilio["auth_mode"] == "ip_acl" and set(twilio["tasks"]) == {
        "ip_acl",
        "sip_domain",
    }
    assert twilio["tasks"]["ip_acl"]["args"] == {
        "friendly_name": "acme PBX",
        "ip_addresses": ["203.0.113.10"],
        "allow_wide_ranges": False,
    }
    assert twilio["tasks"]["sip_domain"]["args"]["ip_access_control_lists"] == ["acme PBX"]
    assert twilio["connection"] == {
        "account_sid": "AC" + site_cases.HEX,
        "region": "ie1",
    }
    trunk = threecx["tasks"]["trunk"]["args"]
    assert trunk["registrar"] == "acme.sip.ie1.twilio.com" and trunk["did_numbers"] == ["+12125550100"]
    assert threecx["tasks"]["group"]["module"] == "threecx_queue"
    assert threecx["tasks"]["group"]["args"]["no_answer_destination"] == {
        "type": "external",
        "external": "+12125550199",
    }
    assert threecx["tasks"]["inbound_rule"]["args"]["destination"] == {
        "type": "queue",
        "number": "800",
    }
    assert threecx["tasks"]["e164"]["args"] == {"process_e164": False}


def test_the_region_defaults_to_the_environment_then_us1(monkeypatch):
    site = site_cases.site(dict(twilio_sip_domain_region=""))
    assert _site.plan(site)["region"] == "us1"
    monkeypatch.setenv("TWILIO_REGION", "au1")
    plan = _site.plan(site)
    assert (plan["region"], plan["edge"], plan["sip_address"]) == (
        "au1",
        "sydney",
        "acme.sip.au1.twilio.com",
    )


def test_connection_values_may_come_from_the_environment(monkeypatch):
    site = site_cases.site(dict(threecx_fallback_client_secret="", twilio_sip_domain_auth_token=""))
    assert not _site.plan(site)["ok"]
    monkeypatch.setenv("THREECX_CLIENT_SECRET", "from-env")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-env")
    assert _site.plan(site)["ok"]


def test_no_secret_is_in_the_plan():
    site = site_cases.site(
        dict(
            site_cases.CREDENTIALS,
            threecx_fallback_auth_mode="credentials",
            threecx_fallback_auth_id="acme",
            threecx_fallback_auth_password="TrunkSecret123",
        )
    )
    plan = _site.plan(site)
    assert plan["ok"], plan["problems"]
    text = json.dumps(plan)
    for secret in (
        "not-a-real-token",
        "not-a-real-secret",
        site_cases.GOOD_PASSWORD,
        "TrunkSecret123",
    ):
        assert secret not in text
    assert plan["twilio"]["credential_usernames"] == ["acme-pbx"]


def test_the_3cx_side_alone_derives_its_address_from_the_twilio_variables():
    plan = _site.plan(site_cases.site(dict(twilio_sip_domain_region="au1")), sides=["threecx"])
    assert plan["ok"] and plan["twilio"] is None
    assert plan["sip_address"] == "acme.sip.au1.twilio.com"
    alone = dict((k, v) for k, v in site_cases.BASE.items() if k.startswith("threecx_"))
    plan = _site.plan(alone, sides=["threecx"])
    assert not plan["ok"] and "threecx_fallback_sip_domain is empty" in plan["problems"][0]


def test_every_problem_is_listed_at_once():
    bad = site_cases.site(
        dict(
            threecx_fallback_template_name="gulf-o'neil-cid.pv.xml",
            threecx_fallback_queue_timeout=1000000000,
            threecx_fallback_client_secret="",
            twilio_sip_domain_pbx_public_ips="1.2.3.4",
        )
    )
    problems = _site.plan(bad)["problems"]
    assert len(problems) == 4, problems
    for name in (
        "threecx_fallback_template_name",
        "threecx_fallback_queue_timeout",
        "threecx_fallback_client_secret",
        "twilio_sip_domain_pbx_public_ips",
    ):
        assert sum(1 for p in problems if name in p) == 1, (name, problems)


def test_a_variable_of_the_wrong_type_is_named_once():
    problems = _site.plan(site_cases.site(dict(twilio_sip_domain_pbx_public_ips="1.2.3.4")))["problems"]
    assert problems == ["twilio_sip_domain_pbx_public_ips must be a list (write it as a YAML list, for example ['1.2.3.4']); got str '1.2.3.4'"]


def test_a_long_value_is_not_echoed_whole():
    problems = _site.plan(site_cases.site(dict(threecx_fallback_port="9" * 3000)))["problems"]
    assert problems and all(len(p) < 400 for p in problems), problems


def test_secret_values_are_not_echoed():
    problems = _site.plan(site_cases.site(dict(threecx_fallback_client_secret=["s3cr3t-list"])))["problems"]
    assert problems and "s3cr3t-list" not in " ".join(problems)


def test_the_table_has_at_least_sixty_bad_cases_with_unique_ids():
    ids = [case[0] for case in site_cases.BAD]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)
    assert site_cases.SITE_ONLY <= set(ids)


@pytest.mark.parametrize("case_id,change,variable", site_cases.BAD, ids=[c[0] for c in site_cases.BAD])
def test_a_bad_site_is_refused_naming_its_variable(case_id, change, variable):
    plan = _site.plan(site_cases.site(change))
    assert not plan["ok"], case_id
    assert any(variable in p for p in plan["problems"]), plan["problems"]
    for problem in plan["problems"]:
        assert any(name in problem for name in _site.VARIABLES), problem


@pytest.mark.parametrize("case_id,change", site_cases.GOOD, ids=[c[0] for c in site_cases.GOOD])
def test_a_good_site_is_accepted(case_id, change):
    plan = _site.plan(site_cases.site(change))
    assert plan["ok"], plan["problems"]


# ---------------------------------------------------------------------------- agreement with the modules


class ReachedTheVendor(BaseException):
    """A module passed its input checks and asked for its client: it would send a request now."""


def _stop(self):
    raise ReachedTheVendor()


SECRETS_OF = {
    "twilio_credential_list": lambda s: {"credentials": s.get("twilio_sip_domain_credentials")},
    "threecx_trunk": lambda s: {"auth_password": s.get("threecx_fallback_auth_password") or None},
}


def connection_args(site, plan, module):
    """The connection options as the roles' module_defaults wire them."""
    if module.startswith("twilio_"):
        args = dict(plan["twilio"]["connection"]) if plan["twilio"] else {}
        args.setdefault("region", plan["twilio"]["region"] if plan["twilio"] else None)
        for option in ("auth_token", "api_key", "api_secret"):
            args[option] = site.get("twilio_sip_domain_" + option) or None
    else:
        args = dict(plan["threecx"]["connection"]) if plan["threecx"] else {}
        args["client_secret"] = site.get("threecx_fallback_client_secret") or None
    return dict((k, v) for k, v in args.items() if v is not None)


def module_verdicts(site, monkeypatch):
    """{module: None (accepted) or its failure message}, for every task the plan has."""
    monkeypatch.setattr(ThreeCXModule, "client", property(_stop))
    monkeypatch.setattr(TwilioModule, "client", property(_stop))
    plan = _site.plan(site)
    verdicts = {}
    for side in ("twilio", "threecx"):
        for task in (plan[side] or {}).get("tasks", {}).values():
            args = dict(connection_args(site, plan, task["module"]), **task["args"])
            extra = SECRETS_OF.get(task["module"], lambda s: {})(site)
            args.update((k, v) for k, v in extra.items() if v is not None)
            main = importlib.import_module("ansible_collections.voip.threecx_twilio.plugins.modules." + task["module"]).main
            try:
                kind, result = run_module(main, args, monkeypatch)
            except ReachedTheVendor:
                verdicts[task["module"]] = None
                continue
            verdicts[task["module"]] = result.get("msg", "")
    return plan, verdicts


@pytest.mark.parametrize("case_id,change", site_cases.GOOD, ids=[c[0] for c in site_cases.GOOD])
def test_what_the_site_model_accepts_every_module_accepts(case_id, change, monkeypatch):
    plan, verdicts = module_verdicts(site_cases.site(change), monkeypatch)
    assert plan["ok"], plan["problems"]
    assert verdicts and all(v is None for v in verdicts.values()), verdicts


@pytest.mark.parametrize("case_id,change,variable", site_cases.BAD, ids=[c[0] for c in site_cases.BAD])
def test_a_bad_value_is_refused_by_the_same_check_in_a_module(case_id, change, variable, monkeypatch):
    plan, verdicts = module_verdicts(site_cases.site(change), monkeypatch)
    refused = dict((m, v) for m, v in verdicts.items() if v is not None)
    if case_id in site_cases.SITE_ONLY:
        assert not refused, "listed as a rule of the site alone, but %s refuse it: %s" % (
            ", ".join(refused),
            refused,
        )
    else:
        assert refused, "no module refuses %s (add the case to SITE_ONLY if that is meant): %s" % (
            case_id,
            plan["problems"],
        )


@pytest.mark.parametrize(
    "change,named",
    [
        (
            dict(twilio_sip_domain_pbx_public_ips=["0.0.0.0/1", "128.0.0.0/1"], twilio_sip_domain_allow_wide_ranges=True),
            ("twilio_sip_domain_pbx_public_ips", "twilio_sip_domain_allow_wide_ranges"),
        ),
        (
            dict(twilio_sip_domain_voice_url="http://voice.example.com/acme", twilio_sip_domain_allow_http_webhooks=True),
            ("twilio_sip_domain_voice_url", "twilio_sip_domain_allow_http_webhooks"),
        ),
    ],
    ids=["wide-ranges", "http-webhook"],
)
def test_a_value_an_allow_variable_lets_through_is_planned_with_a_warning_naming_both(change, named):
    refused = _site.plan(site_cases.site({k: v for k, v in change.items() if "allow" not in k}))
    assert not refused["ok"] and any(named[1] in p for p in refused["problems"]), refused["problems"]
    plan = _site.plan(site_cases.site(change))
    assert plan["ok"], plan["problems"]
    assert len(plan["warnings"]) == 1 and all(word in plan["warnings"][0] for word in named), plan["warnings"]


def test_a_good_site_has_no_warning():
    assert _site.plan(site_cases.site({}))["warnings"] == []
