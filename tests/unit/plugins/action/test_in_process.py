"""The in-process runner of the API modules (plugins/plugin_utils/in_process.py).

A module run in the worker must get the input a module process gets and give the output it
gives; where that cannot be promised, the task runs as a module process.
"""

from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace

import pytest
from ansible.module_utils import basic
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.voip.threecx_twilio.plugins.plugin_utils import in_process

SECRET = "s3cr3t-Value-42"


def demo_main():
    module = AnsibleModule(
        argument_spec=dict(name=dict(type="str", required=True), password=dict(type="str", no_log=True)),
        supports_check_mode=True,
    )
    module.warn("name %s looks odd" % module.params["name"])
    if module.params["name"] == "boom":
        raise RuntimeError("the module crashed")
    if module.params["name"] == "refuse":
        module.fail_json(msg="refused %s" % module.params["password"])
    module.exit_json(changed=not module.check_mode, name=module.params["name"], echo=module.params["password"], env=os.environ.get("DEMO_ENV"))


def run(args):
    return in_process._run_main(demo_main, in_process._encode_args(args))


def output(res):
    return json.loads(res["stdout"].strip().splitlines()[-1])


def test_exit_json_is_what_a_module_process_prints():
    res = run({"name": "alpha", "password": SECRET, "_ansible_check_mode": True})
    assert res["rc"] == 0
    out = output(res)
    assert out["changed"] is False and out["name"] == "alpha"
    # no_log is the module's own: the value is masked in what it prints
    assert SECRET not in res["stdout"] and out["echo"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    # the warning is returned with the result, as a module process returns it
    assert "name alpha looks odd" in json.dumps(out["warnings"])


def test_fail_json_and_bad_input_exit_1():
    res = run({"name": "refuse", "password": SECRET})
    assert res["rc"] == 1 and output(res)["failed"] is True and SECRET not in res["stdout"]
    res = run({"nam": "typo"})
    assert res["rc"] == 1 and "name" in output(res)["msg"]


def test_a_crash_is_a_traceback_on_stderr_like_a_dying_process():
    res = run({"name": "boom"})
    assert res["rc"] == 1 and res["stdout"].strip() == ""
    assert "RuntimeError: the module crashed" in res["stderr"]


def test_each_run_starts_clean():
    run({"name": "first"})
    out = output(run({"name": "second"}))
    warnings = json.dumps(out["warnings"])
    assert "second" in warnings and "first" not in warnings  # a loop's next item: its own warnings only
    assert basic._ANSIBLE_ARGS is None
    internal = in_process.ansible_internal
    if internal is not None and hasattr(internal, "is_controller"):
        before = internal.is_controller
        run({"name": "third"})
        assert internal.is_controller == before


def test_task_environment_is_set_for_the_run_and_restored(monkeypatch):
    monkeypatch.delenv("DEMO_ENV", raising=False)
    with in_process._environment({"DEMO_ENV": "from-task"}):
        out = output(run({"name": "envy"}))
    assert out["env"] == "from-task" and "DEMO_ENV" not in os.environ
    monkeypatch.setenv("DEMO_ENV", "outer")
    with in_process._environment({"DEMO_ENV": "inner"}):
        assert os.environ["DEMO_ENV"] == "inner"
    assert os.environ["DEMO_ENV"] == "outer"


class Templar:
    def template(self, value):
        return {"{{ ansible_playbook_python }}": sys.executable}.get(value, value)


def action(transport="local", async_val=0, become=False, delegate_to=None):
    cls = in_process.in_process_action(SimpleNamespace(__name__="demo", main=demo_main))
    plugin = cls.__new__(cls)  # only the decision is under test: no loader, no connection setup
    plugin._connection = SimpleNamespace(transport=transport)
    plugin._task = SimpleNamespace(async_val=async_val, delegate_to=delegate_to)
    plugin._play_context = SimpleNamespace(become=become)
    plugin._templar = Templar()
    return plugin


@pytest.mark.parametrize(
    "kwargs, task_vars, reason",
    [
        ({}, {}, None),
        ({}, {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}, None),
        ({}, {"ansible_python_interpreter": sys.executable}, None),
        ({}, {"voip_threecx_twilio_in_process": "false"}, "voip_threecx_twilio_in_process is false"),
        ({"transport": "ssh"}, {}, "the connection is not local"),
        ({"async_val": 30}, {}, "the task is async"),
        ({"become": True}, {}, "the task uses become"),
        ({}, {"ansible_python_interpreter": "/usr/bin/python3-elsewhere"}, "is not the controller's Python"),
        # a virtual environment's interpreter links to its base: the base has other libraries
        ({}, {"ansible_python_interpreter": os.path.realpath(sys.executable) + "-base"}, "is not the controller's Python"),
        (
            {"delegate_to": "pbx-box"},
            {"ansible_delegated_vars": {"pbx-box": {"ansible_python_interpreter": "/opt/other/python"}}},
            "/opt/other/python",
        ),
        ({"delegate_to": "localhost"}, {"ansible_delegated_vars": {"localhost": {"ansible_python_interpreter": sys.executable}}}, None),
    ],
)
def test_where_the_module_runs(kwargs, task_vars, reason):
    why = action(**kwargs)._why_not_in_process(task_vars)
    if reason is None:
        assert why is None
    else:
        assert why and reason in why


def test_the_output_is_parsed_by_this_cores_own_module_result_parser():
    # A core whose action base changed shape would run every module as a process (slower, not
    # wrong); the cores this collection supports must all be known to the runner.
    plugin = action()
    plugin._used_interpreter = None
    plugin._task.resolved_action = plugin._task.action = "voip.threecx_twilio.demo"
    parse = in_process._result_parser(plugin)
    assert parse is not None
    result = parse(run({"name": "alpha", "password": SECRET}))
    assert result["changed"] is True and result["name"] == "alpha"
    assert not any(key.startswith("_ansible") and key != "_ansible_parsed" for key in result)  # as _execute_module leaves it
    assert "alpha looks odd" in json.dumps(result.get("warnings"), default=str)
    crashed = parse(run({"name": "boom"}))
    assert crashed["failed"] is True and "the module crashed" in json.dumps(crashed, default=str)


def test_every_api_module_has_its_in_process_action():
    from pathlib import Path

    root = Path(in_process.__file__).resolve().parents[2]
    modules = {p.stem for p in (root / "plugins" / "modules").glob("*.py")}
    controller_actions = {"site_plan", "go_live_judge"}  # action plugins of their own: no module process
    for name in sorted(modules - controller_actions):
        text = (root / "plugins" / "action" / ("%s.py" % name)).read_text()
        assert "in_process_action(%s)" % name in text, name
        # and its documentation says so (the action attribute)
        assert "voip.threecx_twilio.attributes.IN_PROCESS" in (root / "plugins" / "modules" / ("%s.py" % name)).read_text(), name


def test_a_result_it_cannot_read_fails_the_task_and_never_runs_the_module_again(monkeypatch):
    from ansible.plugins.action import ActionBase

    plugin = action()
    ran_as_process = []
    monkeypatch.setattr(ActionBase, "run", lambda self, tmp=None, task_vars=None: {})
    monkeypatch.setattr(in_process, "_result_parser", lambda _action: lambda res: None)

    def ran_then_unreadable(task_vars, parse):
        raise in_process._Unsupported("the action base returned a Strange from _parse_returned_data")

    plugin._run_in_process = ran_then_unreadable
    plugin._execute_module = lambda **kwargs: ran_as_process.append(kwargs) or {}
    result = plugin.run(task_vars={})
    assert result["failed"] is True and "cannot be read" in result["msg"] and "voip_threecx_twilio_in_process=false" in result["msg"]
    assert ran_as_process == []  # a second run as a process could write twice
