# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The duplicates option of the modules whose objects' names the vendor does not keep unique.
    DOCUMENTATION = r"""
options:
  duplicates:
    description:
      - What to do when several objects of the account have the name the module looks for (Twilio does not keep names unique;
        a create that landed after the module stopped waiting, then made again, leaves two).
      - V(fail) fails before any write, listing each object with its SID, creation time and how many entries it holds.
      - V(adopt_oldest) manages the oldest and deletes the newer duplicates that hold no entries (the collection keeps no
        change journal, so an empty list is the only one it can prove nobody uses). A newer duplicate that holds entries,
        or two with the same creation time, still fails before any delete. Check mode predicts the deletes.
      - With O(state=absent) several objects of the name always fail.
    type: str
    choices: [fail, adopt_oldest]
    default: fail
    version_added: 0.2.0
"""
