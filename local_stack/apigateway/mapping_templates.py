"""API Gateway (REST API) mapping templates, rendered locally.

SAM CLI ignores AWS service integrations and their request, response and gateway response templates,
so the local stack renders them itself. airspeed-ext is only the Velocity engine: `$input`, `$util` and
`$context` are this module's, as API Gateway documents them. They are strict: Velocity renders an unknown
reference as empty text, so a typo would pass locally and break on AWS; here it raises TemplateError.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import quote_plus, unquote_plus

import airspeed  # type: ignore[import-untyped]


@dataclass(frozen=True)
class GatewayRequest:
    method: str
    resource_path: str
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    path_parameters: dict[str, str]
    body: str
    claims: dict[str, str]
    stage: str
    request_id: str
    source_ip: str = "127.0.0.1"
    stage_variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    body: str
    status: int | None
    headers: dict[str, str]


class TemplateError(Exception):
    """An unknown reference or method, or a template that airspeed cannot parse or evaluate."""


# commons-lang 2's escapes; every other code unit below 0x20 or above 0x7F becomes \uXXXX.
_JS_ESCAPES = {char: "\\" + escape for char, escape in zip("'\"\\/\b\f\n\r\t", "'\"\\/bfnrt", strict=True)}
_JAVA_REPLACEMENT = re.compile(r"\\(.)|\$(\d)", re.S)
_JAVA_WHITESPACE = "".join(map(chr, range(0x21)))  # what Java's trim() strips
_JSON_PATH_STEP = re.compile(r"\.(?P<name>[^.\[\]]+)|\[(?P<index>\d+)\]|\[(?P<q>['\"])(?P<key>.*?)(?P=q)\]")


def _escape_javascript(text: str) -> str:
    """commons-lang 2's StringEscapeUtils.escapeJavaScript, which API Gateway uses: per UTF-16 code unit."""
    encoded = text.encode("utf-16-be", "surrogatepass")
    units = struct.unpack(f">{len(encoded) // 2}H", encoded)
    return "".join(_JS_ESCAPES.get(chr(u)) or (chr(u) if 0x20 <= u <= 0x7F else f"\\u{u:04X}") for u in units)


def _replace_all(text: str, regex: str, replacement: str) -> _JavaString:
    # Java's replacement syntax, not Python's: $n is a group, a backslash takes the next character literally.
    def substitute(match: re.Match[str]) -> str:
        return _JAVA_REPLACEMENT.sub(lambda t: t[1] if t[1] is not None else match[int(t[2])] or "", replacement)

    return _JavaString(re.sub(regex, substitute, text))


def _split(text: str, regex: str) -> _List:
    pieces = re.split(regex, text)
    if len(pieces) > 1:  # Java drops the trailing empty pieces, unless nothing matched
        while pieces and not pieces[-1]:
            pieces.pop()
    return _List([_JavaString(piece) for piece in pieces])


def _java_text(value: object) -> str:
    """A value as Java's toString() writes it inside a map or list."""
    return str(value).lower() if isinstance(value, bool) else "null" if isinstance(value, _Null) else str(value)


type _Methods = dict[str, Callable[..., object]]


class _JavaObject:
    """Its Java methods are its only members: airspeed looks a name up with [] before Python attributes."""

    _type: ClassVar[str]
    _methods: ClassVar[_Methods]

    def _method(self, name: object) -> Callable[..., object]:
        method = self._methods.get(name) if isinstance(name, str) else None
        if method is None:
            raise TemplateError(f"unknown method {self._type}.{name}()")
        receiver = str(self) if isinstance(self, str) else self
        # The implementations get plain strs: Python's re indexes its arguments, which a _JavaString refuses.
        return lambda *args: method(receiver, *(str(arg) if isinstance(arg, str) else arg for arg in args))


class _JavaString(_JavaObject, str):
    _type = "String"
    _methods: ClassVar[_Methods] = {
        "replaceAll": _replace_all,
        "replace": lambda s, old, new: _JavaString(s.replace(old, new)),
        "contains": lambda s, part: part in s,
        "equals": lambda s, other: s == other,
        "length": lambda s: len(s.encode("utf-16-le", "surrogatepass")) // 2,  # Java counts UTF-16 units
        "isEmpty": lambda s: not s,
        "split": _split,
        "trim": lambda s: _JavaString(s.strip(_JAVA_WHITESPACE)),
        "toLowerCase": lambda s: _JavaString(s.lower()),
        "startsWith": lambda s, prefix: s.startswith(prefix),
    }

    def __getitem__(self, name: object) -> Callable[..., object]:  # type: ignore[override]
        return self._method(name)


class _List(_JavaObject, list[object]):
    _type = "List"
    _methods: ClassVar[_Methods] = {
        "get": lambda items, index: items[index],
        "contains": lambda items, value: value in items,
        "size": len,
        "isEmpty": lambda items: not items,
    }

    def __getitem__(self, key: object) -> object:  # type: ignore[override]
        if isinstance(key, int):
            return super().__getitem__(key) if 0 <= key < len(self) else _Null(f"[{key}]")
        return self._method(key)

    def __str__(self) -> str:
        return "[" + ", ".join(map(_java_text, self)) + "]"


class _Map(_JavaObject, dict[str, object]):
    """A Java Map. Named ones are $input, $util, $context and their parts: any other member is a typo."""

    _type = "Map"
    _methods: ClassVar[_Methods] = {
        "get": lambda m, key: m.get(key, _Null(key)),
        "containsKey": lambda m, key: key in m,
        "keySet": _List,
        "size": len,
        "isEmpty": lambda m: not m,
    }

    def __init__(self, entries: dict[str, object], name: str = "", writable: bool = False) -> None:
        super().__init__(entries)
        self._name, self._writable = name, writable

    def __missing__(self, key: str) -> object:
        if self._name:
            raise TemplateError(f"unknown reference {self._name}{key}")
        # Not a key, so maybe a method; an absent key is null, as on AWS (e.g. a claim).
        return self._method(key) if key in self._methods else _Null(str(key))

    def __setitem__(self, key: str, value: object) -> None:
        # airspeed keeps the template's macros in the top namespace, as "#name".
        if self._name and not key.startswith("#") and not (self._writable and key in self):
            raise TemplateError(f"cannot set {self._name}{key}")
        super().__setitem__(key, value)

    def __str__(self) -> str:
        return "{" + ", ".join(f"{key}={_java_text(value)}" for key, value in self.items()) + "}"


_JAVA_METHODS = _JavaString._methods.keys() | _Map._methods.keys() | _List._methods.keys()


class _Null:
    """Velocity's null: renders as nothing, is false and empty. airspeed's own None is true in #if."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __str__(self) -> str:
        return ""

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[object]:
        return iter(())

    def __getitem__(self, name: object) -> _Null:
        return _Null(str(name))

    def __call__(self, *args: object) -> _Null:
        # A Java method called on null gives null (an absent claim's .contains()); any other name is a typo.
        if self._name not in _JAVA_METHODS:
            raise TemplateError(f"unknown method {self._name}()")
        return self


def _java(value: object, name: str = "") -> object:
    """JSON-like data as the Java objects that API Gateway's templates see."""
    if isinstance(value, str):
        return _JavaString(value)
    if isinstance(value, dict):
        return _Map({_JavaString(key): _java(item, key) for key, item in value.items()})
    if isinstance(value, list):
        return _List([_java(item) for item in value])
    return _Null(name) if value is None else value


def _json_path(document: object, path: str) -> object:
    """The value at a JSONPath of the kinds templates use ($, $.a.b, $.a[0], $['a']); None when absent."""
    position, value = 1, document
    if not path.startswith("$"):
        raise TemplateError(f"unsupported JSONPath {path}")
    while position < len(path):
        step = _JSON_PATH_STEP.match(path, position)
        if step is None:
            raise TemplateError(f"unsupported JSONPath {path}")
        position = step.end()
        if step["index"] is not None:
            index = int(step["index"])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(step["name"] or step["key"]) if isinstance(value, dict) else None
    return value


def _input(source: str, request: GatewayRequest) -> _Map:
    def document() -> object:
        try:
            return json.loads(source or "{}")  # API Gateway reads an empty body as {}
        except json.JSONDecodeError as error:
            raise TemplateError(f"$input is not JSON: {error}") from error

    def params(name: object = None) -> object:
        if name is None:
            return _java({"path": request.path_parameters, "querystring": request.query, "header": request.headers})
        found = (p[str(name)] for p in (request.path_parameters, request.query, request.headers) if str(name) in p)
        return _JavaString(next(found, ""))

    members: dict[str, object] = {
        "body": _JavaString(source),
        "json": lambda path: _JavaString(
            json.dumps(_json_path(document(), str(path)), separators=(",", ":"), ensure_ascii=False)
        ),
        "path": lambda path: _java(_json_path(document(), str(path))),
        "params": params,
    }
    return _Map(members, "$input.")


_UTIL = _Map(
    {
        "escapeJavaScript": lambda text: _JavaString(_escape_javascript(str(text))),
        "parseJson": lambda text: _java(json.loads(str(text))),
        # Java's URLEncoder: only letters, digits and ".-*_" stay; a space is "+".
        "urlEncode": lambda text: _JavaString(quote_plus(str(text), safe="*").replace("~", "%7E")),
        "urlDecode": lambda text: _JavaString(unquote_plus(str(text))),
        "base64Encode": lambda text: _JavaString(base64.b64encode(str(text).encode()).decode()),
        "base64Decode": lambda text: _JavaString(base64.b64decode(str(text)).decode()),
    },
    "$util.",
)


def render(
    template: str, request: GatewayRequest, integration_body: str | None = None, error_message: str | None = None
) -> Rendered:
    """Render a request template (integration_body None: $input is the client's request) or a response
    template ($input is the integration's response body, e.g. the JSON of Step Functions'
    StartSyncExecution) or a gateway response template (error_message: $context.error.message and
    $context.error.messageString, the latter the message as a quoted JSON string, as API Gateway does)."""
    header = _Map({})
    override = _Map({"status": _Null("status"), "header": header}, "$context.responseOverride.", writable=True)
    message_string = None if error_message is None else json.dumps(error_message, ensure_ascii=False)
    now = datetime.now(UTC)
    stage_variables = _java(request.stage_variables)
    context = {
        "requestId": _JavaString(request.request_id),
        "httpMethod": _JavaString(request.method),
        "resourcePath": _JavaString(request.resource_path),
        "stage": _JavaString(request.stage),
        "identity": _Map({"sourceIp": _JavaString(request.source_ip)}, "$context.identity."),
        "authorizer": _Map({"claims": _java(request.claims)}, "$context.authorizer."),
        "requestTime": _JavaString(now.strftime("%d/%b/%Y:%H:%M:%S +0000")),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "error": _Map(
            {"message": _java(error_message, "message"), "messageString": _java(message_string, "messageString")},
            "$context.error.",
        ),
        "responseOverride": override,
        "stageVariables": stage_variables,
    }
    source = request.body if integration_body is None else integration_body
    names: dict[str, object] = {
        "input": _input(source, request),
        "util": _UTIL,
        "context": _Map(context, "$context."),
        "stageVariables": stage_variables,
    }
    try:
        body = airspeed.Template(template).merge(_Map(names, "$"))
    except airspeed.TemplateError as error:
        raise TemplateError(str(error)) from error
    status = override["status"]
    if not isinstance(status, _Null) and not str(status).isdigit():
        raise TemplateError(f"$context.responseOverride.status is not a number: {status}")
    return Rendered(
        body=str(body),
        status=None if isinstance(status, _Null) else int(str(status)),
        headers={str(name): str(value) for name, value in header.items()},
    )
