"""Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters, check digit mod 31."""
import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: str) -> str | None:
    """None when valid, else why not."""
    if not isinstance(code, str) or len(code) != 18:
        return "a unified social credit code has 18 characters"
    code = code.upper()
    if not _SHAPE.match(code):
        return "characters outside the GB 32100 alphabet or an invalid region part"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"check digit is {code[17]}, expected {expected}"
    return None


def with_check_char(first17: str) -> str:
    return first17 + check_char(first17)
