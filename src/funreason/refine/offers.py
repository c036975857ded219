"""What a request offers: the values it writes, and which of them an answer leaves unused.

A wrong argument value rarely comes from nowhere: the right one is in the request and the answer
does not use it. `offers` lists the values a request writes: numbers, dates and times, and strings
that are plainly values (quoted, code-like such as "ORD-51877" or "ci-runner-2", or capitalised
inside a sentence such as "Shohei Ohtani"). `unused` keeps those no value of the answer accounts for
(nor the tools' own wording: "Walmart" names `walmart.search`), and `competes` tells whether one of
them could have been a given value (a number for a number, a date for a date, a string for a string
of the same script, an id in digits for a string).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from funreason.refine import dates
from funreason.refine.dates import Clock, Day, Reading
from funreason.refine.lexicon import MONTHS, STOP, WEEKDAYS, names_of
from funreason.refine.numbers import FACTORS, NUMBER, NUMERIC, key, number_values, two_part_numbers
from funreason.refine.words import abbreviates, compact, fold, initials, near, occurs, scripts, stem, words

_QUOTED = re.compile(r"(?<![\w])'([^'\n]+?)'(?![\w])|\"([^\"\n]+?)\"|`([^`\n]+?)`|“([^”\n]+?)”|‘([^’\n]+?)’|"
                     r"「([^」\n]+?)」|《([^》\n]+?)》")
_LATIN = r"A-Za-z0-9\u00C0-\u024F"
_CAPITALISED = re.compile(rf"(?<![{_LATIN}'’])[A-Z][{_LATIN}&'’.-]*(?:[ \t]+[A-Z][{_LATIN}&'’.-]*)*")
_TOKEN = re.compile(rf"[{_LATIN}/@#_\\*~$%^&+=|:.\-]+")  # a run of Latin text, ended by space or another script
_CODE_LIKE = re.compile(r"[/@#_\\*~$%^&+=|]|[A-Za-z]\.[A-Za-z]|^[A-Za-z][\w.-]*\d|\d[-/:]\d|^\d{6,}$")
# Numbers that are no values: exponents ("m/s^2", "x**2") and dimensions ("a 2x2 table").
_EXPONENT = re.compile(r"(?:\^|\*\*)\s*-?$")
_DIMENSION = re.compile(r"\d[x×]\|$|^[^|]*\|[x×]\d")
# Units are no values either ("m/s^2", "km/h").
_UNITS = r"(?:k?m|[cmµn]?m|s|sec|min|h|hr|km|mi|ft|in|kg|g|mg|lb|mol|k?J|N|W|V|A|Pa|L|mL|F|°C|°F|K|cal|kcal)"
_UNIT = re.compile(rf"{_UNITS}(?:/{_UNITS})+(?:\^-?\d|[²³])?")
_SENTENCE_END = frozenset(".!?:;\n。！？：；")
_DIGITS = re.compile(r"\d+")
_DATE_WORDS = frozenset(MONTHS) | frozenset(WEEKDAYS)
_OPENERS = frozenset("hi hello hey thanks thank please ok okay yes no so well also then first second third finally "
                     "lastly next additionally".split())
_PRONOUNS = frozenset("i'm i'd i'll i've i’m i’d i’ll i’ve ok".split())


@dataclass(frozen=True)
class Offer:
    """A value the request writes: a number, a date or time, or a quoted, capitalised or code-like string."""

    kind: Literal["number", "date", "time", "string"]
    text: str
    numbers: frozenset[float] = frozenset()
    readings: frozenset[Reading] = frozenset()
    scripts: frozenset[str] = frozenset()
    exact: bool = False  # quoted or code-like: only a value holding it as it is uses it


@lru_cache(maxsize=4096)
def offers(request: str) -> tuple[Offer, ...]:
    """The values a request writes, each once (see `Offer`). A number inside a date, a quoted string
    or a code-like token ("ORD-51877") is part of that value, not one of its own."""
    normal = dates.normal(request)
    spans = dates.mentions(normal)
    found: list[Offer] = []
    for mention in spans:
        kind = "date" if any(isinstance(r, Day) for r in mention.readings) else "time"
        found.append(Offer(kind, normal[mention.start : mention.end], readings=mention.readings))
    two_part = two_part_numbers(normal)
    found += [Offer("number", normal[start:end], numbers=frozenset({value})) for start, end, value in two_part]
    dated = [(m.start, m.end) for m in spans] + [(start, end) for start, end, _ in two_part]

    strings: dict[str, tuple[int, int, bool]] = {}
    for match in _QUOTED.finditer(normal):
        body = next(g for g in match.groups() if g is not None).strip()
        if body and len(body) <= max(40, len(normal) // 2) and dates.read_value(body) is None:
            strings.setdefault(body, (*match.span(), True))
    for match in _TOKEN.finditer(normal):
        token = match.group(0).rstrip(".")
        if _CODE_LIKE.search(token) and not _UNIT.fullmatch(token) and not NUMERIC.fullmatch(token):
            strings.setdefault(token, (*match.span(), True))
    exact_spans = [(start, end) for start, end, exact in strings.values() if exact]
    for match in _CAPITALISED.finditer(normal):
        if _mid_sentence(normal, match.start()):
            name = re.split(r"(?<=\.)\s", match.group(0))[0]  # a run ends with its sentence
            strings.setdefault(re.sub(r"(?:['’]s|\.)$", "", name), (*match.span(), False))
    for body, (start, end, exact) in strings.items():
        if not _inside(start, end, dated) and len(body) >= 2 and fold(body) not in _PRONOUNS | _DATE_WORDS:
            found.append(Offer("string", body, scripts=scripts(body), exact=exact))

    for match in NUMBER.finditer(normal):
        before, after = normal[max(0, match.start() - 3) : match.start()], normal[match.end() : match.end() + 2]
        if (not _inside(*match.span(), dated + exact_spans) and not _EXPONENT.search(before)
                and not _DIMENSION.search(before + "|" + after)):
            found.append(Offer("number", match.group(0), numbers=frozenset(number_values(match))))
    return tuple(found)


def _inside(start: int, end: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in spans)


def _mid_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` is inside its sentence: after a word that is not capitalised, or
    after a comma that ends a name ("Portland, Oregon"), not a greeting ("Hi, Find me ...")."""
    before = text[:start].rstrip(" \t\"'“‘(-*•")
    comma = before.endswith(",")
    before = before.rstrip(",")
    if not before or before[-1] in _SENTENCE_END:
        return False
    previous = re.search(r"(\w+)\W*$", before)
    if previous is None:
        return False
    word = previous.group(1)
    if not word[0].isupper():
        return True
    # After "Name, ": a name of its own ("Portland, Oregon"), not a state code ("Los Angeles, CA") nor
    # the request after a greeting ("Hi, Find me ...").
    return (comma and fold(word) not in _OPENERS and before[: previous.start()].strip() != ""
            and not re.match(r"[A-Z]{2}\b", text[start:]))


def unused(found: Sequence[Offer], values: Sequence[Any], tools: Sequence[Mapping[str, Any]]) -> list[Offer]:
    """The offers no value of the answer (nor the tools' own wording) accounts for: a quoted or
    code-like string that is a tool's name ("use the 'sort_list' function") names the tool."""
    numbers = {key(float(v)) for v in values if isinstance(v, int | float) and not isinstance(v, bool)}
    strings = [v for v in values if isinstance(v, str) and v.strip()]
    readings = {r for v in strings for part in (dates.read_value(v) or ()) for r in part}
    vocabulary = _tool_words(tools)
    names = {compact(part) for tool in tools for part in (str(tool.get("name", "")),
                                                           str(tool.get("name", "")).rsplit(".", 1)[-1])}
    return [o for o in found if not (o.exact and compact(o.text) in names)
            and not _accounted(o, numbers, strings, readings, vocabulary)]


def _accounted(offer: Offer, numbers: set[float], strings: list[str], readings: set[Reading],
               vocabulary: frozenset[str]) -> bool:
    if offer.kind == "number":
        return any(_related(n, v) for n in offer.numbers for v in numbers) or any(
            occurs(fold(s), fold(offer.text)) for s in strings)
    if offer.kind in ("date", "time"):
        return any(_same_reading(r, v) for r in offer.readings for v in readings) or any(
            n in numbers for r in offer.readings for n in _parts(r)) or any(
            occurs(fold(s), fold(offer.text)) for s in strings)
    if offer.exact:
        return _exactly_used(offer.text, strings, numbers)
    return _string_accounted(offer.text, strings, numbers, vocabulary)


def _related(offered: float, used: float) -> bool:
    """Whether an answer's number `used` may come from the request's number `offered`."""
    return used in (offered, -offered) or any(used in (key(offered * f), key(offered / f)) for f in FACTORS)


def _same_reading(offered: Reading, used: Reading) -> bool:
    if isinstance(offered, Clock) or isinstance(used, Clock):
        return offered == used
    return (offered.month, offered.day) == (used.month, used.day) and (
        offered.year is None or used.year is None or offered.year == used.year)


def _parts(reading: Reading) -> tuple[float, ...]:
    if isinstance(reading, Clock):
        return (float(reading.hour),)
    return (float(reading.month), float(reading.day)) + ((float(reading.year),) if reading.year else ())


def _string_accounted(offered: str, strings: list[str], numbers: set[float], vocabulary: frozenset[str]) -> bool:
    """Whether the answer uses the request's string `offered`: a value contains it or is contained in
    it, the words of one are all among the other's (as stems or near spellings), one abbreviates or
    codes the other ("LA", "AAPL"), or its words are the tools' own ("Walmart" for `walmart.search`)."""
    folded, packed = fold(offered), compact(offered)
    offered_words = {stem(w) for w in words(offered) if not w.isdigit()}
    if offered_words and offered_words <= vocabulary:
        return True
    substantive = {stem(w) for w in words(offered) if len(w) >= 3 and w not in STOP}
    for value in strings:
        other = fold(value)
        if folded in other or other in folded or (len(packed) >= 3 and packed in compact(value)):
            return True
        value_words = {stem(w) for w in words(value) if len(w) >= 3 and w not in STOP}
        if substantive and value_words and (_covered(substantive, value_words) or _covered(value_words, substantive)):
            return True
        if abbreviates(compact(value), folded) or abbreviates(packed, other) or _code_of(value, folded):
            return True
        if _initials_of(offered) in words(value) or _initials_of(value) in words(offered):
            return True
    return any(key(float(n.replace(",", ""))) in numbers for n in NUMERIC.findall(offered))


def _exactly_used(offered: str, strings: list[str], numbers: set[float]) -> bool:
    """Whether the answer uses a quoted or code-like string as it is: a value holds it (or it holds
    the value, spacing and punctuation aside), or it is the number a value is."""
    folded, packed = fold(offered), compact(offered)
    digits = _DIGITS.findall(offered)
    for value in strings:
        other = fold(value)
        if folded in other or other in folded or (len(packed) >= 3 and packed in compact(value)):
            return True
        if digits and [int(d) for d in digits] == [int(d) for d in _DIGITS.findall(value)]:
            return True  # the same numbers written otherwise: "x^2" and "x**2", "2023-04-02" and "2023-04-2"
    return any(key(float(n.replace(",", ""))) in numbers for n in NUMERIC.findall(offered))


def _initials_of(text: str) -> str:
    """The initials of a name of two words or more ("New York" -> "ny"); "" otherwise."""
    tokens = [w for w in words(text) if w.isalpha()]
    return initials(tokens) if len(tokens) >= 2 else ""


def _covered(these: set[str], those: set[str]) -> bool:
    """Whether every word of `these` is among `those`, or a near spelling of one of them."""
    return all(w in those or any(near(w, t) for t in those) for w in these)


def _code_of(code: str, name: str) -> bool:
    """Whether `code` stands for folded `name` in a code table ("AAPL": "apple", "GB": "uk")."""
    return len(code.strip()) <= 5 and any(occurs(name, n) for n in names_of(code))


def _tool_words(tools: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """Stems of the words of the tools' names, descriptions and parameter names (not the parameters'
    descriptions: their examples, "e.g. 'ORD-88213'", are values)."""
    found: set[str] = set()
    for tool in tools:
        found.update(words(str(tool.get("name", ""))))
        found.update(words(str(tool.get("description", ""))))
        found.update(words(" ".join((tool.get("parameters") or {}).get("properties") or {})))
    return frozenset(map(stem, found))


def competes(offer: Offer, value: Any) -> bool:
    """Whether an unused `offer` could have been `value` (a value the text does not hold)."""
    if isinstance(value, int | float):
        return offer.kind == "number"
    if dates.read_value(value) is not None:
        return offer.kind in ("date", "time")
    if offer.kind == "number":  # an id or a code written in digits ("order 12344") may be a string
        return bool(re.fullmatch(r"\d{3,}", offer.text))
    return offer.kind == "string" and bool(offer.scripts & scripts(value) or not offer.scripts or not scripts(value))
