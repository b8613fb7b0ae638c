"""Issue 17 item 9: diagram validation is linear, and a diagram too large or too deep is refused with a clear message.

The loop-join check searched the graph once per join (8,000 chained parallel gateways: 26 s on main); it is now one
strongly-connected-components pass. `bench/validation.py` prints the times for 1,000-8,000 gateways."""
import time

import pytest

from bench.validation import chained_gateways
from workflows.errors import DiagramError
from workflows.parsing import _on_cycles, joins_on_cycles, parse_bpmn, prescan
from workflows.xml import load_xml


def test_loop_join_check_is_linear_on_8000_chained_joins():
    root = load_xml(chained_gateways(8000, "parallel"))
    start = time.perf_counter()
    assert prescan(root) == []
    assert time.perf_counter() - start < 5  # quadratic: 26 s; linear: ~0.5 s on a loaded 2-core machine


@pytest.mark.parametrize("edges,cyclic", [
    ({"a": {"b"}, "b": {"c"}}, set()),
    ({"a": {"a"}}, {"a"}),
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, {"a", "b"}),
    ({"s": {"a"}, "a": {"b", "x"}, "b": {"c"}, "c": {"a"}, "x": {"y"}, "y": set()}, {"a", "b", "c"}),
    ({"a": {"b"}, "b": {"c"}, "c": {"b", "d"}, "d": {"e"}, "e": {"d"}}, {"b", "c", "d", "e"}),
])
def test_nodes_on_cycles(edges, cyclic):
    assert _on_cycles(edges) == cyclic


def test_deep_chain_of_10000_nodes_has_no_recursion_problem():
    edges = {f"n{i}": {f"n{i + 1}"} for i in range(10000)}
    assert _on_cycles(edges) == set()
    edges["n10000"] = {"n0"}
    assert len(_on_cycles(edges)) == 10001


def test_a_join_in_a_loop_is_still_found():
    xml = chained_gateways(6, "parallel").decode().replace(
        '<bpmn:sequenceFlow id="b5" sourceRef="g5" targetRef="end"/>',
        '<bpmn:sequenceFlow id="b5" sourceRef="g5" targetRef="g2"/>')
    assert ("parallelGateway", "g2") in joins_on_cycles(load_xml(xml))


def test_too_many_elements_refused_before_parsing_naming_the_setting():
    xml = chained_gateways(2000)  # 6,005 elements with an id
    with pytest.raises(DiagramError) as exc:
        parse_bpmn(xml)
    assert "6005 elements" in str(exc.value) and "MAX_DIAGRAM_ELEMENTS" in str(exc.value)
    with pytest.raises(DiagramError) as exc:
        parse_bpmn(chained_gateways(100), max_elements=100)
    assert "at most 100" in str(exc.value)


def test_too_deep_a_chain_is_refused_clearly():
    with pytest.raises(DiagramError) as exc:
        parse_bpmn(chained_gateways(1000))
    text = str(exc.value)
    assert "too deep" in text and "Recursion" not in text


def test_an_ordinary_chain_still_parses():
    parse_bpmn(chained_gateways(200))
