# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""requests plumbing shared by both vendor clients.

PRIVATE to this collection: may change without notice.
"""

from __future__ import annotations

try:
    import requests

    _Session = requests.Session
except ImportError:  # pragma: no cover - the vendor modules report the missing library
    _Session = object


class PinnedVerifySession(_Session):
    """A Session whose certificate setting cannot be overridden by the environment.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace ``Session.verify`` on every
    request, so a user's ``ca_path`` (or ``validate_certs: false``) would silently give way
    to whatever the controller's environment says.  When the user chose, the choice holds;
    proxies and the rest of the environment still apply.
    """

    def __init__(self, verify=None):
        super(PinnedVerifySession, self).__init__()
        self.pinned_verify = verify
        if verify is not None:
            self.verify = verify

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super(PinnedVerifySession, self).merge_environment_settings(url, proxies, stream, verify, cert)
        if self.pinned_verify is not None and verify in (None, True):
            settings["verify"] = self.pinned_verify
        return settings
