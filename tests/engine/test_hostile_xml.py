"""Uploaded diagrams are refused before lxml expands anything."""
import pytest

from workflows.errors import DiagramError
from workflows.parsing import parse_bpmn

MINIMAL = """<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" isExecutable="{executable}">
    <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="end_certified"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="end_certified"/>
  </bpmn:process>
</bpmn:definitions>"""


def refused(xml, fragment):
    with pytest.raises(DiagramError) as exc:
        parse_bpmn(xml)
    assert fragment in str(exc.value)
    return exc.value


def test_minimal_diagram_parses():
    assert parse_bpmn(MINIMAL.format(executable="true")).process_id == "p"


def test_external_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = f"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>
    <bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
      <bpmn:process id="p" isExecutable="true" name="&xxe;"/></bpmn:definitions>"""
    err = refused(xml, "not allowed")
    assert "TOP-SECRET" not in str(err)


def test_entity_expansion_bomb_is_refused():
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    xml = f"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">{lol}]>
    <bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&l9;</bpmn:definitions>"""
    refused(xml, "not allowed")


def test_plain_dtd_is_refused():
    refused('<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://example.invalid/x.dtd"><d/>', "not allowed")


def test_oversized_file_is_refused_without_parsing():
    big = MINIMAL.format(executable="true") + "<!--" + "x" * (6 * 1024 * 1024) + "-->"
    refused(big, "too large")


def test_not_executable_is_refused_with_its_id():
    err = refused(MINIMAL.format(executable="false"), "not marked executable")
    assert err.errors[0]["element"] == "p"


def test_malformed_xml_is_a_clear_error():
    refused("<bpmn:definitions", "not well-formed")
