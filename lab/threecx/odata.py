"""Generic OData v4 helpers for the 3CX stand-in.

Only the subset that 3CX clients use is supported: ``$filter`` with
comparisons, ``and``/``or``/``not``, parentheses and the string functions
contains/startswith/endswith/tolower/toupper; ``$select``, ``$expand``,
``$orderby``, ``$top``, ``$skip`` and ``$count``. Anything else is refused
with an OData error rather than silently ignored, so a client never gets
more rows than it asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class ODataError(Exception):
    def __init__(self, status: int, message: str, code: str = "", details: list | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or str(status)
        self.details = details or []

    def body(self) -> dict:
        return error_body(self.code, self.message, self.details)


def error_body(code: str, message: str, details: list | None = None) -> dict:
    return {
        "error": {"code": code, "message": message, "target": None, "details": list(details or []), "innerError": {}}
    }


def quote(value: Any) -> str:
    """Render a Python value as an OData literal ('' escapes a quote)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


# ---------------------------------------------------------------- $filter

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>'(?:[^']|'')*')
  | (?P<num>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<lp>\() | (?P<rp>\)) | (?P<comma>,)
  | (?P<name>[A-Za-z_]\w*(?:/[A-Za-z_]\w*)*)
""",
    re.VERBOSE,
)

_CMP = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {"contains": 2, "startswith": 2, "endswith": 2, "tolower": 1, "toupper": 1}


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ODataError(400, f"Syntax error at position {pos} in '{text}'.")
        if m.lastgroup != "ws":
            out.append(Tok(m.lastgroup, m.group(), pos))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str | None = None, text: str | None = None) -> Tok:
        tok = self.peek()
        if tok is None or (kind and tok.kind != kind) or (text and tok.text != text):
            where = f"position {tok.pos}" if tok else "the end"
            raise ODataError(400, f"Syntax error at {where} in '{self.text}'.")
        self.i += 1
        return tok

    def is_word(self, word: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == "name" and tok.text == word

    def parse(self) -> tuple:
        node = self.or_expr()
        if self.peek() is not None:
            self.take("<end>")
        return node

    def or_expr(self) -> tuple:
        node = self.and_expr()
        while self.is_word("or"):
            self.i += 1
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> tuple:
        node = self.not_expr()
        while self.is_word("and"):
            self.i += 1
            node = ("and", node, self.not_expr())
        return node

    def not_expr(self) -> tuple:
        if self.is_word("not"):
            self.i += 1
            return ("not", self.not_expr())
        return self.comparison()

    def comparison(self) -> tuple:
        left = self.operand()
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text in _CMP:
            self.i += 1
            return ("cmp", tok.text, left, self.operand())
        return left  # a boolean function call or property

    def operand(self) -> tuple:
        tok = self.peek()
        if tok is None:
            self.take("operand")
        if tok.kind == "lp":
            self.i += 1
            node = self.or_expr()
            self.take("rp")
            return node
        if tok.kind == "str":
            self.i += 1
            return ("lit", tok.text[1:-1].replace("''", "'"))
        if tok.kind == "num":
            self.i += 1
            return ("lit", float(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "name":
            self.i += 1
            if tok.text in ("true", "false"):
                return ("lit", tok.text == "true")
            if tok.text == "null":
                return ("lit", None)
            nxt = self.peek()
            if nxt is not None and nxt.kind == "lp":
                if tok.text not in _FUNCS:
                    raise ODataError(400, f"An unknown function with name '{tok.text}' was found.")
                self.i += 1
                args = [self.or_expr()]
                while self.peek() is not None and self.peek().kind == "comma":
                    self.i += 1
                    args.append(self.or_expr())
                self.take("rp")
                if len(args) != _FUNCS[tok.text]:
                    raise ODataError(400, f"Function '{tok.text}' takes {_FUNCS[tok.text]} arguments.")
                return ("fn", tok.text, args)
            return ("prop", tok.text.split("/"))
        raise ODataError(400, f"Syntax error at position {tok.pos} in '{self.text}'.")


def parse_filter(text: str) -> tuple:
    return _Parser(text).parse()


def _prop(entity: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(entity, dict):
            return None
        entity = entity.get(part)
    return entity


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "eq":
        return a == b
    if op == "ne":
        return a != b
    if a is None or b is None:
        return False
    try:
        return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]
    except TypeError:
        raise ODataError(400, f"Operator '{op}' cannot compare {type(a).__name__} with {type(b).__name__}.") from None


def evaluate(node: tuple, entity: dict) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "prop":
        return _prop(entity, node[1])
    if kind == "and":
        return bool(evaluate(node[1], entity)) and bool(evaluate(node[2], entity))
    if kind == "or":
        return bool(evaluate(node[1], entity)) or bool(evaluate(node[2], entity))
    if kind == "not":
        return not evaluate(node[1], entity)
    if kind == "cmp":
        return _compare(node[1], evaluate(node[2], entity), evaluate(node[3], entity))
    if kind == "fn":
        args = [evaluate(a, entity) for a in node[2]]
        name = node[1]
        if name in ("tolower", "toupper"):
            return None if args[0] is None else (args[0].lower() if name == "tolower" else args[0].upper())
        if not all(isinstance(a, str) for a in args):
            return False
        return {"contains": lambda h, n: n in h, "startswith": str.startswith, "endswith": str.endswith}[name](
            args[0], args[1]
        )
    raise ODataError(400, "Unsupported filter expression.")


def filter_properties(node: tuple) -> set[str]:
    """Top-level property names a filter refers to (to reject unknown ones)."""
    kind = node[0]
    if kind == "prop":
        return {node[1][0]}
    if kind in ("and", "or"):
        return filter_properties(node[1]) | filter_properties(node[2])
    if kind == "not":
        return filter_properties(node[1])
    if kind == "cmp":
        return filter_properties(node[2]) | filter_properties(node[3])
    if kind == "fn":
        return set().union(*(filter_properties(a) for a in node[2]))
    return set()


# ---------------------------------------------------------------- keys


_KEY_STR = re.compile(r"^'((?:[^']|'')*)'$")
_KEY_NAMED = re.compile(r"^([A-Za-z_]\w*)=(.+)$")


def parse_literal(text: str) -> Any:
    m = _KEY_STR.match(text)
    if m:
        return m.group(1).replace("''", "'")
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise ODataError(400, f"The key value '{text}' is not a valid literal.")


def parse_key(segment: str) -> tuple[str | None, Any]:
    """``64`` -> (None, 64); ``Number='800'`` -> ('Number', '800')."""
    m = _KEY_NAMED.match(segment)
    if m:
        return m.group(1), parse_literal(m.group(2))
    return None, parse_literal(segment)


# ---------------------------------------------------------------- query options

SUPPORTED_OPTIONS = {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$count", "$search"}


def _one(query: dict[str, list[str]], name: str) -> str | None:
    vals = query.get(name)
    if not vals:
        return None
    if len(vals) > 1:
        raise ODataError(400, f"Query option '{name}' was specified more than once.")
    return vals[0]


def _csv(text: str | None) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()] if text else []


def _nonneg_int(query: dict, name: str) -> int | None:
    raw = _one(query, name)
    if raw is None:
        return None
    if not re.fullmatch(r"\d+", raw):
        raise ODataError(400, f"Invalid value '{raw}' for {name} query option found.")
    return int(raw)


def select_expand(entity: dict, select: list[str], expand: list[str], nav_props: set[str], type_name: str) -> dict:
    props = set(entity) | nav_props
    for name in select:
        if name not in props and name != "*":
            raise ODataError(400, f"Could not find a property named '{name}' on type '{type_name}'.")
    for name in expand:
        if name not in nav_props and name != "*":
            raise ODataError(
                400,
                f"Property '{name}' on type '{type_name}' is not a navigation property"
                " or complex property. Only navigation properties can be expanded.",
            )
    expanded = nav_props if "*" in expand else set(expand)
    keep = set(entity) if not select or "*" in select else set(select)
    out = {}
    for key, value in entity.items():
        if key in nav_props:
            if key in expanded:
                out[key] = value
        elif key in keep:
            out[key] = value
    return out


def apply_query(
    items: list[dict],
    query: dict[str, list[str]],
    *,
    type_name: str,
    nav_props: set[str] | frozenset = frozenset(),
    known_props: set[str] | None = None,
) -> tuple[list[dict], int | None]:
    """Apply OData system query options to a list of entities.

    Returns (rows, count) where count is set when ``$count=true``.
    """
    for name in query:
        if name.startswith("$") and name not in SUPPORTED_OPTIONS:
            raise ODataError(400, f"The query parameter '{name}' is not supported.")
    if _one(query, "$search") is not None:
        raise ODataError(501, "The lab does not implement $search.")
    rows = list(items)
    flt = _one(query, "$filter")
    if flt is not None:
        tree = parse_filter(flt)
        if known_props is not None:
            unknown = filter_properties(tree) - known_props - set(nav_props)
            if unknown:
                name = sorted(unknown)[0]
                raise ODataError(400, f"Could not find a property named '{name}' on type '{type_name}'.")
        rows = [r for r in rows if evaluate(tree, r) is True]
    order = _one(query, "$orderby")
    if order:
        for clause in reversed(_csv(order)):
            parts = clause.split()
            if len(parts) > 2 or (len(parts) == 2 and parts[1] not in ("asc", "desc")):
                raise ODataError(400, f"Invalid $orderby clause '{clause}'.")
            path = parts[0].split("/")
            rows.sort(
                key=lambda r: (_prop(r, path) is not None, _prop(r, path)),
                reverse=len(parts) == 2 and parts[1] == "desc",
            )
    count_raw = _one(query, "$count")
    if count_raw not in (None, "true", "false"):
        raise ODataError(400, f"Invalid value '{count_raw}' for $count query option found.")
    count = len(rows) if count_raw == "true" else None
    skip = _nonneg_int(query, "$skip")
    top = _nonneg_int(query, "$top")
    if skip:
        rows = rows[skip:]
    if top is not None:
        rows = rows[:top]
    select = _csv(_one(query, "$select"))
    expand = _csv(_one(query, "$expand"))
    rows = [select_expand(r, select, expand, set(nav_props), type_name) for r in rows]
    return rows, count


def context_url(base_url: str, entity_set: str, select: list[str] | None = None, entity: bool = False) -> str:
    ctx = f"{base_url}/xapi/v1/$metadata#{entity_set}"
    if select:
        ctx += "(" + ",".join(select) + ")"
    if entity:
        ctx += "/$entity"
    return ctx


def envelope(
    base_url: str, entity_set: str, rows: list[dict], count: int | None = None, select: list[str] | None = None
) -> dict:
    out: dict[str, Any] = {"@odata.context": context_url(base_url, entity_set, select)}
    if count is not None:
        out["@odata.count"] = count
    out["value"] = rows
    return out
