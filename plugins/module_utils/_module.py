# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The base of both vendors' module classes: declared input, input checks, API errors as fail_json.

PRIVATE to this collection: may change without notice.

Shaped after amazon.aws's AnsibleAWSModule: a module declares its input (``_twilio_inputs`` /
``_threecx_inputs``: the connection options, documented by the ``voip.threecx_twilio.twilio`` and
``.threecx`` doc fragments, plus its own), and the base class builds the AnsibleModule from it and
runs its input checks before the module sends anything. The vendor classes live in
``_threecx_module.py`` and ``_twilio_module.py``, so that a module imports one vendor's client only.
"""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voip.threecx_twilio.plugins.module_utils._inputs import validation_message


def _merge_constraints(declared, given):
    merged = dict(declared)
    for key, value in given.items():
        if key in merged and isinstance(value, (list, tuple)):
            merged[key] = list(merged[key]) + list(value)
        else:
            merged[key] = value
    return merged


class VendorModule(AnsibleModule):
    """What both vendors' modules share: the declared input, its checks, and API errors as fail_json.

    ``module_input`` is the module's ModuleInput; a module that has none yet passes its own
    ``argument_spec`` (merged into the vendor's connection options) and constraints.
    """

    connection = None  # the vendor's connection ModuleInput
    error_types = ()

    def __init__(self, module_input=None, argument_spec=None, **kwargs):
        if module_input is None:
            module_input = self.connection.extended(argument_spec or {})
        self.module_input = module_input
        super(VendorModule, self).__init__(**_merge_constraints(module_input.module_kwargs(), kwargs))
        self._client = None
        # An AWX credential type injects every variable it knows, unset ones as "". An empty
        # optional connection value means "not given", not "the empty string".
        for name, option in self.connection.argument_spec.items():
            if not option.get("required") and option["type"] in ("str", "path") and self.params.get(name) == "":
                self.params[name] = None
        self._input_checked = True
        self.check_requirements()
        try:
            warnings = module_input.check_params(self.params)
        except ValueError as exc:
            self.fail_json(msg=str(exc))
        for message in warnings:
            self.warn(message)

    def fail_json(self, msg, **kwargs):
        # ansible-core fails on the first argument error, whose message may not name the option (a
        # string where credentials, a list of dicts, belongs: "dictionary requested, could not
        # parse JSON or key=value"); every error of that validation is worded instead.
        result = getattr(self, "validation_result", None)
        if result is not None and not getattr(self, "_input_checked", False) and result.errors and msg == result.errors.msg:
            msg = validation_message(result.errors.errors)
        super(VendorModule, self).fail_json(msg=msg, **kwargs)

    def check_requirements(self):
        """Fail with missing_required_lib when the vendor library is absent."""

    def fail_api(self, exc, msg=None):
        """Fail with the vendor error's message and structured fields, never credentials."""
        text = str(exc) if msg is None else "%s: %s" % (msg, exc)
        self.fail_json(msg=text, error=exc.to_result())

    @contextlib.contextmanager
    def api_errors(self):
        """Turn vendor and input errors raised inside the block into fail_json."""
        try:
            yield
        except self.error_types as exc:
            self.fail_api(exc)
        except ValueError as exc:
            self.fail_json(msg=str(exc))
