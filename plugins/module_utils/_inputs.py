# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A module's declared input: its argument spec and its input checks, in one object.

PRIVATE to this collection: may change without notice.

A module builds its AnsibleModule from ``ModuleInput.module_kwargs()`` and then runs
``check_params()``; the site model (``_site.py``) runs ``validate()`` on the arguments it derives
from a site's variables, with a :class:`Names` that words every message with the site variable
instead of the module option. Both run the very same checks, so a value a module would refuse is
refused by the site model first, before any request.

Checks are functions ``check(params, n, problems)``: ``params`` are the validated parameters,
``n(option)`` is the name to show for an option (identity in a module), and each independent
check runs inside ``with problems:``, which records its ValueError and goes on, so that every
problem is reported at once.

Nothing here imports a vendor library: the site model runs on the controller, in an action
plugin, where importing the SDKs would only cost time.
"""

from __future__ import annotations

import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import (
    MutuallyExclusiveError,
    RequiredByError,
    RequiredError,
    RequiredIfError,
    RequiredOneOfError,
    RequiredTogetherError,
)

# The longest run of a value that a message quotes.
QUOTE = 200

_CONSTRAINT_ERRORS = (
    MutuallyExclusiveError,
    RequiredByError,
    RequiredIfError,
    RequiredOneOfError,
    RequiredTogetherError,
)


class Problems:
    """Collects input problems: ``with problems:`` records a ValueError raised in the block and goes on.

    ``mentions`` drops messages that name one of these words (variables whose first problem was
    already recorded: what follows from their unusable value would only mislead). ``lenient``
    also swallows (without recording) the TypeError or AttributeError a check raises on an option
    that already failed its type and was left unset, and ``skip`` drops messages about those
    options (their first problem is the one worth reading).
    """

    def __init__(self, lenient=False, skip=(), mentions=()):
        self.messages = []
        # Values accepted only because an allow_* option said so: the module warns about each.
        self.warnings = []
        self.lenient = lenient
        self.skip = tuple(skip)
        self.mentions = tuple(mentions)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if kind is not None and issubclass(kind, ValueError):
            self.add(str(exc))
            return True
        if kind is not None and self.lenient and issubclass(kind, (TypeError, AttributeError, KeyError)):
            return True
        return False

    def add(self, message):
        message = cut_quotes(message)
        if any(re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(word), message) for word in self.mentions):
            return
        if any(message == label or message.startswith((label + " ", label + ":", label + "[", label + ".")) for label in self.skip):
            return
        if message not in self.messages:
            self.messages.append(message)

    def warn(self, message):
        message = cut_quotes(message)
        if message not in self.warnings:
            self.warnings.append(message)

    def raise_any(self):
        if self.messages:
            raise ValueError("; ".join(self.messages))


def validation_message(errors):
    """One message from ansible-core's argument errors: each once, and none that another one already says.

    An error whose text another error quotes in full (ansible-core's "dictionary requested, could not
    parse JSON or key=value" inside "Elements value for option 'credentials' ... : dictionary requested ...")
    adds nothing but the loss of the option's name, so it is left out.
    """
    texts = []
    for error in errors:
        text = cut_quotes(str(getattr(error, "msg", error)))
        if text not in texts:
            texts.append(text)
    return "; ".join(t for t in texts if not any(t != other and t in other for other in texts))


def cut_quotes(message):
    """A 3,000-character paste is named, not echoed: runs longer than QUOTE characters are cut."""
    return re.sub(
        r"\S{%d,}" % (QUOTE + 1),
        lambda m: "%s... (%d characters)" % (m.group()[:QUOTE], len(m.group())),
        message,
    )


class Names:
    """How messages name options: ``Names({"ring_timeout": "acme_ring_timeout"})("ring_timeout")``.

    An option path without an exact entry is named through its longest mapped prefix, keeping
    the rest of the path: with ``{"credentials": "site_credentials"}``, ``credentials[0].password``
    reads ``site_credentials[0].password``. An unmapped option keeps its own name.
    """

    def __init__(self, mapping=None):
        self.mapping = dict(mapping or {})

    def __call__(self, option):
        if option in self.mapping:
            return self.mapping[option]
        for cut in sorted((m.start() for m in re.finditer(r"[\[.]", option)), reverse=True):
            head = option[:cut]
            if head in self.mapping:
                return self.mapping[head] + option[cut:]
        return option


OPTION_NAMES = Names()


def _rename(message, option, label):
    """Ansible's message about ``option``, with the option spelled as ``label``."""
    if label == option:
        return message
    return re.sub(
        r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(option),
        lambda _m: label,
        message,
    )


class ModuleInput:
    """The argument spec, constraints and input checks of one module."""

    def __init__(self, argument_spec, checks=(), **constraints):
        self.argument_spec = argument_spec
        self.checks = tuple(checks)
        self.constraints = constraints

    def extended(self, argument_spec, checks=()):
        """This input with more options and checks (a connection plus a module's own).

        ``own`` is the added part alone: the site model validates a site's connection once and
        each task's own options on their own.
        """
        spec = dict(self.argument_spec)
        spec.update(argument_spec)
        whole = ModuleInput(spec, self.checks + tuple(checks), **self.constraints)
        whole.own = ModuleInput(argument_spec, checks)
        return whole

    def with_constraints(self, **constraints):
        """This input with constraints on its own options (mutually_exclusive, required_if, ...)."""
        merged = dict(self.constraints)
        for key, value in constraints.items():
            merged[key] = list(merged.get(key, [])) + list(value)
        whole = ModuleInput(self.argument_spec, self.checks, **merged)
        own = getattr(self, "own", None)
        if own is not None:
            whole.own = own.with_constraints(**constraints)
        return whole

    def module_kwargs(self):
        """What AnsibleModule takes: the argument spec and its constraints."""
        return dict(argument_spec=self.argument_spec, **self.constraints)

    def run_checks(self, params, n=OPTION_NAMES, problems=None):
        """Run the input checks on validated ``params``; returns the Problems."""
        problems = Problems() if problems is None else problems
        for check in self.checks:
            check(params, n, problems)
        return problems

    def check_params(self, params, n=OPTION_NAMES):
        """In a module: run the checks on ``module.params``; ValueError with every problem, else the warnings."""
        problems = self.run_checks(params, n)
        problems.raise_any()
        return problems.warnings

    def validate(self, args, n=OPTION_NAMES, env_hint=True):
        """Validate ``args`` as the module would, before it runs: ``(params, problems)``.

        Each option is validated on its own, so that every error is attributed to the option it
        is about and worded with ``n(option)``; then the checks run, as in a module.
        """
        problems = Problems()
        params = {}
        failed = []
        for option in sorted(set(args) - set(self.argument_spec)):
            problems.add("%s is not an option of this module (a bug in the site model)" % n(option))
        for option, spec in self.argument_spec.items():
            given = {option: args[option]} if args.get(option) is not None else {}
            result = ArgumentSpecValidator({option: spec}).validate(given)
            params.update(result.validated_parameters)
            for error in result.errors.errors:
                problems.add(self._describe(option, spec, error, n, env_hint))
                failed.append(option)
                params[option] = None
        # The checks run on the options that passed; one that failed its type is left unset, and
        # what the checks would add about it is dropped (its first problem is the one to fix).
        checks = Problems(lenient=bool(failed), skip=[n(option) for option in failed])
        self.run_checks(params, n, checks)
        for message in checks.messages:
            problems.add(message)
        for message in checks.warnings:
            problems.warn(message)
        # The module enforces its constraints (mutually_exclusive, required_if) too; they are
        # reported only when no check said more precisely what is wrong.
        if self.constraints and not problems.messages:
            result = ArgumentSpecValidator(self.argument_spec, **self.constraints).validate(dict((k, v) for k, v in args.items() if v is not None))
            for error in result.errors.errors:
                if isinstance(error, _CONSTRAINT_ERRORS):
                    message = error.msg
                    for option in sorted(self.argument_spec, key=len, reverse=True):
                        message = _rename(message, option, n(option))
                    problems.add(message)
        return params, problems

    @staticmethod
    def _describe(option, spec, error, n, env_hint):
        label = n(option)
        if isinstance(error, RequiredError):
            fallback = spec.get("fallback")
            envs = fallback[1] if env_hint and fallback and len(fallback) > 1 else []
            where = " (or set the environment variable %s)" % " or ".join(envs) if envs else ""
            return "%s is required and is not set%s" % (label, where)
        return "%s: %s" % (label, _rename(error.msg, option, label))
