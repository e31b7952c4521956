"""Facts about a site that must be worked out in one Python place only (the site model's rule).

The region a site falls back to, and the format of a SIP Domain's regional address, were once
worked out in five and three places (Jinja defaults beside the Python clients) that could
disagree. They live in plugins/module_utils/_twilio_regions.py now; these tests grep the
collection's code, roles and playbooks for any other place that works them out.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEARCHED = ["plugins", "roles", "playbooks", "site.yml", "verify.yml"]
HOME = ROOT / "plugins" / "module_utils" / "_twilio_regions.py"


def code_files():
    for top in SEARCHED:
        path = ROOT / top
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".py", ".yml", ".yaml", ".j2"))
        yield from files


def places(pattern):
    """(file, line) of every line that matches ``pattern`` outside comments and documentation strings."""
    found = []
    for path in code_files():
        in_doc = False
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if path.suffix == ".py" and re.match(r'^(DOCUMENTATION|EXAMPLES|RETURN)\s*=\s*r?"""', stripped):
                in_doc = True
                continue
            if in_doc:
                in_doc = not stripped.startswith('"""')
                continue
            if stripped.startswith("#") or "description" in stripped:
                continue
            if re.search(pattern, line):
                found.append((path.relative_to(ROOT).as_posix(), number))
    return found


def test_the_sip_address_format_is_in_one_place():
    # "<name>.sip.<label>.twilio.com" built from parts: in Python (%s / format) or Jinja (~).
    found = places(r"""\.sip\.%s\.twilio|sip\.\{\}\.twilio|'\.sip\.'\s*~|"\.sip\."\s*~|~\s*'\.twilio\.com'""")
    assert [path for path, _line in found] == ["plugins/module_utils/_twilio_regions.py"], found


def test_the_default_region_is_in_one_place():
    # A literal us1 used as a fallback value: a Python default or assignment, or a Jinja default.
    found = places(r"""default\(\s*['"]us1['"]|or\s+['"]us1['"]|=\s*['"]us1['"]|default=['"]us1['"]""")
    assert [path for path, _line in found] == ["plugins/module_utils/_twilio_regions.py"], found
    assert 'DEFAULT_REGION = "us1"' in HOME.read_text().splitlines()[found[0][1] - 1]
