# -*- coding: utf-8 -*-
# Copyright: voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet_report
type: aggregate
short_description: One row per customer site at the end of a fleet run, as a table, Markdown, JSON and HTML
version_added: 0.1.0
description:
  - At the end of every playbook run, prints a table with one row per site (inventory host) and writes it
    to O(report_dir) as C(fleet-report.md), C(fleet-report.json) and C(fleet-report.html).
  - A row says whether the site changed (under C(--check), would change) and which tasks did, the site's
    region, SIP URI, authentication mode and group type, and the message of the task that failed.
  - The site facts come from C(ansible.builtin.set_stats) data named C(fleet_report), set per host by
    C(voip.threecx_twilio.site). Hosts of the play that never ran (a rollout stopped by
    C(max_fail_percentage), say) are listed as C(not run).
  - Task results hidden by C(no_log) stay hidden; only whether they changed is counted. Failure messages are
    the ones the playbook chooses to show (site.yml re-raises a role's failure with its message, which the
    collection's modules never fill with secrets).
  - Enable it with C(callbacks_enabled = voip.threecx_twilio.fleet_report) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED).
author:
  - voip.threecx_twilio developers (@voip-threecx-twilio)
requirements:
  - enable in configuration
options:
  report_dir:
    description:
      - Directory for C(fleet-report.md), C(fleet-report.json) and C(fleet-report.html); created when missing.
        Relative paths are taken from the current directory.
      - An empty value writes no files (the table is still printed).
    type: path
    default: fleet-report
    env:
      - name: VOIP_FLEET_REPORT_DIR
    ini:
      - section: voip_fleet_report
        key: report_dir
"""

import datetime
import html
import json
import os

from ansible import context
from ansible.plugins.callback import CallbackBase

# The site facts a row shows, in column order (set_stats data "fleet_report", per host).
SITE_COLUMNS = (("region", "Region"), ("sip_uri", "SIP URI"), ("auth_mode", "Auth"), ("group", "Group"))
# How a go-live item's result is shown (set_stats data "go_live", per host: {"items": [{id, title, ok, detail, fix}]}).
ITEM_STATES = {True: "ok", False: "FAIL", None: "skip"}


class SiteRow:
    """What one host did during the run."""

    def __init__(self, name):
        self.name = name
        self.changed_tasks = []
        self.failure = None
        self.unreachable = False
        self.ran = False

    def status(self, check_mode, failed):
        if self.unreachable:
            return "unreachable"
        if failed:
            return "failed"
        if not self.ran:
            return "not run"
        if self.changed_tasks:
            return "would change" if check_mode else "changed"
        return "ok"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "voip.threecx_twilio.fleet_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.rows = {}  # host name -> SiteRow, in the order hosts were first seen
        self.playbook = None

    def _row(self, host_name):
        if host_name not in self.rows:
            self.rows[host_name] = SiteRow(host_name)
        return self.rows[host_name]

    def _result_row(self, result):
        """The row of the host a task result is about; None for the controller's implicit localhost
        (the playbooks' closing summary play runs there), which is no site."""
        name = result._host.get_name()
        if name == "localhost" and name not in self.rows:
            return None
        return self._row(name)

    # ------------------------------------------------------------------ events
    def v2_playbook_on_start(self, playbook):
        self.playbook = os.path.basename(getattr(playbook, "_file_name", "") or "") or None

    def v2_playbook_on_play_start(self, play):
        # Every host the play targets gets a row, so a site the rollout never reached is visible.
        # ignore_restrictions: during a serial batch the inventory is restricted to that batch;
        # --limit (a subset, not a restriction) still applies.
        try:
            inventory = play.get_variable_manager()._inventory
            hosts = inventory.get_hosts(play.hosts, ignore_restrictions=True)
        except Exception:  # an inventory we cannot ask is no reason to break the run
            hosts = []
        for host in hosts:
            if host.name != "localhost":
                self._row(host.name)

    def v2_runner_on_ok(self, result):
        row = self._result_row(result)
        if row is None:
            return
        row.ran = True
        if result._result.get("changed", False):
            name = result._task.get_name()
            if name not in row.changed_tasks:
                row.changed_tasks.append(name)

    def v2_runner_on_skipped(self, result):
        row = self._result_row(result)
        if row is not None:
            row.ran = True

    def v2_runner_on_failed(self, result, ignore_errors=False):
        row = self._result_row(result)
        if ignore_errors or row is None:
            return
        row.ran = True
        res = result._result
        message = res.get("msg") or res.get("censored") or "failed"
        row.failure = {"task": result._task.get_name(), "msg": str(message)}

    def v2_runner_on_unreachable(self, result):
        row = self._result_row(result)
        if row is None:
            return
        row.unreachable = True
        row.failure = {"task": result._task.get_name(), "msg": str(result._result.get("msg") or "unreachable")}

    def v2_playbook_on_stats(self, stats):
        check_mode = bool(context.CLIARGS.get("check", False))
        report = self.build(stats, check_mode)
        self._display.display(render_table(report))
        directory = self.get_option("report_dir")
        if directory:
            try:
                paths = write_report(report, directory)
            except (IOError, OSError) as exc:
                self._display.warning("fleet_report: could not write the report to %s: %s" % (directory, exc))
            else:
                self._display.display("Fleet report: %s" % ", ".join(paths))

    # ------------------------------------------------------------------ report
    def build(self, stats, check_mode):
        custom = getattr(stats, "custom", {}) or {}
        sites = []
        for name, row in self.rows.items():
            facts = (custom.get(name) or {}).get("fleet_report") or {}
            # A failure a rescue recovered from does not count; the play's stats say which stuck.
            failed = bool((getattr(stats, "failures", {}) or {}).get(name)) or row.unreachable
            site = {
                "site": name,
                "status": row.status(check_mode, failed),
                "changed": len(row.changed_tasks),
                "changed_tasks": list(row.changed_tasks),
            }
            for key, _title in SITE_COLUMNS:
                site[key] = facts.get(key)
            # The playbook's own record of a failure (site.yml's rescue) names the task that failed
            # and keeps its message even when the task's output was hidden by no_log.
            site["failure"] = (facts.get("failure") or row.failure) if failed else None
            site["go_live"] = go_live_summary((custom.get(name) or {}).get("go_live"))
            sites.append(site)
        totals = {}
        for site in sites:
            totals[site["status"]] = totals.get(site["status"], 0) + 1
        report = {
            "generated_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
            "playbook": self.playbook,
            "check_mode": check_mode,
            "totals": totals,
            "sites": sites,
        }
        items = go_live_columns(sites)
        if items:
            report["go_live_items"] = items
        return report


def _state(value):
    """An item's ok (true, false, null; or its string form after templating) as ok / FAIL / skip."""
    if isinstance(value, str):
        value = {"true": True, "false": False}.get(value.strip().lower())
    return ITEM_STATES.get(value if isinstance(value, bool) else None)


def go_live_summary(data):
    """The go_live data of one site as the report keeps it, or None when the site has none."""
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        return None
    items = []
    for item in data["items"]:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        state = _state(item.get("ok"))
        items.append(
            {
                "id": str(item["id"]),
                "title": str(item.get("title") or item["id"]),
                "ok": {"ok": True, "FAIL": False}.get(state),
                "state": state,
                "detail": str(item.get("detail") or ""),
                "fix": str(item["fix"]) if item.get("fix") and state == "FAIL" else None,
            }
        )
    judged = [i for i in items if i["state"] != "skip"]
    failing = [i["id"] for i in items if i["state"] == "FAIL"]
    summary = "%d/%d ok" % (len(judged) - len(failing), len(judged))
    if failing:
        summary += ", failing: " + ", ".join(failing)
    return {
        "summary": summary,
        "ok": len(judged) - len(failing),
        "checked": len(judged),
        "failing": failing,
        "skipped": [i["id"] for i in items if i["state"] == "skip"],
        "states": dict((i["id"], i["state"]) for i in items),
        "items": items,
    }


def go_live_columns(sites):
    """Every go-live item of the report, in the order the sites list them: [{id, title}]."""
    columns = []
    seen = set()
    for site in sites:
        for item in (site.get("go_live") or {}).get("items") or []:
            if item["id"] not in seen:
                seen.add(item["id"])
                columns.append({"id": item["id"], "title": item["title"]})
    return columns


# ---------------------------------------------------------------------- rendering
def _go_live_cell(site):
    go_live = site.get("go_live")
    return go_live["summary"] if go_live else "-"


def _cells(site, report=None, per_item=False):
    """A row: the site's columns, then (with go-live data) the compact go-live column and, with
    per_item, one column per item; the failure last."""
    failure = site["failure"]
    cells = [site["site"], site["status"], str(site["changed"])]
    cells += [str(site[key]) if site[key] not in (None, "") else "-" for key, _title in SITE_COLUMNS]
    items = (report or {}).get("go_live_items") or []
    if items:
        cells.append(_go_live_cell(site))
        if per_item:
            states = (site.get("go_live") or {}).get("states") or {}
            cells += [states.get(item["id"]) or "-" for item in items]
    cells.append(_short("%s: %s" % (failure["task"], failure["msg"])) if failure else "")
    return cells


# The longest failure a row shows; the JSON report keeps the whole text.
FAILURE_CELL = 300


def _short(text):
    text = _one_line(text)
    return text if len(text) <= FAILURE_CELL else text[: FAILURE_CELL - 1].rstrip() + "\u2026"


def _headers(report, per_item=False):
    changed = "Would change" if report["check_mode"] else "Changed"
    headers = ["Site", "Status", changed] + [title for _key, title in SITE_COLUMNS]
    items = report.get("go_live_items") or []
    if items:
        headers.append("Go-live")
        if per_item:
            headers += [item["id"] for item in items]
    return headers + ["Failure"]


def _one_line(text):
    return " ".join(str(text).split())


def _failed_items(report):
    """(site, item) for every go-live item that failed, in report order."""
    return [(site["site"], item) for site in report["sites"] for item in (site.get("go_live") or {}).get("items") or [] if item["state"] == "FAIL"]


def render_table(report):
    """A plain-text table for the terminal (failure messages on one line)."""
    headers = _headers(report)
    rows = [[_one_line(c) for c in _cells(site, report)] for site in report["sites"]]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    widths[-1] = len(headers[-1])  # the failure message is last and left ragged

    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    title = "FLEET REPORT" + (" (check mode: nothing was changed)" if report["check_mode"] else "")
    totals = ", ".join("%s=%d" % (k, v) for k, v in sorted(report["totals"].items())) or "no sites"
    out = [title, line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    out.append("sites: %d (%s)" % (len(rows), totals))
    return "\n".join(out)


def _md_escape(text):
    return _one_line(text).replace("|", "\\|")


def render_markdown(report):
    headers = _headers(report, per_item=True)
    out = [
        "# Fleet report",
        "",
        "- Generated: %s" % report["generated_at"],
        "- Playbook: %s" % (report["playbook"] or "-"),
        "- Mode: %s" % ("check (dry run, nothing was changed)" if report["check_mode"] else "apply"),
        "- Sites: %s" % (", ".join("%d %s" % (v, k) for k, v in sorted(report["totals"].items())) or "none"),
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(" --- " for _h in headers) + "|",
    ]
    for site in report["sites"]:
        out.append("| " + " | ".join(_md_escape(c) for c in _cells(site, report, per_item=True)) + " |")
    changed = [s for s in report["sites"] if s["changed_tasks"]]
    if changed:
        out += ["", "## %s" % ("Tasks that would change" if report["check_mode"] else "Tasks that changed"), ""]
        for site in changed:
            out.append("- **%s**: %s" % (site["site"], "; ".join(_md_escape(t) for t in site["changed_tasks"])))
    if report.get("go_live_items"):
        out += ["", "## Go-live checks", ""]
        out += ["- `%s`: %s" % (item["id"], _md_escape(item["title"])) for item in report["go_live_items"]]
        failed = _failed_items(report)
        out += ["", "### Failed go-live items", ""]
        if not failed:
            out.append("None.")
        for site, item in failed:
            out.append("- **%s** `%s`: %s **Fix:** %s" % (site, item["id"], _md_escape(item["detail"]), _md_escape(item["fix"] or "-")))
    return "\n".join(out) + "\n"


_HTML_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.ok { background: #dff0d8; } td.fail { background: #f2dede; font-weight: bold; } td.skip { background: #f5f5f5; color: #777; }
td.fail a { color: #a94442; } td.status-failed, td.status-unreachable { color: #a94442; font-weight: bold; }
li { margin-bottom: 0.5em; } .fix { display: block; margin-top: 0.2em; }
"""


def render_html(report):
    """One page: a row per site, a column per go-live item (failing cells show detail and fix on hover),
    and below the table the list of failed items with their detail and fix."""
    esc = html.escape
    items = report.get("go_live_items") or []
    changed = "Would change" if report["check_mode"] else "Changed"
    head = ["Site", "Status", changed] + [title for _key, title in SITE_COLUMNS] + (["Go-live"] if items else [])
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Fleet report</title><style>%s</style></head><body>' % _HTML_STYLE,
        "<h1>Fleet report</h1>",
        "<ul><li>Generated: %s</li><li>Playbook: %s</li><li>Mode: %s</li><li>Sites: %s</li></ul>"
        % (
            esc(report["generated_at"]),
            esc(report["playbook"] or "-"),
            "check (dry run, nothing was changed)" if report["check_mode"] else "apply",
            esc(", ".join("%d %s" % (v, k) for k, v in sorted(report["totals"].items())) or "none"),
        ),
        "<table><thead><tr>"
        + "".join("<th>%s</th>" % esc(h) for h in head)
        + "".join('<th title="%s">%s</th>' % (esc(i["title"], quote=True), esc(i["id"])) for i in items)
        + "<th>Failure</th></tr></thead><tbody>",
    ]
    for site in report["sites"]:
        cells = _cells(site)  # without go-live columns: those are rendered here
        row = [
            '<td class="status-%s">%s</td>' % (esc(site["status"].replace(" ", "-"), quote=True), esc(c)) if i == 1 else "<td>%s</td>" % esc(c)
            for i, c in enumerate(cells[:-1])
        ]
        if items:
            row.append("<td>%s</td>" % esc(_go_live_cell(site)))
            by_id = dict((i["id"], i) for i in (site.get("go_live") or {}).get("items") or [])
            for column in items:
                item = by_id.get(column["id"])
                if item is None:
                    row.append("<td>-</td>")
                elif item["state"] == "FAIL":
                    tip = "%s\nFix: %s" % (item["detail"], item["fix"] or "-")
                    anchor = "fail-%s-%s" % (site["site"], item["id"])
                    row.append('<td class="fail" title="%s"><a href="#%s">FAIL</a></td>' % (esc(tip, quote=True), esc(anchor, quote=True)))
                else:
                    cls = "ok" if item["state"] == "ok" else "skip"
                    row.append('<td class="%s" title="%s">%s</td>' % (cls, esc(item["detail"], quote=True), item["state"]))
        row.append("<td>%s</td>" % esc(cells[-1]))
        out.append("<tr>%s</tr>" % "".join(row))
    out.append("</tbody></table>")
    if items:
        failed = _failed_items(report)
        out.append("<h2>Failed go-live items</h2>")
        if not failed:
            out.append("<p>None: every item checked passed.</p>")
        else:
            out.append("<ul>")
            for site, item in failed:
                out.append(
                    '<li id="%s"><strong>%s</strong> <code>%s</code> (%s): %s<span class="fix"><strong>Fix:</strong> %s</span></li>'
                    % (
                        esc("fail-%s-%s" % (site, item["id"]), quote=True),
                        esc(site),
                        esc(item["id"]),
                        esc(item["title"]),
                        esc(item["detail"]),
                        esc(item["fix"] or "-"),
                    )
                )
            out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(report, directory):
    directory = os.path.abspath(os.path.expanduser(directory))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    paths = []
    documents = (
        ("fleet-report.json", json.dumps(report, indent=2, sort_keys=True) + "\n"),
        ("fleet-report.md", render_markdown(report)),
        ("fleet-report.html", render_html(report)),
    )
    for name, text in documents:
        path = os.path.join(directory, name)
        tmp = path + ".tmp"
        with open(tmp, "w") as handle:
            handle.write(text)
        os.rename(tmp, path)
        paths.append(path)
    return paths


def merge_reports(reports):
    """One fleet report from the reports of slices of one run (AWX job slicing): sites once each, totals added.

    Slices partition the sites, so a site in two reports is an error, and so are reports of a
    check run and a real one together (their statuses mean different things).
    """
    if not reports:
        raise ValueError("no report to merge")
    modes = set(bool(r.get("check_mode")) for r in reports)
    if len(modes) > 1:
        raise ValueError("the reports mix check mode and real runs; merge the slices of one run")
    sites = []
    seen = {}
    for index, report in enumerate(reports):
        for site in report.get("sites") or []:
            if site["site"] in seen:
                raise ValueError("site %s is in report %d and report %d; slices list each site once" % (site["site"], seen[site["site"]] + 1, index + 1))
            seen[site["site"]] = index
            sites.append(site)
    totals = {}
    for site in sites:
        totals[site["status"]] = totals.get(site["status"], 0) + 1
    merged = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "playbook": reports[0].get("playbook"),
        "check_mode": modes.pop(),
        "totals": totals,
        "sites": sorted(sites, key=lambda s: s["site"]),
        "slices": len(reports),
    }
    items = go_live_columns(merged["sites"])
    if items:
        merged["go_live_items"] = items
    return merged


def main(argv):
    """``merge OUT_DIR REPORT.json...``: the merged report written to OUT_DIR (fleet-report.json, .md, .html)."""
    if len(argv) < 3 or argv[0] != "merge":
        print("usage: python -m ansible_collections.voip.threecx_twilio.plugins.callback.fleet_report merge OUT_DIR REPORT.json...")
        return 2
    reports = []
    for path in argv[2:]:
        with open(path) as handle:
            reports.append(json.load(handle))
    try:
        merged = merge_reports(reports)
    except ValueError as exc:
        print("fleet_report merge: %s" % exc)
        return 1
    for path in write_report(merged, argv[1]):
        print(path)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
