"""Open311 answers in the two formats GeoReport v2 defines: JSON and XML.

Both are built from the same plain data (dicts, lists, strings, numbers, booleans, None), so a
field can never differ between the formats. XML is written with ElementTree (which escapes
every text node; `_text` drops the characters XML 1.0 cannot carry, such as a NUL stored before
texts were cleaned) in UTF-8, with the element names of the spec: a list is the element of its
key holding one child per item, named after `LIST_ITEMS` (`attributes` → `attribute`, …).
"""
from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, current_app, jsonify

from services.core.cleantext import xml_safe

FORMATS = {"json": "application/json", "xml": "text/xml"}
XML_CONTENT_TYPE = "text/xml; charset=utf-8"

# The child element of each list, as the spec names it.
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
# Values with no meaning here are `null` in JSON and left out of the XML rather than sent as
# empty elements that a client would have to parse as a number.
OMIT_IN_XML_WHEN_NONE = {"lat", "long"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_safe(str(value))  # a stored NUL or \v would make the document unreadable


def _fill(element: ET.Element, key: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if v is None and k in OMIT_IN_XML_WHEN_NONE:
                continue
            _fill(ET.SubElement(element, k), k, v)
    elif isinstance(value, (list, tuple)):
        child = LIST_ITEMS.get(key, "item")
        for item in value:
            _fill(ET.SubElement(element, child), child, item)
    else:
        element.text = _text(value)


def to_xml(root: str, data: Any) -> bytes:
    """`data` under a root element; a list gives one child per item (see LIST_ITEMS)."""
    element = ET.Element(root)
    _fill(element, root, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, data: Any, status: int = 200) -> Response:
    """The answer in `fmt`; `root` names the XML root (JSON has none: a list or an object)."""
    if fmt == "xml":
        return current_app.response_class(to_xml(root, data), status=status, content_type=XML_CONTENT_TYPE)
    response = jsonify(data)
    response.status_code = status
    return response


def errors(fmt: str, status: int, descriptions: list[str] | str) -> Response:
    """The spec's error answer: `[{"code", "description"}]` / `<errors><error>…</error></errors>`,
    the descriptions in the request's language (see portal.errors.shown). An unknown format
    answers in JSON."""
    from portal.errors import shown

    if isinstance(descriptions, str):
        descriptions = [descriptions]
    body = [{"code": status, "description": shown(d)} for d in descriptions]
    response = respond(fmt if fmt in FORMATS else "json", "errors", body, status)
    response.vary.add("Accept-Language")
    return response
