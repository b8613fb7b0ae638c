"""Hardened XML loading for uploaded BPMN/DMN: refuse DTDs and entities before lxml builds a tree."""
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from lxml import etree

from workflows.errors import DiagramError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False,
    remove_comments=True,
)


def load_xml(data: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > max_bytes:
        raise DiagramError([{"element": None, "message": f"file too large: {len(data)} bytes > {max_bytes}"}])
    try:
        # defusedxml refuses any DTD, so entity expansion and external entities never get to run.
        defused_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DiagramError([{"element": None, "message": f"refused: {type(exc).__name__} (DTDs and entities "
                                                         "are not allowed)"}]) from None
    except Exception as exc:  # a plain syntax error
        raise DiagramError([{"element": None, "message": f"not well-formed XML: {exc}"}]) from None
    try:
        return etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DiagramError([{"element": None, "message": f"not well-formed XML: {exc}"}]) from None
