# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Standard attributes; a module extends this fragment and states its support level only.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation
        indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
"""

    TWILIO = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/voip.threecx_twilio.twilio) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - voip.threecx_twilio.twilio
"""

    THREECX = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/voip.threecx_twilio.threecx) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - voip.threecx_twilio.threecx
"""

    # Every module with an action plugin of the in-process runner (plugins/plugin_utils/in_process.py).
    IN_PROCESS = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - On a local connection with the controller's own Python (C(ansible_python_interpreter) unset or C(ansible_playbook_python)),
        without become or async, the module runs in the controller's worker process instead of a new Python process; its input,
        output, check mode, diff and C(no_log) handling are the same.
      - Set the variable C(voip_threecx_twilio_in_process=false) to run it as a module process.
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""
