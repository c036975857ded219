"""Numbers as texts write them: in digits next to any script, scaled, in two parts, in words.

`numbers_in` reads the numbers a text writes with digits: signs, thousands ("1,000"), lists that look
like thousands ("200,300,400"), exponents ("1e-9"), scale words ("1.2 billion", "5k", "20万"), and
two-part forms (`two_part_numbers`: "8.854 x 10^-12", "5'11\"", "6 feet 2 inches"). A number right
after a letter of another script counts ("购买了2个"); one after a Latin letter is part of a code
("p4", "rs6034464"). `spoken_numbers` reads number words ("twenty five", "third", "a dozen",
"rest" for 0, month names) and `bounds` the numbers a bound may mean ("less than 5": 4). Values are
compared by `key`, 12 significant digits.
"""

from __future__ import annotations

import re

from funreason.refine.lexicon import MONTHS, NUMBER_WORDS, ORDINALS, SCALES, TENS, UNITS

# A number written with digits: sign, thousands or a list, decimals, exponent, a scale word after it.
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])(-)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+(?:e[+-]?\d+)?|e[+-]?\d+)?"
                     r"(?:\s?(k|m|mn|b|bn|thousand|million|billion|trillion)(?![A-Za-z])|(百万|千万|百|千|万|亿))?",
                     re.I)
# Numbers written in two parts: "8.854 x 10^-12", "5'11\"", "6 feet 2 inches".
_SCIENTIFIC = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:x|×|\*)\s*10\s*(?:\^|\*\*)\s*([+-−]?\d+)")
_FEET_INCHES = re.compile(r"(?<![\d.])(\d)\s*(?:'|’|ft\.?|feet|foot)\s*(?:and\s+)?(\d{1,2})\s*(?:\"|”|''|in\b\.?|inch(?:es)?)",
                          re.I)
_TWO_PART_HINT = re.compile(r"10\s*(?:\^|\*\*)|\d\s*(?:['’]|ft|feet|foot)", re.I)
# A bound: "less than 5" may mean 4, "more than 5 players" 6.
_BOUND = re.compile(r"\b(?:less|fewer|more|greater)\s+than\s+(\d+)|\b(?:under|over|below|above|exceeding)\s+(\d+)",
                    re.I)
# A whole string that is a number ("1,500", "-3.5").
NUMERIC = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
# Unit conversions a value may have gone through ("two weeks" -> 14 days, "5%" -> 0.05, "100µF" -> 1e-4).
FACTORS = (7, 12, 24, 30, 60, 100, 365, 1000, 3600, 1e6, 1e9)


def numbers_in(normal: str) -> set[float]:
    """Every number NFKC `normal` writes with digits (both signs of a signed one)."""
    found: set[float] = set()
    for match in NUMBER.finditer(normal):
        values = number_values(match)
        found |= values
        if match.group(1):
            found |= {-v for v in values}
    return found | {value for _, _, value in two_part_numbers(normal)}


def number_values(match: re.Match[str]) -> set[float]:
    """The value of a `NUMBER` match (scaled too: "1.2 billion"), and the parts of what may be a
    list rather than thousands ("200,300,400" is 200, 300 and 400 as well)."""
    whole, fraction = match.group(2), match.group(3)
    value = key(float(whole.replace(",", "") + (fraction or "")))
    values = {value}
    scale = match.group(4) or match.group(5)
    if scale:
        values.add(key(value * SCALES[scale.lower()]))
    groups = whole.split(",")
    if len(groups) > 1 and len(groups[0]) == 3:
        values |= {float(g) for g in groups if not g.startswith("0")}
    return values


def two_part_numbers(normal: str) -> list[tuple[int, int, float]]:
    """`(start, end, value)` of numbers written in two parts: scientific notation, feet and inches."""
    found: list[tuple[int, int, float]] = []
    if not _TWO_PART_HINT.search(normal):
        return found
    for match in _SCIENTIFIC.finditer(normal):
        exponent = int(match.group(2).replace("−", "-"))
        found.append((match.start(), match.end(), key(float(match.group(1)) * 10.0 ** exponent)))
    for match in _FEET_INCHES.finditer(normal):
        found.append((match.start(), match.end(), float(int(match.group(1)) * 12 + int(match.group(2)))))
    return found


def spoken_numbers(found: frozenset[str]) -> set[float]:
    """Values of the number words in a text, with every tens + units sum ("twenty five")."""
    units = {UNITS[w] for w in found if w in UNITS}
    tens = {TENS[w] for w in found if w in TENS}
    other = {NUMBER_WORDS[w] for w in found if w in NUMBER_WORDS} | {ORDINALS[w] for w in found if w in ORDINALS}
    months = {MONTHS[w] for w in found if w in MONTHS and len(w) > 3}  # "may", "mar" are words too
    return {float(v) for v in units | tens | other | months | {t + u for t in tens for u in units if u < 10}}


def bounds(normal: str) -> set[float]:
    """One past the bounds a text sets: "less than 5" -> 4, "more than 5" -> 6."""
    found = set()
    for match in _BOUND.finditer(normal):
        bound = float(match.group(1) or match.group(2))
        found |= {bound - 1, bound + 1}
    return found


def key(value: float) -> float:
    """`value` to 12 significant digits, so that 0.1 + 0.2 and 0.3 compare equal (and 8.854e-12 stays)."""
    return float(f"{value:.12g}")


def places(value: float) -> int:
    """Decimal places `value` is written with (6.2832 -> 4)."""
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0
