"""Which expressions may be evaluated in the server process: those that provably end fast (see `is_cheap`).

Why: most gateway conditions are tiny (`decision == "approve"`), and a round trip to the sandbox child costs
~0.1-0.4 ms against ~5 µs in-process; every condition of the shipped diagrams qualifies. Everything else (scripts,
and expressions with any call, comprehension, lambda, f-string or %-format) runs in the child under OS limits.
"""
import ast
from functools import lru_cache

_CHEAP_NODES = (ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd, ast.Compare,
                ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn, ast.IfExp,
                ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List, ast.Set,
                ast.BinOp, ast.Add, ast.Sub, ast.Div, ast.FloorDiv, ast.Mult, ast.Constant)
MAX_CHEAP_NODES = 48


@lru_cache(maxsize=4096)
def is_cheap(src: str) -> bool:
    """True for an expression that provably ends fast in this process, whatever the task data holds: at most
    MAX_CHEAP_NODES nodes among comparisons, boolean logic, names, attributes (read, never called), subscripts,
    short literals, `+ - / //`, and `*` by a numeric literal of at most 100. No call, comprehension, lambda, loop,
    f-string or %-format (which could run code or stringify a huge object). Each operation is then linear in its
    operands; the operands are task data already in memory or results of checked operators (at most MAX_LEN items),
    so the whole costs at most MAX_CHEAP_NODES such passes. Everything else goes to the child."""
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError:
        return False
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_CHEAP_NODES:
        return False
    for node in nodes:
        if not isinstance(node, _CHEAP_NODES):
            return False
        if isinstance(node, ast.Constant) and not _short(node.value):
            return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and not any(
                isinstance(side, ast.Constant) and type(side.value) in (int, float) and abs(side.value) <= 100
                for side in (node.left, node.right)):
            return False
    return True


def _short(value) -> bool:
    if isinstance(value, (str, bytes)):
        return len(value) <= 256
    if isinstance(value, int):
        return abs(value) < 2 ** 64
    return value is None or isinstance(value, (float, complex)) or value is Ellipsis
