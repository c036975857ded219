"""Where an argument value comes from: is it written in (or derivable from) a text?

Used by the rules judge for the query (stages 2 and 4: values derivable from the conversation)
and for the reasoning (stage 3: the reasoning states the values it calls with). Each leaf of a
value gets one of three findings, and a rule never guesses between them:

- `found`: written in the text, as people write it: strings as whole tokens, without regard to
  case, spacing or word form (plural, `-ing`; identifiers split: `isValidEmail`, `engine_size`),
  or by a code the parameter asks for ("USD" for "US dollars", "es" for "Spanish", "AAPL" for
  "Apple"); numbers in any written form (`3.50`, `1,000`, `5k`, `1.2 billion`, `20万`, next to
  any script's letters); dates and times in words or digits ("March 5th, 2023" for `2023-03-05`,
  "3pm" for `15:00`); or the parameter's default.
- `unknown`: cannot be told by rule: a flag; an allowed value the text does not name; a string
  sharing only some of its words with the text, an abbreviation ("LA"), a near spelling
  ("Chcicago"), a value in another script than the text (a translation); a number the text may
  imply (in words, a unit conversion, the other sign); a date whose year is not written, or one a
  relative date ("next Monday", "for 5 nights") may give; and a value the text does not hold when
  the request offers no other value it could be (`ground_all`): it may come from knowledge ("a
  deck of cards" -> 52, "London" -> "GB").
- `missing`: certainly not from the text: an allowed value when the text names another allowed
  value; and (`ground_all`) a value the text does not hold while the request holds a value of the
  same kind that no argument uses: a number, a date or time, a quoted, capitalised or code-like
  string. That is what a wrong value looks like: the right one is left over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal

from funreason.refine import dates
from funreason.refine.dates import Clock, Day, Reading
from funreason.refine.lexicon import (
    AIRPORTS,
    CODE_WORDS,
    COUNTRIES,
    CURRENCIES,
    CURRENCY_WORDS,
    LANGUAGES,
    MONTHS,
    NICKNAMES,
    NUMBER_WORDS,
    ORDINALS,
    SCALES,
    STOP,
    TENS,
    TICKERS,
    UNITS,
    US_STATES,
    WEEKDAYS,
)
from funreason.refine.words import (
    abbreviates,
    chinese_numbers,
    compact,
    fold,
    initials,
    near,
    occurs,
    scripts,
    stem,
    words,
)

__all__ = ["Finding", "Grounded", "Text", "fold", "ground", "ground_all", "leaves", "text_facts"]

Finding = Literal["found", "unknown", "missing"]
Grounded = tuple[str, Any, Finding, str]  # (path, leaf value, finding, why)

_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])(-)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+(?:e[+-]?\d+)?|e[+-]?\d+)?"
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
_NUMERIC = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
# Unit conversions a value may have gone through ("two weeks" -> 14 days, "5%" -> 0.05, "100µF" -> 1e-4).
_FACTORS = (7, 12, 24, 30, 60, 100, 365, 1000, 3600, 1e6, 1e9)
_UPPER = re.compile(r"(?<![A-Za-z])[A-Z][A-Z.]{1,4}(?![A-Za-z])")
_NO_DEFAULT = object()
_SLOT = re.compile(r"#\d+(?=\.)")
_ABSENT = "absent"  # an internal finding: not in the text; `ground_all` tells missing from unknown
_NEAR_DAYS = 200  # a relative date ("next Monday", "a week later") lies this close to a written one


class Text:
    """What the checks need of a text. Each fact is worked out on first use: most values are written
    as they are (`folded`) or are numbers (`numbers`), and need no more."""

    def __init__(self, text: str):
        self.normal = dates.normal(text)
        self.folded = fold(text)  # NFKC, case-folded, runs of space collapsed
        self.numbers = frozenset(_numbers(self.normal))  # written with digits

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(words(self.normal))

    @cached_property
    def stems(self) -> frozenset[str]:
        return frozenset(map(stem, self.words))

    @cached_property
    def aliases(self) -> frozenset[str]:
        """Words of what the text's codes and nicknames stand for ("LAX": los, angeles)."""
        return frozenset(w for name in _aliases(self.normal, self.folded) for w in words(name))

    @cached_property
    def spoken(self) -> frozenset[float]:
        """Numbers written in words: number words, ordinals, months, Chinese numerals, bounds, years."""
        years = dates.years(self.normal) | dates.decades(self.normal)
        return frozenset(_spoken_numbers(self.words) | chinese_numbers(self.normal) | _bounds(self.normal)
                         | {float(y) for y in years})

    @cached_property
    def _readings(self) -> frozenset[Reading]:
        return frozenset(r for m in dates.mentions(self.normal) for r in m.readings)

    @cached_property
    def days(self) -> frozenset[Day]:
        return frozenset(r for r in self._readings if isinstance(r, Day))

    @cached_property
    def clocks(self) -> frozenset[Clock]:
        return frozenset(r for r in self._readings if isinstance(r, Clock))

    @cached_property
    def years(self) -> frozenset[int]:
        return dates.years(self.normal) | {d.year for d in self.days if d.year}

    @cached_property
    def relative(self) -> bool:
        """Whether the text speaks of days relative to others."""
        return dates.relative(self.normal)

    @cached_property
    def scripts(self) -> frozenset[str]:
        return scripts(self.normal)

    @cached_property
    def compact(self) -> str:
        """Folded, without spaces and punctuation."""
        return compact(self.normal)


@lru_cache(maxsize=4096)
def text_facts(text: str) -> Text:
    """The facts of `text` the grounding rules read (numbers, words, dates, codes), cached."""
    return Text(text)


def _numbers(normal: str) -> set[float]:
    found: set[float] = set()
    for match in _NUMBER.finditer(normal):
        values = _number_values(match)
        found |= values
        if match.group(1):
            found |= {-v for v in values}
    return found | {value for _, _, value in _two_part_numbers(normal)}


def _number_values(match: re.Match[str]) -> set[float]:
    """The value of a `_NUMBER` match (scaled too: "1.2 billion"), and the parts of what may be a
    list rather than thousands ("200,300,400" is 200, 300 and 400 as well)."""
    whole, fraction = match.group(2), match.group(3)
    value = _key(float(whole.replace(",", "") + (fraction or "")))
    values = {value}
    scale = match.group(4) or match.group(5)
    if scale:
        values.add(_key(value * SCALES[scale.lower()]))
    groups = whole.split(",")
    if len(groups) > 1 and len(groups[0]) == 3:
        values |= {float(g) for g in groups if not g.startswith("0")}
    return values


def _two_part_numbers(normal: str) -> list[tuple[int, int, float]]:
    """`(start, end, value)` of numbers written in two parts: scientific notation, feet and inches."""
    found: list[tuple[int, int, float]] = []
    if not _TWO_PART_HINT.search(normal):
        return found
    for match in _SCIENTIFIC.finditer(normal):
        exponent = int(match.group(2).replace("−", "-"))
        found.append((match.start(), match.end(), _key(float(match.group(1)) * 10.0 ** exponent)))
    for match in _FEET_INCHES.finditer(normal):
        found.append((match.start(), match.end(), float(int(match.group(1)) * 12 + int(match.group(2)))))
    return found


def _spoken_numbers(found: frozenset[str]) -> set[float]:
    """Values of the number words in a text, with every tens + units sum ("twenty five")."""
    units = {UNITS[w] for w in found if w in UNITS}
    tens = {TENS[w] for w in found if w in TENS}
    other = {NUMBER_WORDS[w] for w in found if w in NUMBER_WORDS} | {ORDINALS[w] for w in found if w in ORDINALS}
    months = {MONTHS[w] for w in found if w in MONTHS and len(w) > 3}  # "may", "mar" are words too
    return {float(v) for v in units | tens | other | months | {t + u for t in tens for u in units if u < 10}}


def _bounds(normal: str) -> set[float]:
    """One past the bounds a text sets: "less than 5" -> 4, "more than 5" -> 6."""
    found = set()
    for match in _BOUND.finditer(normal):
        bound = float(match.group(1) or match.group(2))
        found |= {bound - 1, bound + 1}
    return found


def _aliases(normal: str, folded: str) -> set[str]:
    """Names the text's upper-case codes ("LAX", "UK", "NY") and city nicknames ("Philly") stand for."""
    names: set[str] = set()
    for token in _UPPER.findall(normal):
        code = token.replace(".", "")
        for table in (AIRPORTS, US_STATES, COUNTRIES):
            names.update(table.get(code, ()))
    for nickname, cities in NICKNAMES.items():
        if occurs(folded, nickname):
            names.update(cities)
    return names


def _key(value: float) -> float:
    """`value` to 12 significant digits, so that 0.1 + 0.2 and 0.3 compare equal (and 8.854e-12 stays)."""
    return float(f"{value:.12g}")


def leaves(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    """`(path, leaf, leaf schema)` for every scalar inside `value`, following `schema` where it can."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for key, item in value.items():
            sub = properties.get(key)
            yield from leaves(item, sub if isinstance(sub, Mapping) else {}, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        items = schema.get("items")
        sub = items if isinstance(items, Mapping) else {}
        for index, item in enumerate(value):
            yield from leaves(item, sub, f"{path}[{index}]")
    else:
        yield path, value, schema


def ground(value: Any, schema: Mapping[str, Any], text: Text, name: str = "") -> tuple[Finding, str]:
    """Whether one scalar `value` (of parameter `name` with `schema`) comes from `text`, and why.

    A value the text does not hold is `missing` here; `ground_all` tells from the request whether
    it may still come from knowledge.
    """
    finding, why = _ground(value, schema, text, name)
    return ("missing", why) if finding == _ABSENT else (finding, why)  # type: ignore[return-value]


def ground_all(items: Iterable[tuple[str, Any, Mapping[str, Any]]], text: Text, request: str | None = None,
               tools: Sequence[Mapping[str, Any]] = ()) -> list[Grounded]:
    """`(path, value, finding, why)` for each `(path, leaf, schema)` of one answer, against `text`.

    With `request` (the user's request), a value `text` does not hold is `missing` only when the
    request holds a value of its kind that no leaf of the answer uses (nor the `tools`' own
    names and descriptions); otherwise `unknown`. Without `request` (a reasoning states its values
    or not) it is `missing`.
    """
    items = list(items)
    found: list[tuple[str, Any, str, str]] = [
        (path, leaf, *_ground(leaf, schema, text, _name(path), _items_beside(path, items)))
        for path, leaf, schema in items]
    if request is None:
        return [(p, v, "missing" if f == _ABSENT else f, w) for p, v, f, w in found]  # type: ignore[misc]
    open_offers: list[Offer] | None = None
    settled: list[Grounded] = []
    for path, leaf, finding, why in found:
        shared = _shared(path, found) if finding == _ABSENT else None
        if shared is not None:
            finding, why = "missing", f"{why}; the other calls take {_short(shared)} from the text"
        elif finding == _ABSENT:
            if open_offers is None:
                open_offers = _unused(offers(request), [leaf for _, leaf, _ in items], tools)
            rival = next((o for o in open_offers if _competes(o, leaf)), None)
            finding, why = (("missing", f"{why}; the request's {rival.text!r} is used nowhere") if rival else
                            ("unknown", f"{why}, and the request offers no other value for it: knowledge?"))
        settled.append((path, leaf, finding, why))  # type: ignore[arg-type]
    return settled


def _shared(path: str, found: Sequence[tuple[str, Any, str, str]]) -> Any | None:
    """The value the other calls (two or more) of the same function agree on at this place, when they
    take it from the text: parallel calls share what the request says once ("on 2026-01-22" for
    every event).
    Paths of several calls read `name#k.param...` (as the rules judge writes them)."""
    mark = _SLOT.search(path)
    if mark is None:
        return None
    slot, call = _SLOT.sub("", path, count=1), path[: mark.end()]
    others = [(value, finding) for other, value, finding, _ in found
              if _SLOT.sub("", other, count=1) == slot and not other.startswith(call + ".")]
    values = {repr(value) for value, _ in others}
    if len(others) >= 2 and len(values) == 1 and all(finding == "found" for _, finding in others):
        return others[0][0]
    return None


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _items_beside(path: str, items: Sequence[tuple[str, Any, Mapping[str, Any]]]) -> frozenset[str]:
    """The other string items of the list `path` is an item of (folded): a list names several
    allowed values, and naming one of them is no case against another."""
    if not path.endswith("]"):
        return frozenset()
    array = path[: path.rindex("[")]
    return frozenset(fold(leaf) for other, leaf, _ in items if other != path and isinstance(leaf, str)
                     and other.startswith(array + "[") and other[len(array):].count("[") == 1)


def _name(path: str) -> str:
    """The parameter a leaf path ends in: `f#2.guests[0].name` -> `name`, `f.tags[1]` -> `tags`."""
    return path.rsplit(".", 1)[-1].split("[", 1)[0]


def _ground(value: Any, schema: Mapping[str, Any], text: Text, name: str,
            used: frozenset[str] = frozenset()) -> tuple[str, str]:
    default = schema.get("default", _NO_DEFAULT)
    if isinstance(value, bool) or value is None:
        if default is not _NO_DEFAULT and default == value and type(default) is type(value):
            return "found", "the default"
        return "unknown", "a flag the text can only imply"
    if isinstance(value, int | float):
        return _ground_number(value, default, text)
    if isinstance(value, str):
        return _ground_string(value, schema, default, text, name, used)
    return "unknown", f"a {type(value).__name__} value"


def _ground_number(value: float, default: Any, text: Text) -> tuple[str, str]:
    if not math.isfinite(value):
        return "missing", "not a finite number"
    key = _key(value)
    if key in text.numbers:
        return "found", "written in the text"
    if default is not _NO_DEFAULT and not isinstance(default, bool) and default == value:
        return "found", "the default"
    if _key(-value) in text.numbers:
        return "unknown", "the text's number with the other sign (a direction, a loss?)"
    if _derivable(key, text):
        return "unknown", "may be derived: a number in words, or a unit conversion of one in the text"
    if 1900 <= value <= 2100 and text.relative and any(abs(value - year) <= 10 for year in text.years):
        return "unknown", "a year the text may give relative to another (seven years ago)"
    return _ABSENT, "not in the text"


def _derivable(value: float, text: Text) -> bool:
    if value in text.spoken:
        return True
    places = _places(value)
    for base in text.numbers | text.spoken | {1.0}:
        if any(value in (_key(base * f), _key(base / f)) for f in _FACTORS):
            return True
        if places >= 2 and round(base * math.pi, places) == value:  # "2 pi" -> 6.2832
            return True
    return False


def _places(value: float) -> int:
    """Decimal places `value` is written with (6.2832 -> 4)."""
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _ground_string(value: str, schema: Mapping[str, Any], default: Any, text: Text, name: str,
                   used: frozenset[str]) -> tuple[str, str]:
    folded = fold(value)
    if not folded:
        return "unknown", "an empty string"
    if occurs(text.folded, folded):
        return "found", "written in the text"
    temporal = dates.read_value(value)
    if temporal is not None:
        return _ground_temporal(temporal, text)
    if _NUMERIC.fullmatch(folded):
        finding, why = _ground_number(float(folded.replace(",", "")), _NO_DEFAULT, text)
        if finding != _ABSENT:
            return finding, why
    finding, why = _ground_words(value, folded, schema, text, name)
    if finding == "found":
        return finding, why
    allowed = schema.get("enum")
    if isinstance(allowed, list) and finding == _ABSENT:
        named = [m for m in allowed if isinstance(m, str) and m != value and fold(m) not in used
                 and occurs(text.folded, fold(m))]
        if named:
            return "missing", f"the text names {named[0]!r}, another allowed value"
    if default == value:
        return "found", "the default"
    if isinstance(allowed, list) and value in allowed:
        return "unknown", "an allowed value the text does not name"
    return finding, why


def _ground_words(value: str, folded: str, schema: Mapping[str, Any], text: Text, name: str) -> tuple[str, str]:
    """A free string the text does not write as it is: its words, a code, an abbreviation, another script."""
    packed = compact(value)
    if len(packed) >= 6 and packed in text.compact:
        return "found", "written in the text without its spaces or punctuation"
    tokens = set(words(value))
    if tokens and all(w in text.words for w in tokens):
        return "found", "its words are in the text"
    if tokens and all(w in text.words or stem(w) in text.stems or w in text.aliases for w in tokens):
        return "found", "its words are in the text, in other forms"
    for names, certain in _code_names(value, schema, name):
        hit = next((n for n in names if occurs(text.folded, n) or occurs(text.folded, n + "s")), None)
        if hit is not None:
            return ("found" if certain else "unknown"), f"the code of {hit!r}, which the text names"
    if 2 <= len(packed) <= 5 and packed.isalpha() and (_abbreviated(packed, text) or any(
            abbreviates(packed, w) for w in text.words if len(w) >= len(packed) + 2)):
        return "unknown", "an abbreviation of words in the text"
    ordered = [w for w in words(value) if w.isalpha()]
    if any(initials(ordered[:k]) in text.words for k in range(2, min(len(ordered), 4) + 1)):
        return "unknown", "the text writes it abbreviated"
    shared = {w for w in tokens if (w in text.words or stem(w) in text.stems or w in text.aliases)
              and len(w) >= 3 and w not in STOP and not w.isdigit()}
    if shared:
        return "unknown", f"only some of its words are in the text ({', '.join(sorted(shared))})"
    close = next((w for w in tokens if len(w) >= 5 for t in text.words if near(w, t)), None)
    if close is not None:
        return "unknown", f"a near spelling or another form of a word in the text ({close})"
    if any(len(w) >= 2 and not w.isascii() and w in text.folded for w in _bigrams(folded)):
        return "unknown", "some of its characters are in the text"
    if not scripts(value) & text.scripts and scripts(value):
        return "unknown", "written in another script than the text (a translation?)"
    return _ABSENT, "not in the text"


def _bigrams(folded: str) -> list[str]:
    """Two-character pieces of the unspaced-script runs of a value: CJK words share characters."""
    return [folded[i : i + 2] for i in range(len(folded) - 1) if not folded[i].isascii()]


def _code_names(value: str, schema: Mapping[str, Any], name: str) -> list[tuple[tuple[str, ...], bool]]:
    """The names a code `value` stands for, each group with whether it names the code for certain
    ("dollar" does not say which dollar); none unless the parameter asks for a code (its name or
    description says so)."""
    asked = set(words(name)) | set(words(str(schema.get("description") or "")))
    if not asked & CODE_WORDS:
        return []
    loose = tuple(word for word, code in CURRENCY_WORDS.items() if code == value.strip().upper())
    return [(_names_of(value), True), (loose, False)]


def _names_of(code: str) -> tuple[str, ...]:
    """What a code stands for in the code tables ("AAPL": apple; "es": spanish; "GB": uk, britain, ...)."""
    key = code.strip()
    found = LANGUAGES.get(key.lower(), ()) if len(key) == 2 else ()
    for table in (CURRENCIES, COUNTRIES, US_STATES, TICKERS, AIRPORTS):
        found += table.get(key.upper(), ())
    if key.upper() in CURRENCIES:  # a currency code begins with its country's: JPY, Japan
        found += COUNTRIES.get(key.upper()[:2], ())
    return found


def _abbreviated(code: str, text: Text) -> bool:
    """Whether folded `code` is the initials of consecutive words of the text ("sd": "san diego")."""
    tokens = text.folded.split()
    width = len(code)
    return any(initials([t.strip(",.;:!?\"'()") or "_" for t in tokens[i : i + width]]) == code
               for i in range(len(tokens) - width + 1))


def _ground_temporal(parts: tuple[frozenset[Reading], ...], text: Text) -> tuple[str, str]:
    """A value made of dates and times: found when every one is in the text."""
    findings = [_ground_reading(readings, text) for readings in parts]
    for wanted in (_ABSENT, "unknown"):
        hit = next((f for f in findings if f[0] == wanted), None)
        if hit is not None:
            return hit
    return "found", "its dates and times are in the text"


def _ground_reading(readings: frozenset[Reading], text: Text) -> tuple[str, str]:
    no_year = False
    for reading in readings:
        if isinstance(reading, Clock):
            if reading in text.clocks:
                return "found", "the time is in the text"
            continue
        for day in text.days:
            if (day.month, day.day) != (reading.month, reading.day):
                continue
            if reading.year is None or day.year == reading.year or (day.year is None and reading.year in text.years):
                return "found", "the date is in the text"
            no_year |= day.year is None
    if no_year and not text.years:
        return "unknown", "the day is in the text, its year is not written"
    for reading in readings:
        if isinstance(reading, Day) and text.relative and (not text.days or any(
                (gap := dates.days_apart(reading, day)) is not None and gap <= _NEAR_DAYS for day in text.days)):
            return "unknown", "a date the text may give relative to another (next Monday, a week later)"
        if isinstance(reading, Clock) and reading.minute == 0 and (
                reading.hour in text.numbers or reading.hour - 12 in text.numbers):
            return "unknown", "the hour is in the text as a bare number"
    return _ABSENT, "not in the text"


# --- what a request offers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A value the request writes: a number, a date or time, or a quoted, capitalised or code-like string."""

    kind: Literal["number", "date", "time", "string"]
    text: str
    numbers: frozenset[float] = frozenset()
    readings: frozenset[Reading] = frozenset()
    scripts: frozenset[str] = frozenset()
    exact: bool = False  # quoted or code-like: only a value holding it as it is uses it


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
    two_part = _two_part_numbers(normal)
    found += [Offer("number", normal[start:end], numbers=frozenset({value})) for start, end, value in two_part]
    dated = [(m.start, m.end) for m in spans] + [(start, end) for start, end, _ in two_part]

    strings: dict[str, tuple[int, int, bool]] = {}
    for match in _QUOTED.finditer(normal):
        body = next(g for g in match.groups() if g is not None).strip()
        if body and len(body) <= max(40, len(normal) // 2) and dates.read_value(body) is None:
            strings.setdefault(body, (*match.span(), True))
    for match in _TOKEN.finditer(normal):
        token = match.group(0).rstrip(".")
        if _CODE_LIKE.search(token) and not _UNIT.fullmatch(token) and not _NUMERIC.fullmatch(token):
            strings.setdefault(token, (*match.span(), True))
    exact_spans = [(start, end) for start, end, exact in strings.values() if exact]
    for match in _CAPITALISED.finditer(normal):
        if _mid_sentence(normal, match.start()):
            name = re.split(r"(?<=\.)\s", match.group(0))[0]  # a run ends with its sentence
            strings.setdefault(re.sub(r"(?:['’]s|\.)$", "", name), (*match.span(), False))
    for body, (start, end, exact) in strings.items():
        if not _inside(start, end, dated) and len(body) >= 2 and fold(body) not in _PRONOUNS | _DATE_WORDS:
            found.append(Offer("string", body, scripts=scripts(body), exact=exact))

    for match in _NUMBER.finditer(normal):
        before, after = normal[max(0, match.start() - 3) : match.start()], normal[match.end() : match.end() + 2]
        if (not _inside(*match.span(), dated + exact_spans) and not _EXPONENT.search(before)
                and not _DIMENSION.search(before + "|" + after)):
            found.append(Offer("number", match.group(0), numbers=frozenset(_number_values(match))))
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


def _unused(found: Sequence[Offer], values: Sequence[Any], tools: Sequence[Mapping[str, Any]]) -> list[Offer]:
    """The offers no value of the answer (nor the tools' own wording) accounts for."""
    numbers = {_key(float(v)) for v in values if isinstance(v, int | float) and not isinstance(v, bool)}
    strings = [v for v in values if isinstance(v, str) and v.strip()]
    readings = {r for v in strings for part in (dates.read_value(v) or ()) for r in part}
    vocabulary = _tool_words(tools)
    return [o for o in found if not _accounted(o, numbers, strings, readings, vocabulary)]


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
        return _exactly_used(offer.text, strings, numbers, vocabulary)
    return _string_accounted(offer.text, strings, numbers, vocabulary)


def _related(offered: float, used: float) -> bool:
    """Whether an answer's number `used` may come from the request's number `offered`."""
    return used in (offered, -offered) or any(used in (_key(offered * f), _key(offered / f)) for f in _FACTORS)


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
    return any(_key(float(n.replace(",", ""))) in numbers for n in _NUMERIC.findall(offered))


def _exactly_used(offered: str, strings: list[str], numbers: set[float], vocabulary: frozenset[str]) -> bool:
    """Whether the answer uses a quoted or code-like string as it is: a value holds it (or it holds
    the value, spacing and punctuation aside), or it is the number a value is, or a tool's name."""
    folded, packed = fold(offered), compact(offered)
    if len(words(offered)) == 1 and stem(folded) in vocabulary:
        return True  # "use the 'sort_list' function"
    digits = _DIGITS.findall(offered)
    for value in strings:
        other = fold(value)
        if folded in other or other in folded or (len(packed) >= 3 and packed in compact(value)):
            return True
        if digits and [int(d) for d in digits] == [int(d) for d in _DIGITS.findall(value)]:
            return True  # the same numbers written otherwise: "x^2" and "x**2", "2023-04-02" and "2023-04-2"
    return any(_key(float(n.replace(",", ""))) in numbers for n in _NUMERIC.findall(offered))


def _initials_of(text: str) -> str:
    """The initials of a name of two words or more ("New York" -> "ny"); "" otherwise."""
    tokens = [w for w in words(text) if w.isalpha()]
    return initials(tokens) if len(tokens) >= 2 else ""


def _covered(these: set[str], those: set[str]) -> bool:
    """Whether every word of `these` is among `those`, or a near spelling of one of them."""
    return all(w in those or any(near(w, t) for t in those) for w in these)


def _code_of(code: str, name: str) -> bool:
    """Whether `code` stands for folded `name` in a code table ("AAPL": "apple", "GB": "uk")."""
    return len(code.strip()) <= 5 and any(occurs(name, n) for n in _names_of(code))


def _tool_words(tools: Sequence[Mapping[str, Any]]) -> frozenset[str]:
    """Stems of the words of the tools' names, descriptions and parameter names (not the parameters'
    descriptions: their examples, "e.g. 'ORD-88213'", are values)."""
    found: set[str] = set()
    for tool in tools:
        found.update(words(str(tool.get("name", ""))))
        found.update(words(str(tool.get("description", ""))))
        found.update(words(" ".join((tool.get("parameters") or {}).get("properties") or {})))
    return frozenset(map(stem, found))


def _competes(offer: Offer, value: Any) -> bool:
    """Whether an unused `offer` could have been `value` (a value the text does not hold)."""
    if isinstance(value, int | float):
        return offer.kind == "number"
    if dates.read_value(value) is not None:
        return offer.kind in ("date", "time")
    if offer.kind == "number":  # an id or a code written in digits ("order 12344") may be a string
        return bool(re.fullmatch(r"\d{3,}", offer.text))
    return offer.kind == "string" and bool(offer.scripts & scripts(value) or not offer.scripts or not scripts(value))
