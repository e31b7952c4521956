"""The AWX credential types inject exactly the environment variables the modules read."""

from pathlib import Path

import pytest
import yaml
from jinja2 import Environment

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_inputs, _twilio_inputs

TYPES = Path(__file__).resolve().parents[2] / "extensions" / "awx" / "credential_types"


def env_names(spec):
    names = set()
    for option in spec.values():
        fallback = option.get("fallback")
        if fallback:
            names.update(fallback[1])
    return names


@pytest.mark.parametrize("name,spec", [("twilio", _twilio_inputs.CONNECTION.argument_spec), ("threecx", _threecx_inputs.CONNECTION.argument_spec)])
def test_injectors_match_the_modules_environment(name, spec):
    definition = yaml.safe_load((TYPES / ("%s.yml" % name)).read_text())
    assert set(definition["injectors"]["env"]) == env_names(spec)
    fields = set(f["id"] for f in definition["inputs"]["fields"])
    assert fields <= set(spec), "every input is a module option"
    for field in definition["inputs"]["fields"]:
        assert field.get("secret", False) == bool(spec[field["id"]].get("no_log")), field["id"]


@pytest.mark.parametrize("name", ["twilio", "threecx"])
def test_unset_optional_fields_render_empty(name):
    """AWX renders every injector; optional fields left empty must come out as ""."""
    definition = yaml.safe_load((TYPES / ("%s.yml" % name)).read_text())
    inputs = dict((f["id"], f.get("default", "")) for f in definition["inputs"]["fields"])
    inputs["tower"] = {"filename": {"ca_bundle": "/tmp/x", "ca_path": "/tmp/y"}}
    env = Environment()
    rendered = dict((k, env.from_string(v).render(**inputs)) for k, v in definition["injectors"]["env"].items())
    assert rendered.get("TWILIO_CA_BUNDLE", "") == "" and rendered.get("THREECX_CA_PATH", "") == ""
