# -*- coding: utf-8 -*-
# Copyright (c) voip.threecx_twilio contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parse, edit, normalise and compare 3CX provider templates (``*.pv.xml``).

PRIVATE to this collection: may change without notice.

Pure functions on XML text: no network, no Ansible.  A provider template looks like::

    <doc xmlns:tcx="http://www.3cx.com">
      <header><template/><type>gateway-template</type><version>150008</version>
              <time>2024-10-07 01:00:00</time><name>...</name>...</header>
      <data><device>
        <field name="RegistrarHost"></field> ...
        <codecs><codec rfcname="pcmu"/>...</codecs>
        <field name="ParameterOut" custom="" parameter="FromUserPart">$CallerNum</field> ...
      </device></data>
    </doc>

Edits keep everything they do not touch (comments, order, formatting of the rest).
Comparisons use :func:`normalise`: comments, insignificant whitespace and attribute order
do not count, and neither do the ``<version>``/``<time>`` header values, which
:func:`bump` raises on every write.

Parsing never resolves entities or reaches the network (a template can come from a
user's file).
"""

from __future__ import annotations

import datetime
import difflib
import re
import traceback

try:
    from lxml import etree

    HAS_LXML = True
    LXML_IMPORT_ERROR = None
except ImportError:  # pragma: no cover - exercised by ansible-test's import test
    etree = None
    HAS_LXML = False
    LXML_IMPORT_ERROR = traceback.format_exc()

ROOT_TAG = "doc"
TEMPLATE_TYPE = "gateway-template"
PARAMETER_OUT = "ParameterOut"
# Header values that change on every write and never count as a difference.
VOLATILE_HEADER = ("version", "time")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
_VARIABLE = re.compile(r"^\$[A-Za-z][A-Za-z0-9_]*$")


class TemplateError(ValueError):
    """The text is not a usable provider template; the message says what and where."""


def _require_lxml():
    if not HAS_LXML:
        raise TemplateError("the Python library lxml is required to edit 3CX provider templates")


def _parser(keep_blank=True, keep_comments=True):
    return etree.XMLParser(
        remove_blank_text=not keep_blank,
        remove_comments=not keep_comments,
        remove_pis=not keep_comments,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
    )


def parse(text, what="the template", keep_blank=True, keep_comments=True):
    """Parse template text into its root element; TemplateError when it is not a template."""
    _require_lxml()
    if text is None or not str(text).strip():
        raise TemplateError("%s is empty" % what)
    body = _DECLARATION.sub("", str(text).lstrip("\ufeff"), count=1)
    try:
        root = etree.fromstring(body.encode("utf-8"), _parser(keep_blank, keep_comments))
    except etree.XMLSyntaxError as exc:
        raise TemplateError("%s is not well-formed XML: %s" % (what, exc))
    if not isinstance(root.tag, str) or etree.QName(root).localname != ROOT_TAG:
        raise TemplateError(
            "%s is not a 3CX provider template: the root element is <%s>, expected <doc> with <header> and <data><device>"
            % (what, etree.QName(root).localname if isinstance(root.tag, str) else root.tag)
        )
    if root.find("data/device") is None:
        raise TemplateError("%s is not a 3CX provider template: it has no <data><device> section" % what)
    kind = root.findtext("header/type")
    if kind is not None and kind.strip() and kind.strip() != TEMPLATE_TYPE:
        raise TemplateError("%s has <type>%s</type>; a provider template has <type>%s</type>" % (what, kind.strip(), TEMPLATE_TYPE))
    return root


def serialise(root):
    """Template text for the API: an XML declaration and the document, UTF-8."""
    return '<?xml version="1.0" encoding="utf-8"?>\n' + etree.tostring(root, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- reading


def _fields(device, name, parameter=None):
    return [f for f in device.iterchildren("field") if f.get("name") == name and (parameter is None or f.get("parameter") == parameter)]


def parameters_out(text):
    """The ParameterOut bindings in document order: [(parameter, variable, custom)]."""
    device = parse(text).find("data/device")
    return [(f.get("parameter"), (f.text or "").strip(), f.get("custom") or "") for f in _fields(device, PARAMETER_OUT)]


def codecs(text):
    """The codec RFC names in priority order, upper case as the XAPI spells them."""
    node = parse(text).find("data/device/codecs")
    if node is None:
        return []
    return [(c.get("rfcname") or "").upper() for c in node.iterchildren("codec")]


def summary(text):
    """The parts of a template a module reports."""
    root = parse(text)
    header = root.find("header")

    def head(tag):
        value = header.findtext(tag) if header is not None else None
        return value.strip() if value is not None else None

    outs = {}
    for parameter, variable, _custom in parameters_out(text):
        outs.setdefault(parameter, variable)
    return {
        "header_name": head("name"),
        "version": head("version"),
        "time": head("time"),
        "base_template": head("template"),
        "parameters_out": outs,
        "codecs": codecs(text),
    }


# --------------------------------------------------------------------------- editing


def check_variable(option, value):
    """A template variable such as $OriginatorCallerId."""
    if not isinstance(value, str) or not _VARIABLE.match(value):
        raise TemplateError(
            "%s must be a 3CX template variable: a '$' followed by letters and digits, for example $OriginatorCallerId; got %r" % (option, value)
        )
    return value


def _indent_of(element):
    """The whitespace that precedes ``element`` on its line."""
    previous = element.getprevious()
    before = previous.tail if previous is not None else element.getparent().text
    before = before or ""
    return before.rsplit("\n", 1)[-1] if "\n" in before else ""


def _insert_after(anchor, new):
    new.tail = anchor.tail
    anchor.tail = "\n" + _indent_of(anchor)
    anchor.addnext(new)


def _set_child_text(parent, tag, value, after=None):
    node = parent.find(tag)
    if node is None:
        node = etree.Element(tag)
        anchor = parent.find(after) if after else None
        if anchor is None:
            children = list(parent)
            anchor = children[-1] if children else None
        if anchor is None:
            parent.text = parent.text or "\n    "
            node.tail = "\n"
            parent.append(node)
        else:
            _insert_after(anchor, node)
    node.text = value
    return node


def bind_parameters(device, bindings):
    """Set one ParameterOut per parameter to its variable (custom=""), adding missing ones."""
    for parameter, variable in bindings.items():
        existing = _fields(device, PARAMETER_OUT, parameter)
        if existing:
            field = existing[0]
            for extra in existing[1:]:
                _remove(extra)
        else:
            field = etree.Element("field")
            field.set("name", PARAMETER_OUT)
            field.set("custom", "")
            field.set("parameter", parameter)
            outs = _fields(device, PARAMETER_OUT)
            if outs:
                _insert_after(outs[-1], field)
            else:
                children = list(device)
                if children:
                    _insert_after(children[-1], field)
                else:
                    device.append(field)
        field.text = variable
        if field.get("custom"):
            # A literal only applies to $CustomField; a leftover one would confuse a reader.
            field.set("custom", "")


def _remove(element):
    """Remove ``element``; its tail whitespace goes with it, any real text stays."""
    parent = element.getparent()
    if element.tail and element.tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def set_codecs(device, names):
    """Replace the <codecs> list by ``names`` in that order (lower-case RFC names in XML)."""
    node = device.find("codecs")
    if node is None:
        node = etree.Element("codecs")
        outs = _fields(device, PARAMETER_OUT) + _fields(device, "ParameterIn")
        children = list(device)
        if outs:
            first = min(outs, key=device.index)
            previous = first.getprevious()
            if previous is not None:
                _insert_after(previous, node)
            else:
                device.insert(0, node)
        elif children:
            _insert_after(children[-1], node)
        else:
            device.append(node)
    indent = _indent_of(node)
    for child in list(node):
        node.remove(child)
    node.text = "\n" + indent + "  " if names else None
    last = None
    for name in names:
        last = etree.SubElement(node, "codec")
        last.set("rfcname", name.lower())
        last.tail = "\n" + indent + "  "
    if last is not None:
        last.tail = "\n" + indent


def edit(text, bindings=None, codec_names=None, header_name=None, base_template=None, what="the template"):
    """Return ``text`` with the ParameterOut ``bindings`` ({parameter: variable}), the codec
    order, the header name and (when the header has none) the base template applied.

    Nothing else in the document changes.  Raises TemplateError for a non-template.
    """
    root = parse(text, what=what)
    device = root.find("data/device")
    for parameter, variable in (bindings or {}).items():
        if not parameter or not isinstance(parameter, str):
            raise TemplateError("a ParameterOut parameter name must be a non-empty string; got %r" % (parameter,))
        check_variable("the variable for %s" % parameter, variable)
    if bindings:
        bind_parameters(device, bindings)
    if codec_names is not None:
        set_codecs(device, codec_names)
    header = root.find("header")
    if header is None and (header_name is not None or base_template):
        header = etree.Element("header")
        header.text = "\n    "
        header.tail = "\n"
        root.insert(0, header)
    if header_name is not None:
        _set_child_text(header, "name", header_name, after="time")
    if base_template and not (header.findtext("template") or "").strip():
        node = header.find("template")
        if node is None:
            node = etree.Element("template")
            node.tail = header.text or "\n    "
            header.insert(0, node)
        node.text = base_template
    return serialise(root)


def _version_number(text):
    try:
        return int((parse(text).findtext("header/version") or "").strip())
    except (TemplateError, ValueError):
        return 0


def bump(text, *previous, now=None):
    """Raise <version> above the template's own and every ``previous`` text's, and set <time>.

    3CX reads <version> as a number that must grow with each update of a template.
    """
    root = parse(text)
    number = max([_version_number(text)] + [_version_number(p) for p in previous if p]) + 1
    header = root.find("header")
    if header is None:
        header = etree.Element("header")
        header.text = "\n    "
        header.tail = "\n"
        root.insert(0, header)
    _set_child_text(header, "version", str(number), after="type")
    stamp = (now or datetime.datetime.now(datetime.timezone.utc)).strftime(TIME_FORMAT)
    _set_child_text(header, "time", stamp, after="version")
    return serialise(root)


# --------------------------------------------------------------------------- comparing


def normalise(text):
    """Canonical text for comparison: no comments or blank text, attributes sorted (C14N),
    element text stripped, and the volatile header values (<version>, <time>) emptied."""
    root = parse(text, keep_blank=False, keep_comments=False)
    for element in root.iter():
        if element.text is not None:
            element.text = element.text.strip() or None
        element.tail = None
    header = root.find("header")
    if header is not None:
        for tag in VOLATILE_HEADER:
            for node in header.findall(tag):
                node.text = None
    return etree.tostring(root, method="c14n").decode("utf-8")


def same(a, b):
    """True when two templates differ only in what :func:`normalise` ignores."""
    return normalise(a) == normalise(b)


def pretty(text):
    """The template re-indented for reading (comments kept), as used in diffs."""
    if text is None or not str(text).strip():
        return ""
    root = parse(text, keep_blank=False)
    for element in root.iter():
        if isinstance(element.tag, str) and element.text is not None and not element.text.strip():
            element.text = None
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode") + "\n"


def unified_diff(before, after, before_name="before", after_name="after"):
    """A unified diff of the pretty forms of two templates (either may be empty)."""
    lines = difflib.unified_diff(
        pretty(before).splitlines(True),
        pretty(after).splitlines(True),
        fromfile=before_name,
        tofile=after_name,
    )
    return "".join(lines)
