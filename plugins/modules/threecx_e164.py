#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: threecx_e164
short_description: Manage the E164 number processing settings of a 3CX v20 PBX
version_added: 0.1.0
description:
  - Sets the PBX-wide E164 settings (Admin Console > Advanced > E164) through the 3CX
    Configuration API (C(PATCH /xapi/v1/E164Settings)).
  - The fallback flow to a Twilio SIP Domain needs "Process E164 numbers" off (O(process_e164=false)).
    When it is on, 3CX rewrites the forwarded number so that it no longer matches what Twilio
    routes on, and the forwarded call fails or reaches the wrong handler.
  - Only the options you set are compared and sent; the others keep their value on the PBX.
  - The settings are PBX-wide and affect every trunk. Per-trunk E164 processing of incoming
    numbers is a trunk setting (C(E164ProcessIncomingNumber)), not changed by this module.
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
      - Reads the settings and predicts the result; sends no write.
  diff_mode:
    support: full
    details:
      - Shows before and after of the options that change.
  idempotent:
    support: full
options:
  process_e164:
    description:
      - Whether the PBX processes numbers into E164 form (the C(Enabled) field; the
        "Process E164 numbers" switch in the Admin Console).
      - Set V(false) for the Twilio fallback flow.
    type: bool
  country_code:
    description:
      - The PBX's country calling code, digits only, without C(+) or C(00) (for example V(1), V(44), V(971)).
    type: str
  country_name:
    description:
      - The country's name as the Admin Console shows it (for example V(United States)).
    type: str
  area_code:
    description:
      - The local area code, digits only, or V("") for none.
    type: str
  international_code:
    description:
      - The international dialling prefix, digits only (for example V(011) in North America, V(00) elsewhere).
    type: str
  national_code:
    description:
      - The national (trunk) prefix, digits only (for example V(1) or V(0)), or V("") for none.
    type: str
  prefix:
    description:
      - A prefix to prepend to processed numbers; digits, C(+), C(*) and C(#) only, or V("") for none.
    type: str
  remove_country_code:
    description:
      - Whether to remove the country code from numbers of the PBX's own country.
    type: bool
  remove_area_code:
    description:
      - Whether to remove the area code from numbers of the PBX's own area.
    type: bool
notes:
  - Nothing is written when every option you set already has its value, so a second run reports
    no change and sends only reads.
  - Which field the UI's "Process E164 numbers" is, and that a PATCH of C(/E164Settings) takes, are inferred
    from the API document, not confirmed. So after a write the settings are read back; a field the PBX
    does not show fails the task naming it and what was read back. Only writes pay for this read.
seealso:
  - name: 3CX Configuration API
    description: The XAPI reference.
    link: https://www.3cx.com/docs/configuration-rest-api/
"""

EXAMPLES = r"""
- name: Turn off E164 processing for the Twilio fallback flow
  voip.threecx_twilio.threecx_e164:
    url: https://pbx.example.com:5001
    client_id: ansible
    client_secret: "{{ vault_threecx_client_secret }}"
    process_e164: false

- name: Same, with credentials from module_defaults (or the THREECX_* environment variables)
  module_defaults:
    group/voip.threecx_twilio.threecx:
      url: "{{ threecx_url }}"
      client_id: "{{ threecx_client_id }}"
      client_secret: "{{ threecx_client_secret }}"
  block:
    - name: Check what would change, without changing it
      voip.threecx_twilio.threecx_e164:
        process_e164: false
        country_code: "44"
        international_code: "00"
        national_code: "0"
      check_mode: true
      diff: true
      register: e164_plan

    - name: Show the prediction
      ansible.builtin.debug:
        var: e164_plan.diff
"""

RETURN = r"""
e164:
  description: The E164 settings after the run (predicted in check mode), in the module's option names.
  returned: success
  type: dict
  contains:
    process_e164:
      description: Whether E164 processing is on.
      type: bool
      sample: false
    country_code:
      description: Country calling code.
      type: str
      sample: "1"
    country_name:
      description: Country name.
      type: str
      sample: United States
    area_code:
      description: Area code.
      type: str
      sample: ""
    international_code:
      description: International dialling prefix.
      type: str
      sample: "011"
    national_code:
      description: National prefix.
      type: str
      sample: "1"
    prefix:
      description: Prefix prepended to processed numbers.
      type: str
      sample: ""
    remove_country_code:
      description: Whether the country code is removed for local numbers.
      type: bool
      sample: false
    remove_area_code:
      description: Whether the area code is removed for local numbers.
      type: bool
      sample: false
msg:
  description: What the module did, in words.
  returned: always
  type: str
  sample: E164 settings updated (process_e164)
diff:
  description: Before and after of the options that changed (only in diff mode).
  returned: when diff mode is on (empty before and after when nothing changes)
  type: dict
  sample:
    before:
      process_e164: true
    after:
      process_e164: false
"""

from ansible_collections.voip.threecx_twilio.plugins.module_utils._engine import KIND_STR, Engine, Field, FieldMap
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_module import ThreeCXModule
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_routing import confirmed_write
from ansible_collections.voip.threecx_twilio.plugins.module_utils._threecx_inputs import E164

PATH = "/E164Settings"

FIELDS = FieldMap(
    Field("process_e164", "Enabled"),
    Field("country_code", "CountryCode", KIND_STR),
    Field("country_name", "CountryName", KIND_STR),
    Field("area_code", "AreaCode", KIND_STR),
    Field("international_code", "InternationalCode", KIND_STR),
    Field("national_code", "NationalCode", KIND_STR),
    Field("prefix", "Prefix", KIND_STR),
    Field("remove_country_code", "RemoveCountryCode"),
    Field("remove_area_code", "RemoveAreaCode"),
)


def main():
    module = ThreeCXModule(
        E164,
        supports_check_mode=True,
    )
    engine = Engine(module, FIELDS, result_key="e164", kind="E164 settings")
    with module.api_errors():
        current = module.client.get(PATH)
        result = engine.present(
            current,
            update=lambda _current, payload: module.client.patch(PATH, payload),
            confirm=confirmed_write(lambda _obj: module.client.get(PATH)),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
