"""The fleet_report callback: one row per site from the run's events and set_stats data."""

import json

import pytest
from ansible import context
from ansible.module_utils.common.collections import ImmutableDict

from ansible_collections.voip.threecx_twilio.plugins.callback import fleet_report


class FakeHost:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeTask:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class FakeResult:
    def __init__(self, host, task, result):
        self._host = FakeHost(host)
        self._task = FakeTask(task)
        self._result = result


class FakeStats:
    def __init__(self, failures=None, custom=None):
        self.failures = failures or {}
        self.custom = custom or {}


class FakeInventory:
    def __init__(self, names):
        self.names = names

    def get_hosts(self, pattern, ignore_restrictions=False):
        assert ignore_restrictions, "a serial batch restricts the inventory: every host of the play must be asked for"
        return [FakeHost(n) for n in self.names]


class FakeVariableManager:
    def __init__(self, names):
        self._inventory = FakeInventory(names)


class FakePlay:
    hosts = "all"

    def __init__(self, names):
        self.vm = FakeVariableManager(names)

    def get_variable_manager(self):
        return self.vm


@pytest.fixture
def check_mode(request):
    previous = context.CLIARGS
    context.CLIARGS = ImmutableDict(check=getattr(request, "param", False))
    yield request.param if hasattr(request, "param") else False
    context.CLIARGS = previous


class FakeDisplay:
    """Stands in for the process-wide Display singleton, which other tests rely on."""

    def __init__(self):
        self.shown = []
        self.warnings = []

    def display(self, msg, *args, **kwargs):
        self.shown.append(msg)

    def warning(self, msg, *args, **kwargs):
        self.warnings.append(msg)


def make_callback(tmp_path, report_dir="reports"):
    cb = fleet_report.CallbackModule()
    directory = str(tmp_path / report_dir) if report_dir else ""
    cb.get_option = lambda name: {"report_dir": directory}[name]
    cb._display = FakeDisplay()
    return cb, cb._display.shown


def run_fleet(cb):
    """Three sites: one changed, one converged, one failed (rescued and raised again), one never ran."""
    cb.v2_playbook_on_play_start(FakePlay(["site-a", "site-b", "site-c", "site-d"]))
    cb.v2_runner_on_ok(FakeResult("site-a", "Trunk", {"changed": True, "censored": "hidden"}))
    cb.v2_runner_on_ok(FakeResult("site-a", "Queue", {"changed": True}))
    cb.v2_runner_on_ok(FakeResult("site-a", "E164", {"changed": False}))
    cb.v2_runner_on_ok(FakeResult("site-b", "Trunk", {"changed": False}))
    cb.v2_runner_on_skipped(FakeResult("site-b", "Ring group", {"skipped": True}))
    cb.v2_runner_on_failed(FakeResult("site-c", "Trunk", {"censored": "the output has been hidden"}))
    cb.v2_runner_on_failed(FakeResult("site-c", "Stop this site", {"msg": "Trunk: no reply"}))
    cb.v2_runner_on_failed(FakeResult("site-b", "Optional probe", {"msg": "ignored"}), ignore_errors=True)
    stats = FakeStats(
        failures={"site-c": 1},
        custom={
            "site-a": {"fleet_report": {"region": "ie1", "sip_uri": "a.sip.ie1.twilio.com", "auth_mode": "ip_acl", "group": "queue 800"}},
            "site-c": {"fleet_report": {"region": "us1", "failure": {"task": "Trunk", "msg": "trunk: no reply | from PBX"}}},
        },
    )
    cb.v2_playbook_on_stats(stats)
    return stats


def test_rows_statuses_and_files(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    run_fleet(cb)
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    by_site = {s["site"]: s for s in report["sites"]}
    assert [s["site"] for s in report["sites"]] == ["site-a", "site-b", "site-c", "site-d"]
    assert by_site["site-a"]["status"] == "changed" and by_site["site-a"]["changed_tasks"] == ["Trunk", "Queue"]
    assert by_site["site-a"]["sip_uri"] == "a.sip.ie1.twilio.com"
    assert by_site["site-b"]["status"] == "ok" and by_site["site-b"]["failure"] is None  # its ignored error does not count
    # The playbook's record names the task that failed, though its own output was hidden.
    assert by_site["site-c"]["status"] == "failed"
    assert by_site["site-c"]["failure"] == {"task": "Trunk", "msg": "trunk: no reply | from PBX"}
    assert by_site["site-d"]["status"] == "not run"
    assert report["totals"] == {"changed": 1, "ok": 1, "failed": 1, "not run": 1}
    assert report["check_mode"] is False
    table = shown[0]
    assert table.splitlines()[0] == "FLEET REPORT"
    assert "site-c" in table and "trunk: no reply | from PBX" in table
    markdown = (tmp_path / "reports" / "fleet-report.md").read_text()
    assert "| site-c | failed | 0 | us1 | - | - | - | Trunk: trunk: no reply \\| from PBX |" in markdown
    assert "- **site-a**: Trunk; Queue" in markdown


@pytest.mark.parametrize("check_mode", [True], indirect=True)
def test_check_mode_says_would_change(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    run_fleet(cb)
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert report["check_mode"] is True
    assert {s["site"]: s["status"] for s in report["sites"]}["site-a"] == "would change"
    assert "check mode: nothing was changed" in shown[0]
    assert "Would change" in shown[0]


def test_a_rescued_failure_is_not_a_failed_site(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    cb.v2_runner_on_failed(FakeResult("site-a", "Trunk", {"msg": "boom"}))
    cb.v2_runner_on_ok(FakeResult("site-a", "Recover", {"changed": True}))
    cb.v2_playbook_on_stats(FakeStats())
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert report["sites"][0]["status"] == "changed" and report["sites"][0]["failure"] is None


def test_unreachable_site(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    cb.v2_runner_on_unreachable(FakeResult("site-a", "Probe", {"msg": "no route"}))
    cb.v2_playbook_on_stats(FakeStats())
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert report["sites"][0]["status"] == "unreachable"
    assert report["sites"][0]["failure"] == {"task": "Probe", "msg": "no route"}


def test_empty_report_dir_writes_no_file(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path, report_dir=None)
    run_fleet(cb)
    assert list(tmp_path.iterdir()) == []
    assert len(shown) == 1  # the table only


def test_unwritable_report_dir_warns_and_does_not_break_the_run(tmp_path, check_mode):
    (tmp_path / "reports").write_text("a file, not a directory")
    cb, shown = make_callback(tmp_path)
    run_fleet(cb)
    warnings = cb._display.warnings
    assert warnings and "could not write the report" in warnings[0]


ITEM_IDS = ["sip_domain", "handler", "authentication", "template", "trunk", "did_on_trunk", "did_routed", "outbound_rule", "e164", "agents"]


def go_live(failing=(), skipped=(), as_strings=False):
    items = []
    for item_id in ITEM_IDS + list(skipped):
        ok = None if item_id in skipped else item_id not in failing
        items.append(
            {
                "id": item_id,
                "title": "Title of " + item_id,
                "ok": str(ok).lower() if as_strings and ok is not None else ok,
                "detail": 'detail of %s <b>&"quoted"</b>' % item_id,
                "fix": ("fix for %s | pipe" % item_id) if item_id in failing else None,
            }
        )
    return {"items": items}


def run_go_live_fleet(cb):
    cb.v2_playbook_on_play_start(FakePlay(["site-a", "site-b", "site-c"]))
    for name in ("site-a", "site-b", "site-c"):
        cb.v2_runner_on_ok(FakeResult(name, "Read", {"changed": False}))
    cb.v2_runner_on_failed(FakeResult("site-c", "Stop this site", {"msg": "go-live failed"}))
    stats = FakeStats(
        failures={"site-c": 1},
        custom={
            "site-a": {"fleet_report": {"region": "us1"}, "go_live": go_live(skipped=("test_call",))},
            "site-b": {"fleet_report": {"region": "ie1"}},  # no go-live data: a site the check did not reach
            "site-c": {
                "fleet_report": {"region": "au1", "failure": {"task": "Fail the site", "msg": "outbound_rule, e164"}},
                "go_live": go_live(failing=("outbound_rule", "e164"), as_strings=True),
            },
        },
    )
    cb.v2_playbook_on_stats(stats)


def test_go_live_columns_in_json_table_and_markdown(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    run_go_live_fleet(cb)
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert [i["id"] for i in report["go_live_items"]] == ITEM_IDS + ["test_call"]
    sites = {s["site"]: s for s in report["sites"]}
    assert sites["site-a"]["go_live"]["summary"] == "10/10 ok"
    assert sites["site-a"]["go_live"]["states"]["test_call"] == "skip" and sites["site-a"]["go_live"]["skipped"] == ["test_call"]
    assert sites["site-b"]["go_live"] is None
    site_c = sites["site-c"]["go_live"]
    assert site_c["summary"] == "8/10 ok, failing: outbound_rule, e164"
    assert site_c["failing"] == ["outbound_rule", "e164"] and site_c["ok"] == 8 and site_c["checked"] == 10
    assert site_c["states"]["outbound_rule"] == "FAIL" and site_c["states"]["agents"] == "ok"
    outbound = [i for i in site_c["items"] if i["id"] == "outbound_rule"][0]
    assert outbound["ok"] is False and outbound["fix"] == "fix for outbound_rule | pipe"
    assert [i for i in site_c["items"] if i["id"] == "agents"][0]["fix"] is None

    table = shown[0].splitlines()
    assert table[1].split() == ["Site", "Status", "Changed", "Region", "SIP", "URI", "Auth", "Group", "Go-live", "Failure"]
    assert "8/10 ok, failing: outbound_rule, e164" in [line for line in table if line.startswith("site-c")][0]
    assert "10/10 ok" in [line for line in table if line.startswith("site-a")][0]

    markdown = (tmp_path / "reports" / "fleet-report.md").read_text()
    header = "| Site | Status | Changed | Region | SIP URI | Auth | Group | Go-live | " + " | ".join(ITEM_IDS + ["test_call"]) + " | Failure |"
    assert header in markdown
    row_c = [line for line in markdown.splitlines() if line.startswith("| site-c |")][0]
    cells = [c.strip() for c in row_c.strip("|").split(" | ")]
    assert cells[7] == "8/10 ok, failing: outbound_rule, e164"
    assert cells[8:19] == ["ok"] * 7 + ["FAIL", "FAIL", "ok", "-"]
    row_b = [line for line in markdown.splitlines() if line.startswith("| site-b |")][0]
    assert row_b.count("| - |") >= 1 and "FAIL" not in row_b
    assert '- **site-c** `outbound_rule`: detail of outbound_rule <b>&"quoted"</b> **Fix:** fix for outbound_rule \\| pipe' in markdown
    assert "- **site-c** `e164`:" in markdown and "- **site-a**" not in markdown.split("### Failed go-live items")[1]


def test_go_live_html_page(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    run_go_live_fleet(cb)
    page = (tmp_path / "reports" / "fleet-report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<tr>") == 1 + 3  # header and one row per site
    assert '<th title="Title of outbound_rule">outbound_rule</th>' in page
    # A failing cell: detail and fix on hover (escaped), linked to the list below the table.
    assert (
        '<td class="fail" title="detail of outbound_rule &lt;b&gt;&amp;&quot;quoted&quot;&lt;/b&gt;\nFix: fix for outbound_rule | pipe">'
        '<a href="#fail-site-c-outbound_rule">FAIL</a></td>'
    ) in page
    assert '<td class="skip" title="detail of test_call' in page
    assert "<b>" not in page.replace("<b>&", "")  # no unescaped markup from the data
    listed = page.split("<h2>Failed go-live items</h2>")[1]
    assert listed.count("<li ") == 2
    assert '<li id="fail-site-c-e164"><strong>site-c</strong> <code>e164</code> (Title of e164)' in listed
    assert "<strong>Fix:</strong> fix for e164 | pipe" in listed


def test_html_without_go_live_data_has_no_item_columns(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    run_fleet(cb)
    page = (tmp_path / "reports" / "fleet-report.html").read_text()
    assert "Go-live" not in page and "Failed go-live items" not in page
    assert "<td>trunk: no reply | from PBX</td>" not in page and "Trunk: trunk: no reply | from PBX" in page
    assert "Go-live" not in shown[0]
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert "go_live_items" not in report and all(s["go_live"] is None for s in report["sites"])


def test_go_live_data_of_an_unexpected_shape_is_ignored():
    assert fleet_report.go_live_summary(None) is None
    assert fleet_report.go_live_summary({"items": "nope"}) is None
    summary = fleet_report.go_live_summary({"items": [{"id": "a", "ok": "maybe"}, "junk", {"ok": True}]})
    assert summary["states"] == {"a": "skip"} and summary["summary"] == "0/0 ok"


@pytest.mark.parametrize("check_mode", [False], indirect=True)
def test_a_long_failure_is_short_in_the_table_and_whole_in_the_json(tmp_path, check_mode):
    cb, shown = make_callback(tmp_path)
    cb.v2_playbook_on_play_start(FakePlay(["site-a"]))
    long_message = "Go-live checks failed (3 of 10): " + " | ".join("item%d: %s" % (i, "x" * 200) for i in range(3))
    cb.v2_runner_on_failed(FakeResult("site-a", "Stop this site", {"msg": long_message}))
    cb.v2_playbook_on_stats(FakeStats(failures={"site-a": 1}, custom={"site-a": {"fleet_report": {"failure": {"task": "Fail", "msg": long_message}}}}))
    row = [line for line in shown[0].splitlines() if line.startswith("site-a")][0]
    failure_cell = row[row.index("Fail: "):]
    assert len(failure_cell) <= fleet_report.FAILURE_CELL and failure_cell.endswith("\u2026")
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert report["sites"][0]["failure"]["msg"] == long_message


def test_the_implicit_localhost_of_a_closing_play_is_no_site(tmp_path):
    cb, shown = make_callback(tmp_path)
    cb.v2_playbook_on_play_start(FakePlay(["site-a"]))
    cb.v2_runner_on_ok(FakeResult("site-a", "Trunk", {"changed": False}))
    cb.v2_runner_on_skipped(FakeResult("localhost", "Summarise the sites", {"skipped": True}))
    cb.v2_runner_on_ok(FakeResult("localhost", "Summarise the sites", {}))
    cb.v2_playbook_on_stats(FakeStats())
    report = json.loads((tmp_path / "reports" / "fleet-report.json").read_text())
    assert [s["site"] for s in report["sites"]] == ["site-a"]


def slice_report(check_mode, *sites):
    rows = [
        {"site": name, "status": status, "changed": 0, "changed_tasks": [], "failure": None, "go_live": None, "region": "us1", "sip_uri": None}
        for name, status in sites
    ]
    for row in rows:
        row.update(auth_mode="ip_acl", group="queue")
    return {"generated_at": "x", "playbook": "site.yml", "check_mode": check_mode, "totals": {}, "sites": rows}


def test_slices_merge_into_one_report_and_the_command_writes_it(tmp_path, capsys):
    first = slice_report(False, ("site-b", "changed"), ("site-c", "failed"))
    second = slice_report(False, ("site-a", "changed"))
    merged = fleet_report.merge_reports([first, second])
    assert [s["site"] for s in merged["sites"]] == ["site-a", "site-b", "site-c"]
    assert merged["totals"] == {"changed": 2, "failed": 1} and merged["slices"] == 2 and merged["check_mode"] is False
    paths = []
    for index, report in enumerate((first, second)):
        paths.append(tmp_path / ("slice-%d.json" % index))
        paths[-1].write_text(json.dumps(report))
    assert fleet_report.main(["merge", str(tmp_path / "out")] + [str(p) for p in paths]) == 0
    written = json.loads((tmp_path / "out" / "fleet-report.json").read_text())
    assert written["totals"] == merged["totals"] and (tmp_path / "out" / "fleet-report.md").is_file()


@pytest.mark.parametrize(
    "reports,words",
    [
        ([slice_report(False, ("a", "ok")), slice_report(False, ("a", "ok"))], "site a is in report 1 and report 2"),
        ([slice_report(True, ("a", "ok")), slice_report(False, ("b", "ok"))], "mix check mode and real runs"),
        ([], "no report"),
    ],
)
def test_merge_refuses_what_is_not_the_slices_of_one_run(reports, words):
    with pytest.raises(ValueError) as err:
        fleet_report.merge_reports(reports)
    assert words in str(err.value)
