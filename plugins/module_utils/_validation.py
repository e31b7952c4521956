# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input checks shared by modules (and, through filters, by roles).

PRIVATE to this collection: may change without notice.

Every check runs before any write and raises ValueError with a message that names the
option, says what is wrong with the value and how to fix it.  Modules run them inside
``module.api_errors()``, which turns the ValueError into fail_json.
"""

from __future__ import annotations


def check_digits(params, option, min_length=0, max_length=None, extra=""):
    """``params[option]``, when set, must be digits (plus ``extra`` characters) of a bounded length."""
    value = params.get(option)
    if value is None:
        return
    allowed = "digits" + (" and %s" % " ".join(extra) if extra else "")
    bad = sorted(set(ch for ch in value if not (ch.isdigit() and ch.isascii()) and ch not in extra))
    if bad:
        raise ValueError(
            "%s must contain only %s; %r contains %s. Write it without spaces or separators, for example '44' rather than '+44'."
            % (option, allowed, value, ", ".join(repr(ch) for ch in bad))
        )
    if len(value) < min_length:
        raise ValueError("%s must have at least %d digit(s); got %r" % (option, min_length, value) + (". Leave it unset to keep the PBX's value" if min_length else ""))
    if max_length is not None and len(value) > max_length:
        raise ValueError("%s must have at most %d characters; got %r (%d)" % (option, max_length, value, len(value)))
