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
from functools import cached_property, lru_cache
from typing import Any, Literal, cast

from funreason.refine import dates
from funreason.refine.dates import Clock, Day, Reading
from funreason.refine.lexicon import (
    AIRPORTS,
    CODE_WORDS,
    COUNTRIES,
    CURRENCY_WORDS,
    NICKNAMES,
    STOP,
    US_STATES,
    names_of,
)
from funreason.refine.numbers import FACTORS, NUMERIC, bounds, key, numbers_in, places, spoken_numbers
from funreason.refine.offers import Offer, competes, offers, unused
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
        self.numbers = frozenset(numbers_in(self.normal))  # written with digits

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
        return frozenset(spoken_numbers(self.words) | chinese_numbers(self.normal) | bounds(self.normal)
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


def leaves(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    """`(path, leaf, leaf schema)` for every scalar inside `value`, following `schema` where it can."""
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for field, item in value.items():
            sub = properties.get(field)
            yield from leaves(item, sub if isinstance(sub, Mapping) else {}, f"{path}.{field}")
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
    return _strict(finding), why


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
        return [(path, leaf, _strict(finding), why) for path, leaf, finding, why in found]
    open_offers: list[Offer] | None = None
    settled: list[Grounded] = []
    for path, leaf, finding, why in found:
        shared = _shared(path, found) if finding == _ABSENT else None
        if shared is not None:
            finding, why = "missing", f"{why}; the other calls take {_short(shared)} from the text"
        elif finding == _ABSENT:
            if open_offers is None:
                open_offers = unused(offers(request), [leaf for _, leaf, _ in items], tools)
            rival = next((o for o in open_offers if competes(o, leaf)), None)
            finding, why = (("missing", f"{why}; the request's {rival.text!r} is used nowhere") if rival else
                            ("unknown", f"{why}, and the request offers no other value for it: knowledge?"))
        settled.append((path, leaf, cast(Finding, finding), why))
    return settled


def _strict(finding: str) -> Finding:
    """A finding as `ground` gives it: not in the text is missing."""
    return cast(Finding, "missing" if finding == _ABSENT else finding)


def _shared(path: str, found: Sequence[tuple[str, Any, str, str]]) -> Any | None:
    """The value the other calls (two or more) of the same function agree on at this place, when they
    take it from the text: parallel calls share what the request says once ("on 2026-01-22" for
    every event). Paths of several calls read `name#k.param...` (as the rules judge writes them)."""
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
    compared = key(value)
    if compared in text.numbers:
        return "found", "written in the text"
    if default is not _NO_DEFAULT and not isinstance(default, bool) and default == value:
        return "found", "the default"
    if key(-value) in text.numbers:
        return "unknown", "the text's number with the other sign (a direction, a loss?)"
    if _derivable(compared, text):
        return "unknown", "may be derived: a number in words, or a unit conversion of one in the text"
    if 1900 <= value <= 2100 and text.relative and any(abs(value - year) <= 10 for year in text.years):
        return "unknown", "a year the text may give relative to another (seven years ago)"
    return _ABSENT, "not in the text"


def _derivable(value: float, text: Text) -> bool:
    if value in text.spoken:
        return True
    digits = places(value)
    for base in text.numbers | text.spoken | {1.0}:
        if any(value in (key(base * f), key(base / f)) for f in FACTORS):
            return True
        if digits >= 2 and round(base * math.pi, digits) == value:  # "2 pi" -> 6.2832
            return True
    return False


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
    if NUMERIC.fullmatch(folded):
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
    return [(names_of(value), True), (loose, False)]


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


