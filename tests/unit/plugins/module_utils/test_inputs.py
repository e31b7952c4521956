"""ModuleInput, Names and Problems: one declared input, checked the same way by a module and the site model."""

from __future__ import annotations

import pytest

from ansible.module_utils.basic import env_fallback

from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import (
    ModuleInput,
    Names,
    Problems,
)


def check_name(p, n, problems):
    with problems:
        if p["name"] is not None and not p["name"].strip():
            raise ValueError("%s must not be empty" % n("name"))
    with problems:
        if p["count"] is not None and p["count"] > 5:
            raise ValueError("%s must be at most 5; got %s" % (n("count"), p["count"]))


BASE = ModuleInput(dict(url=dict(type="str", required=True, fallback=(env_fallback, ["DEMO_URL"]))))
DEMO = BASE.extended(
    dict(
        name=dict(type="str"),
        count=dict(type="int"),
        mode=dict(type="str", choices=["a", "b"]),
        items=dict(type="list", elements="str"),
    ),
    checks=(check_name,),
).with_constraints(mutually_exclusive=[("name", "items")])
NAMES = Names(
    {
        "name": "site_name",
        "count": "site_count",
        "mode": "site_mode",
        "url": "site_url",
        "items": "site_items",
    }
)


def test_names_map_options_and_their_parts():
    n = Names({"credentials": "site_credentials", "did_numbers[0]": "site_did"})
    assert n("credentials[2].password") == "site_credentials[2].password"
    assert n("did_numbers[0]") == "site_did"
    assert n("other") == "other"


def test_problems_collect_every_value_error_and_cut_long_values():
    problems = Problems()
    with problems:
        raise ValueError("a is wrong")
    with problems:
        raise ValueError("b is wrong: " + "x" * 500)
    assert problems.messages[0] == "a is wrong"
    assert problems.messages[1].endswith("... (500 characters)") and len(problems.messages[1]) < 260
    with pytest.raises(ValueError, match="a is wrong; b is wrong"):
        problems.raise_any()
    with pytest.raises(KeyError):
        with Problems():
            raise KeyError("not an input problem")


def test_validate_names_every_problem_with_the_given_names(monkeypatch):
    monkeypatch.delenv("DEMO_URL", raising=False)
    params, problems = DEMO.validate(dict(name=" ", count="seven", mode="c"), NAMES)
    assert problems.messages[0] == "site_url is required and is not set (or set the environment variable DEMO_URL)"
    assert any(m.startswith("site_count: ") and "site_count" in m[len("site_count: ") :] for m in problems.messages), problems.messages
    assert any(m.startswith("site_mode: value of site_mode must be one of: a, b") for m in problems.messages), problems.messages
    assert "site_name must not be empty" in problems.messages
    # The check does not speak again of an option that failed its type.
    assert not [m for m in problems.messages if "at most 5" in m]


def test_validate_applies_fallbacks_and_defaults(monkeypatch):
    monkeypatch.setenv("DEMO_URL", "https://example.com")
    params, problems = DEMO.validate(dict(count="3"), NAMES)
    assert problems.messages == []
    assert params["url"] == "https://example.com" and params["count"] == 3 and params["name"] is None


def test_constraints_are_reported_in_site_names_when_no_check_said_more(monkeypatch):
    monkeypatch.setenv("DEMO_URL", "https://example.com")
    _params, problems = DEMO.validate(dict(name="x", items=["y"]), NAMES)
    assert problems.messages == ["parameters are mutually exclusive: site_name|site_items"]


def test_the_own_part_leaves_the_connection_out(monkeypatch):
    monkeypatch.delenv("DEMO_URL", raising=False)
    _params, problems = DEMO.own.validate(dict(count=9), NAMES)
    assert problems.messages == ["site_count must be at most 5; got 9"]


def test_a_module_reports_every_problem_at_once():
    with pytest.raises(ValueError) as caught:
        DEMO.check_params(dict(url="u", name=" ", count=9, mode=None, items=None))
    assert str(caught.value) == "name must not be empty; count must be at most 5; got 9"


def test_argument_errors_are_worded_with_the_option_even_when_ansible_names_it_second():
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import validation_message

    spec = dict(credentials=dict(type="list", elements="dict", options=dict(username=dict(type="str"), password=dict(type="str", no_log=True))))
    errors = ArgumentSpecValidator(spec).validate({"credentials": "u:Secret0Password1"}).errors
    assert "credentials" not in errors.msg  # ansible-core's first error: the reason this exists
    message = validation_message(errors.errors)
    assert message.startswith("Elements value for option 'credentials'") and message.count("dictionary requested") == 1
    assert validation_message([ValueError("a"), ValueError("b"), ValueError("a")]) == "a; b"
