# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Action plugin of voip.threecx_twilio.threecx_agent_presence: runs the module in the controller's worker process
where a module process would run the same Python there (plugin_utils/in_process.py)."""

from __future__ import annotations

from ansible_collections.voip.threecx_twilio.plugins.modules import threecx_agent_presence
from ansible_collections.voip.threecx_twilio.plugins.plugin_utils.in_process import in_process_action

ActionModule = in_process_action(threecx_agent_presence)
