#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_template
short_description: Manage a custom SIP trunk provider template (.pv.xml) on a 3CX v20 PBX
version_added: 0.1.0
description:
  - Creates, updates or deletes a custom provider template (Admin Console > Advanced > Templates >
    Provider Templates) through the 3CX Configuration API (C(/xapi/v1/TrunkTemplates)).
  - A new template is either a copy of a template already on the PBX (O(source_template), by default
    C(GenericSIPTrunk.pv.xml); the "Create Copy" of 20.0 Update 9) or a template file you give
    (O(src) or O(content); the "Import Provider" of 20.0 Update 8).
  - The module then binds the four outbound caller-ID header parts to O(caller_id_variable) (by default
    the original caller's number) and sets the codec order O(codecs). Without this, a Twilio SIP Domain
    sees the trunk's own number instead of the customer's.
  - The four header parts are the From user part, the Remote-Party-ID calling party user part, the
    P-Asserted-Identity user part and the P-Preferred-Identity user part. 3CX does not document the
    parameter names of the last two, so the module reads them from the PBX at run time
    (C(GET /Defs/GatewayParameters)) and fails, listing the names the PBX offers, when it cannot
    tell which one is meant. Pin them with O(parameter_names).
  - "An existing template is edited in place: only the four bindings, the codec order and (when set)
    O(display_name) and O(description) are managed; everything else in it stays as it is. With O(src)
    or O(content) the whole document is managed: it must equal the given file after those edits."
  - Templates are compared as normalised XML (comments, whitespace and attribute order do not count,
    nor do the C(<version>) and C(<time>) header values). On every write the module raises
    C(<version>) by one and sets C(<time>) to the current UTC time, as 3CX expects of an updated template.
  - 3CX's built-in templates cannot be edited or deleted; the module refuses to.
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
extends_documentation_fragment:
  - voip.threecx_twilio.threecx
  - voip.threecx_twilio.attributes
  - voip.threecx_twilio.attributes.THREECX
  - voip.threecx_twilio.attributes.IN_PROCESS
attributes:
  check_mode:
    support: full
    details:
      - Reads the template, the source and the catalogues and predicts the result; sends no write.
  diff_mode:
    support: full
    details:
      - Shows a unified diff of the template (re-indented XML, with its name and description on top).
  idempotent:
    support: full
options:
  name:
    description:
      - The template's file name on the PBX, its key in the API (for example V(twilio-sip-domain.pv.xml)).
      - Letters, digits, spaces and C(. _ - ( ) +), ending in C(.pv.xml).
      - Give this name as O(voip.threecx_twilio.threecx_trunk#module:template) to make trunks with it.
    type: str
    required: true
  state:
    description:
      - V(present) creates or updates the template; V(absent) deletes it (a trunk that still uses it may
        make the PBX refuse).
    type: str
    choices: [present, absent]
    default: present
  display_name:
    description:
      - The name the Admin Console shows (the C(Name) field and the C(<name>) of the XML header).
      - Default when creating is O(name) without C(.pv.xml); on an existing template it is only changed when set.
    type: str
  description:
    description:
      - The template's description on the PBX.
    type: str
  source_template:
    description:
      - The template on the PBX to copy when the template does not exist yet and neither O(src) nor
        O(content) is given. Its content is read with C(GET /TrunkTemplates('<source_template>')).
      - Not used once the template exists (it is then edited in place), nor when O(src) or O(content) is given.
      - PBXs before 20.0 Update 9 may not return a built-in template's content; use O(src) there.
    type: str
    default: GenericSIPTrunk.pv.xml
  src:
    description:
      - A C(.pv.xml) file on the host that runs the module (normally the controller) to import instead of
        copying O(source_template). Mutually exclusive with O(content).
    type: path
  content:
    description:
      - The template XML itself, for example from C(lookup('ansible.builtin.file', 'twilio.pv.xml')).
        Mutually exclusive with O(src).
    type: str
  caller_id_variable:
    description:
      - The 3CX variable that the four caller-ID header parts are bound to.
      - The default is spelled as in 3CX's own templates. 3CX's documentation writes C($OriginatorCallerID);
        whether the PBX is case sensitive is not documented, so the module looks the variable up in
        C(GET /Defs/GatewayParameterValues) without regard to case and writes the PBX's spelling.
        An unknown variable fails with the list the PBX offers.
    type: str
    default: $OriginatorCallerId
  codecs:
    description:
      - The codecs in priority order, by RFC name. Codecs the template does not list yet are checked against C(GET /Defs/Codecs).
      - Written in lower case into C(<codecs>) as 3CX's templates do.
    type: list
    elements: str
    default: [PCMU, PCMA, G729]
  parameter_names:
    description:
      - The PBX's names of the four caller-ID gateway parameters, when the module cannot find them by itself
        or you want to pin them. Each must be a name that C(GET /Defs/GatewayParameters) lists
        (M(voip.threecx_twilio.threecx_info) shows them, and which ones look like each header part).
      - Unset names are found by their usual spelling or a pattern; see the description.
    type: dict
    suboptions:
      from_user_part:
        description: The From header user part (usually C(FromUserPart)).
        type: str
      rpid_user_part:
        description: The Remote-Party-ID calling party user part (usually C(RemotePartyIDCallingPartyUserPart)).
        type: str
      pai_user_part:
        description: The P-Asserted-Identity user part (undocumented; for example C(PAssertedIdentityUserPart)).
        type: str
      ppi_user_part:
        description: The P-Preferred-Identity user part (undocumented; for example C(PPreferredIdentityUserPart)).
        type: str
requirements:
  - lxml
notes:
  - The XAPI's write calls for templates (C(POST) and C(PATCH /TrunkTemplates)) are in 3CX's API document
    but no public caller of them was found; check the first run on a real PBX.
  - A template is only bound to trunks when they are created from it
    (M(voip.threecx_twilio.threecx_trunk) O(voip.threecx_twilio.threecx_trunk#module:template)); use
    O(voip.threecx_twilio.threecx_trunk#module:caller_id_passthrough) to keep the caller ID even if the
    template changes later.
seealso:
  - module: voip.threecx_twilio.threecx_trunk
  - module: voip.threecx_twilio.threecx_info
  - name: 3CX VoIP provider templates
    description: How 3CX provider templates are structured.
    link: https://www.3cx.com/blog/docs/voip-provider-template/
"""

EXAMPLES = r"""
- name: Copy GenericSIPTrunk.pv.xml with the caller ID kept in From, RPID, PAI and PPI
  voip.threecx_twilio.threecx_template:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    name: twilio-sip-domain.pv.xml
    display_name: Twilio SIP Domain (caller ID kept)

- name: Import a template file (20.0 Update 8) and pin the PAI/PPI parameter names
  voip.threecx_twilio.threecx_template:
    name: twilio-sip-domain.pv.xml
    src: files/twilio.pv.xml
    parameter_names:
      pai_user_part: PAssertedIdentityUserPart
      ppi_user_part: PPreferredIdentityUserPart
  diff: true

- name: Remove the template
  voip.threecx_twilio.threecx_template:
    name: twilio-sip-domain.pv.xml
    state: absent
"""

RETURN = r"""
template:
  description: The template after the run (predicted in check mode); empty after a delete.
  returned: success
  type: dict
  contains:
    name:
      description: File name, the template's key.
      type: str
      sample: twilio-sip-domain.pv.xml
    display_name:
      description: The name the Admin Console shows.
      type: str
      sample: Twilio SIP Domain (caller ID kept)
    description:
      description: Description.
      type: str
      sample: Keeps the caller ID for Twilio
    content:
      description: The template XML.
      type: str
      sample: <?xml version="1.0" encoding="utf-8"?><doc>...</doc>
    version:
      description: The C(<version>) of the XML header.
      type: str
      sample: "150011"
    parameters_out:
      description: Every outbound parameter of the template and the variable bound to it.
      type: dict
      sample:
        FromUserPart: $OriginatorCallerId
        PAssertedIdentityUserPart: $OriginatorCallerId
    codecs:
      description: The codecs in priority order.
      type: list
      elements: str
      sample: [PCMU, PCMA, G729]
    caller_id_parameters:
      description: The PBX's names of the four caller-ID header parts, as resolved this run.
      type: dict
      sample:
        from_user_part: FromUserPart
        rpid_user_part: RemotePartyIDCallingPartyUserPart
        pai_user_part: PAssertedIdentityUserPart
        ppi_user_part: PPreferredIdentityUserPart
    caller_id_variable:
      description: The variable bound to them, in the PBX's spelling.
      type: str
      sample: $OriginatorCallerId
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: provider template twilio-sip-domain.pv.xml created
diff:
  description:
    - Before and after as text (in diff mode); C(ansible-playbook --diff) shows them as a unified diff.
    - Each is the template's name and description as comments, then its re-indented XML; empty when absent.
  returned: when diff mode is on
  type: dict
  sample:
    before_header: TrunkTemplates('twilio-sip-domain.pv.xml') on the PBX
    after_header: TrunkTemplates('twilio-sip-domain.pv.xml') as desired
    before: ""
    after: "<!-- Name: Twilio -->..."
"""

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.voip.threecx_twilio.plugins.module_utils import _pvxml
from ansible_collections.voip.threecx_twilio.plugins.module_utils import _threecx_catalogue as cat
from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import KIND_STR, Engine, Field, FieldMap
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import TEMPLATE
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule


class _XmlField(Field):
    """Template content compares as normalised XML."""

    def normalise(self, value):
        try:
            return _pvxml.normalise(value)
        except _pvxml.TemplateError:
            return value


FIELDS = FieldMap(
    Field("name", "Id", KIND_STR),
    Field("display_name", "Name", KIND_STR),
    Field("description", "Description", KIND_STR),
    _XmlField("content", "Content"),
)


def read_source(module):
    """src (a file on the module's host) or content, parsed: the template text to start from."""
    p = module.params
    if p["state"] == "absent":
        return
    if p["src"] is not None:
        if not os.path.isfile(p["src"]):
            raise ValueError("src: %s is not a readable file on the host that runs the module" % p["src"])
        with open(p["src"], "rb") as handle:
            p["content"] = handle.read().decode("utf-8-sig")
        _pvxml.parse(p["content"], what="src (%s)" % p["src"])
    elif p["content"] is not None:
        _pvxml.parse(p["content"], what="content")


def stem(name):
    return name[: -len(".pv.xml")]


def desired_content(module, current):
    """The template text the PBX should hold, and the resolved caller-ID names for the result."""
    p = module.params
    client = module.client
    parameters = cat.fetch_parameters(client)
    roles = cat.resolve_caller_id_parameters(parameters, p["parameter_names"])
    value = cat.resolve_value(cat.fetch_values(client), p["caller_id_variable"])
    variable = "$" + value["Name"]
    codecs = [str(name).upper() for name in p["codecs"]]
    if current is None or not current.get("Content") or _pvxml.codecs(current["Content"]) != codecs:
        # Only codecs the template does not list yet are checked against the PBX's codec
        # list, so a converged run does not read it.
        codecs = cat.resolve_codecs(cat.fetch_codecs(client), p["codecs"])

    base_template = None
    previous = []
    if p["content"] is not None:
        base, what = p["content"], "src" if p["src"] else "content"
    elif current is not None:
        base, what = current.get("Content"), "the PBX's template %s" % p["name"]
        if not base:
            raise ValueError("the PBX returned no Content for its template %s, so it cannot be edited in place; give src or content" % p["name"])
    else:
        source = cat.require_template(client, p["source_template"], "source_template")
        base, what = source.get("Content"), "source_template %s" % p["source_template"]
        if not base:
            raise ValueError(
                "the PBX returned no Content for source_template %s, so it cannot be copied (the Create Copy path needs "
                "20.0 Update 9 or later). Import a template file instead with src or content (the Update 8 path)" % p["source_template"]
            )
        base_template = p["source_template"]
    previous.append(base)
    header_name = p["display_name"]
    if header_name is None and current is None:
        header_name = stem(p["name"])
    bindings = dict((roles[role]["Name"], variable) for role in cat.ROLES)
    text = _pvxml.edit(base, bindings, codecs, header_name=header_name, base_template=base_template, what=what)
    if current is not None and current.get("Content"):
        previous.append(current["Content"])
        if _pvxml.same(current["Content"], text):
            text = current["Content"]
        else:
            text = _pvxml.bump(text, *previous)
    else:
        text = _pvxml.bump(text, *previous)
    resolved = {
        "caller_id_parameters": dict((role, roles[role]["Name"]) for role in cat.ROLES),
        "caller_id_variable": variable,
    }
    return text, resolved


def view(obj, resolved=None):
    result = FIELDS.from_api(obj) if obj else {}
    if obj and obj.get("Content"):
        try:
            info = _pvxml.summary(obj["Content"])
            result.update(version=info["version"], parameters_out=info["parameters_out"], codecs=info["codecs"])
        except _pvxml.TemplateError:
            pass
    if obj and resolved:
        result.update(resolved)
    return result


def render(obj):
    """Template as text for the diff: name and description as comments, then the XML."""
    if not obj:
        return ""
    head = "<!-- Name: %s -->\n<!-- Description: %s -->\n" % (obj.get("Name") or "", obj.get("Description") or "")
    try:
        body = _pvxml.pretty(obj.get("Content"))
    except _pvxml.TemplateError:
        body = str(obj.get("Content") or "")
    return head + body


def text_diff(name, before, after):
    path = "TrunkTemplates('%s')" % name
    return {
        "before_header": "%s on the PBX" % path,
        "after_header": "%s as desired" % path,
        "before": render(before),
        "after": render(after),
    }


def main():
    module = ThreeCXModule(
        TEMPLATE,
        supports_check_mode=True,
    )
    if not _pvxml.HAS_LXML:
        module.fail_json(msg=missing_required_lib("lxml"), exception=_pvxml.LXML_IMPORT_ERROR)
    p = module.params
    name = p["name"]
    engine = Engine(module, FIELDS, result_key="template", kind="provider template")
    with module.api_errors():
        read_source(module)
        client = module.client
        path = cat.template_path(name)
        current = client.get_or_none(path)
        if current is not None and cat.is_builtin(current):
            raise ValueError(
                "%s is a built-in 3CX template: built-in templates can be neither edited nor deleted. "
                "Give your copy another name (source_template: %s copies it)" % (name, name)
            )
        if p["state"] == "absent":
            result = engine.absent(current, delete=lambda _c: client.delete(path), name=name)
            after = None
            resolved = None
        else:
            text, resolved = desired_content(module, current)
            p["content"] = text
            if current is None and p["display_name"] is None:
                p["display_name"] = stem(name)
            result = engine.present(
                current,
                create=cat.template_write(lambda payload: client.post(cat.TEMPLATES_PATH, payload), name),
                update=cat.template_write(lambda _c, payload: client.patch(path, payload), name),
                predict=lambda payload: payload,
                find=lambda: client.get_or_none(path),
                name=name,
            )
            after = FIELDS.to_api(result["template"])
            if current is not None and not result["changed"]:
                after = current
    result["template"] = view(after, resolved)
    if module._diff:
        result["diff"] = text_diff(name, current, after) if result["changed"] else {"before": "", "after": ""}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
