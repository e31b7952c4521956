# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run the collection's API modules inside the controller's worker process.

PRIVATE to this collection: may change without notice.

Every API module of this collection talks to a vendor's HTTPS API from the controller
(``connection: local``). Run as an ordinary module, each task starts a new Python interpreter,
unpacks an AnsiballZ payload and imports ``requests`` (and, for Twilio, the SDK) again; that is
most of what a task costs (docs/performance.md). The worker that runs the task is already a
Python process on the controller, forked from ``ansible-playbook`` after this file (and the
module it serves) was imported once, so running the module's ``main()`` in it does the same
work without any of that.

It is the same module, with the same input and output: the arguments are built by the action
base (``_update_module_args``: check mode, diff, no_log, verbosity ...), encoded exactly as for a
module process and decoded by the module's own ``AnsibleModule``; what the module prints is
parsed by the action base's own result parser. Only where the module would run is different.
So it runs in-process only where a module process would have run the same Python on the same
machine, and otherwise as an ordinary module:

- the connection is ``local`` (the controller), with no become and no async;
- the interpreter is the controller's own (``ansible_python_interpreter`` unset, or the same
  file as ``ansible_playbook_python``), so the libraries are the same;
- the host variable ``voip_threecx_twilio_in_process`` is not false (the way to turn it off,
  for example to debug a module with ``ANSIBLE_KEEP_REMOTE_FILES``);
- this ansible-core's action base has the shapes the runner relies on (checked, never assumed).

Each task runs in its own forked worker, so nothing a module sets up (its HTTP session, the
arguments global of ``AnsibleModule``) outlives the task; a ``loop`` runs in one worker, and the
arguments are set anew for each item.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import os
import sys
import traceback

from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

try:  # ansible-core >= 2.19: whether module_utils run in a controller process
    from ansible.module_utils import _internal as ansible_internal
except ImportError:  # ansible-core 2.18
    ansible_internal = None

display = Display()

SWITCH = "voip_threecx_twilio_in_process"

try:  # ansible-core >= 2.19: modules exchange JSON through serialization profiles
    from ansible.module_utils.common.json import Direction, get_module_encoder

    def _encode_args(module_args):
        return json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=get_module_encoder("legacy", Direction.CONTROLLER_TO_MODULE))

    _PROFILED = True
except ImportError:  # ansible-core 2.18
    from ansible.module_utils.common.json import AnsibleJSONEncoder

    def _encode_args(module_args):
        return json.dumps({"ANSIBLE_MODULE_ARGS": module_args}, cls=AnsibleJSONEncoder, vault_to_text=True)

    _PROFILED = False


def _result_parser(action):
    """How this ansible-core's action base turns a module's output into a task result, or None.

    These are the steps ``ActionBase._execute_module`` takes after it ran a module, in the three
    shapes the supported cores have: 2.21 parses with a serialization profile into a task-result
    object, 2.19 and 2.20 into a dict, 2.18 into a dict without profiles (its results are then
    marked unsafe). Anything else is an ansible-core this runner does not know, which runs the
    module as an ordinary one. (The collection's modules return neither ``results`` nor
    ``stdout``, which ``_execute_module`` would also reshape.)
    """
    parse = getattr(action, "_parse_returned_data", None)
    if parse is None:
        return None
    params = list(inspect.signature(parse).parameters)
    if _PROFILED and params[:2] == ["res", "profile"]:

        def parse_profiled(res):
            parsed = parse(res, "legacy")
            if isinstance(parsed, dict):  # 2.19, 2.20
                from ansible.vars.clean import remove_internal_keys

                parsed.pop("_ansible_suppress_tmpdir_delete", None)
                remove_internal_keys(parsed)
                return parsed
            if hasattr(parsed, "remove_internal_keys") and hasattr(parsed, "as_result_dict"):  # 2.21+
                parsed.remove_internal_keys()
                return parsed.as_result_dict(for_round_trip=True)
            raise _Unsupported("the action base returned a %s from _parse_returned_data" % type(parsed).__name__)

        return parse_profiled
    if not _PROFILED and params[:1] == ["res"]:
        from ansible.utils.unsafe_proxy import wrap_var
        from ansible.vars.clean import remove_internal_keys

        def parse_dict(res):
            data = parse(res)
            remove_internal_keys(data)
            return wrap_var(data)

        return parse_dict
    return None


class _Unsupported(Exception):
    pass


@contextlib.contextmanager
def _environment(extra):
    """The task's ``environment:`` for the module, as a module process would have had it."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update({name: str(value) for name, value in extra.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _module_side():
    """The module-side state of ansible's module_utils, as a fresh module process has it.

    From ansible-core 2.19 on, module_utils behave differently in a controller process (a
    warning is displayed at once instead of being returned with the result); the module runs
    as a module. The warnings and deprecations a module records are process-wide lists: a
    fresh process starts with none, and a loop's next item must not return this one's.
    """
    flag_owner = ansible_internal if hasattr(ansible_internal, "is_controller") else None
    saved = flag_owner.is_controller if flag_owner else None
    records = [getattr(module_warnings, name, None) for name in ("_global_warnings", "_global_deprecations")]
    records = [record for record in records if record is not None]
    for record in records:
        record.clear()
    if flag_owner:
        flag_owner.is_controller = False
    try:
        yield
    finally:
        if flag_owner:
            flag_owner.is_controller = saved
        for record in records:
            record.clear()


def _run_main(main, encoded_args):
    """Run a module's main() as its process would: the arguments in, what it prints out."""
    stdout, stderr = io.StringIO(), io.StringIO()
    basic._ANSIBLE_ARGS = encoded_args.encode("utf-8")
    if _PROFILED:
        basic._ANSIBLE_PROFILE = "legacy"
    rc = 0
    try:
        with _module_side(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                main()
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except Exception:  # what a module process would print before it died
                stderr.write(traceback.format_exc())
                rc = 1
    finally:
        basic._ANSIBLE_ARGS = None
    out, err = stdout.getvalue(), stderr.getvalue()
    return dict(rc=rc, stdout=out, stdout_lines=out.splitlines(), stderr=err, stderr_lines=err.splitlines())


def in_process_action(module):
    """The action plugin class of ``module`` (an imported module file of this collection)."""

    class ActionModule(ActionBase):
        _supports_check_mode = True
        _supports_async = True

        def run(self, tmp=None, task_vars=None):
            result = super(ActionModule, self).run(tmp, task_vars)
            del tmp
            task_vars = task_vars or {}
            reason = self._why_not_in_process(task_vars)
            parser = None if reason else _result_parser(self)
            if reason is None and parser is None:
                reason = "this ansible-core's action base is not one the runner knows"
            if reason is None:
                try:
                    return merge_hash(result, self._run_in_process(task_vars, parser))
                except _Unsupported as exc:
                    # The module has run: running it again as a process could write twice.
                    return merge_hash(
                        result,
                        dict(
                            failed=True,
                            msg="%s ran in the controller's worker process, but its result cannot be read on this ansible-core (%s); "
                            "look at the vendor before running it again, with %s=false" % (module.__name__.rsplit(".", 1)[-1], exc, SWITCH),
                        ),
                    )
            display.vvv("%s runs as a module process: %s" % (module.__name__.rsplit(".", 1)[-1], reason))
            result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=self._task.async_val))
            if not self._task.async_val:
                self._remove_tmp_path(self._connection._shell.tmpdir)
            return result

        def _why_not_in_process(self, task_vars):
            if not boolean(self._templar.template(task_vars.get(SWITCH, True)), strict=False):
                return "%s is false" % SWITCH
            if getattr(self._connection, "transport", None) != "local":
                return "the connection is not local"
            if self._task.async_val:
                return "the task is async"
            if getattr(self._play_context, "become", False):
                return "the task uses become"
            host_vars = task_vars
            if self._task.delegate_to:  # the interpreter is the delegated host's
                host_vars = (task_vars.get("ansible_delegated_vars") or {}).get(self._task.delegate_to, task_vars)
            interpreter = host_vars.get("ansible_python_interpreter")
            if interpreter is not None:
                interpreter = self._templar.template(interpreter)
                if not _same_interpreter(interpreter, sys.executable):
                    return "ansible_python_interpreter (%s) is not the controller's Python (%s)" % (interpreter, sys.executable)
            return None

        def _run_in_process(self, task_vars, parse):
            module_args = dict(self._task.args)
            self._update_module_args(self._task.action, module_args, task_vars)
            environment = {}
            self._compute_environment_string(environment)
            display.vvv("%s runs in the controller's worker process" % module.__name__.rsplit(".", 1)[-1])
            with _environment(environment):
                res = _run_main(module.main, _encode_args(module_args))
            return parse(res)

    return ActionModule


def _same_interpreter(path, controller):
    # Compared as paths, not resolved: a virtual environment's python is a link to the base
    # interpreter, whose libraries are not the environment's.
    return isinstance(path, str) and os.path.abspath(os.path.expanduser(path)) == os.path.abspath(controller)
