"""Dates and times as people write them, found in texts and read from argument values.

A query writes "March 5th, 2023", "the 12th of march", "2023.4.15", "04/25/2023", "20230929",
"2023年5月15日", "3pm", "5:30 p.m.", "noon", "10 in the morning", "下午3点"; an argument holds
"2023-03-05", "15:00", "2024-03-05T12:00:00Z", "2023-10-01 to 2023-10-07". `mentions` finds
the dates and times a text writes, each with the readings it allows (04/05/2023 is April 5th or
May 4th; "5 o'clock" is 05:00 or 17:00). `read_value` reads a value made only of dates and
times (None for any other value). `relative` tells whether a text speaks of dates relative to
another ("tomorrow", "next Monday", "a week later", "for 5 nights"): such a value may be derived.
Nothing here knows today's date.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from funreason.refine.lexicon import MONTHS
from funreason.refine.words import chinese_numbers


@dataclass(frozen=True)
class Day:
    """A calendar day; `year` is None when the text does not write one ("March 5th")."""

    year: int | None
    month: int
    day: int


@dataclass(frozen=True)
class Clock:
    """A time of day on the 24-hour clock."""

    hour: int
    minute: int


Reading = Day | Clock


@dataclass(frozen=True)
class Mention:
    """A date or time written at `text[start:end]`, with every reading it allows."""

    start: int
    end: int
    readings: frozenset[Reading]


_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR_AFTER = r"(?:,?\s*(\d{4})(?![\w]))?"
_DATES = (
    ("ymd", re.compile(r"(?<![\d.])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")),
    ("dmy", re.compile(r"(?<![\d.\-/])(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?![\d])")),
    ("compact", re.compile(r"(?<![\d.])((?:19|20)\d{2})(\d{2})(\d{2})(?![\d.])")),
    ("cjk", re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]")),
    ("month_first", re.compile(rf"(?<![\w])(?:(\d{{4}})\s+)?{_MONTH}\s+(?:the\s+)?{_DAY}(?![\w]){_YEAR_AFTER}", re.I)),
    ("day_first", re.compile(rf"(?<![\w])(?:the\s+)?(?:(\d{{4}})\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?(?:this\s+)?"
                             rf"{_MONTH}(?![\w]){_YEAR_AFTER}", re.I)),
)
_CJK_HOUR = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"
_TIMES = (
    ("ampm", re.compile(r"(?<![\d:.])(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?\s?m\b\.?", re.I)),
    ("clock", re.compile(r"(?<![\d:.])([01]?\d|2[0-3]):([0-5]\d)(?::[0-5]\d(?:\.\d+)?)?(?![\d])")),
    ("oclock", re.compile(r"(?<![\d:.])(\d{1,2})\s*o'?\s?clock", re.I)),
    ("part_of_day", re.compile(r"(?<![\d:.])(\d{1,2})(?::(\d{2}))?\s+in\s+the\s+(morning|afternoon|evening|night)",
                               re.I)),
    ("word", re.compile(r"\b(noon|midday|midnight)\b|(中午|正午|午夜)", re.I)),
    ("cjk", re.compile(rf"(上午|早上|凌晨|中午|下午|晚上|傍晚)?\s*{_CJK_HOUR}\s*[点點時时](?:\s*(\d{{1,2}}|半)\s*分?)?")),
)
_ANY = re.compile(r"\d|noon|midday|midnight|[中正午][午夜]|[一二两三四五六七八九十][点點時时]", re.I)
_AFTERNOON = re.compile(r"(下午|晚上|傍晚|pm|p\.m\.)\s*$", re.I)
_RELATIVE = re.compile(
    r"\b(?:today|tonight|tomorrow|yesterday|now|currently|current|next|last|this|coming|upcoming|ago|later|"
    r"earlier|before|after|weekend|weeks?|fortnight|months?|days?|nights?|monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday)\b|今天|今日|今晚|明天|昨天|后天|前天|下周|上周|本周|这周|下个月|上个月|本月|"
    r"这个月|今年|去年|明年|星期|礼拜|周[一二三四五六日末]|现在|天后|天前",
    re.I,
)
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d])|(?<![\w'’])['’](\d{2})(?![\w])")
_DECADE = re.compile(r"(?<![\d.])((?:19|20)\d0)['’]?s\b|(?<![\d.])['’]?(\d0)(?:['’]?s\b|\s*年代)")
_OFFSET = re.compile(r"(?<=:\d\d:\d\d)(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})(?![\w])|(?<=\d)Z(?![\w])")
_MONTH_DAY_VALUE = re.compile(r"\s*(\d{1,2})-(\d{1,2})\s*")
_FILLER = frozenset("t z to and from between until till through at on utc gmt 至 到 从 的".split())
_FILLER_SPLIT = re.compile(r"[\s,;\-–—~/()]+")


def normal(text: str) -> str:
    """The form every function here reads: NFKC (full-width digits become ASCII)."""
    return unicodedata.normalize("NFKC", text)


def mentions(text: str) -> tuple[Mention, ...]:
    """The dates and times written in NFKC `text`, left to right, overlapping finds resolved to the longest."""
    if not _ANY.search(text):  # every pattern needs a digit, a Chinese numeral or a word for noon
        return ()
    found = [m for pattern in _DATES for m in _dates(text, *pattern)]
    found += [m for pattern in _TIMES for m in _times(text, *pattern)]
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Mention] = []
    for mention in found:
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return tuple(kept)


def _day(year: int | None, month: int, day: int) -> Day | None:
    try:
        dt.date(year or 2000, month, day)  # 2000 is a leap year: February 29th without a year stands
    except ValueError:
        return None
    return Day(year, month, day)


def _dates(text: str, kind: str, pattern: re.Pattern[str]) -> list[Mention]:
    found = []
    for match in pattern.finditer(text):
        groups = match.groups()
        if kind in ("ymd", "compact"):
            options = [_day(int(groups[0]), int(groups[1]), int(groups[2]))]
        elif kind == "dmy":
            a, b, year = int(groups[0]), int(groups[1]), int(groups[2])
            options = [_day(year, a, b), _day(year, b, a)]
        elif kind == "cjk":
            options = [_day(int(groups[0]) if groups[0] else None, int(groups[1]), int(groups[2]))]
        else:
            before, *middle, after = groups
            month, day = (middle[0], middle[1]) if kind == "month_first" else (middle[1], middle[0])
            year = before or after
            options = [_day(int(year) if year else None, MONTHS[month.lower().rstrip(".")], int(day))]
        readings = frozenset(o for o in options if o is not None)
        if readings:
            found.append(Mention(match.start(), match.end(), readings))
    return found


def _times(text: str, kind: str, pattern: re.Pattern[str]) -> list[Mention]:
    found = []
    for match in pattern.finditer(text):
        readings = _clock_readings(kind, match.groups(), text[max(0, match.start() - 4) : match.start()])
        if readings:
            found.append(Mention(match.start(), match.end(), frozenset(readings)))
    return found


def _clock_readings(kind: str, groups: tuple[str | None, ...], before: str) -> set[Clock]:
    if kind == "word":
        word = (groups[0] or groups[1] or "").lower()
        return {Clock(0, 0) if word in ("midnight", "午夜") else Clock(12, 0)}
    if kind == "cjk":
        part, hour_text, minute_text = groups
        if hour_text == "一" and not part:  # "一点" is mostly "a little"
            return set()
        hour = int(hour_text) if hour_text and hour_text.isdigit() else _chinese(hour_text)
        minute = 30 if minute_text == "半" else int(minute_text) if minute_text else 0
        if hour is None or hour > 23 or minute > 59:
            return set()
        if part in ("下午", "晚上", "傍晚") and hour < 12:
            return {Clock(hour + 12, minute)}
        return {Clock(hour, minute)} | ({Clock(hour + 12, minute)} if not part and hour < 12 else set())
    hour = int(groups[0] or 0)
    minute = int(groups[1]) if kind in ("ampm", "clock", "part_of_day") and groups[1] else 0
    if minute > 59:
        return set()
    if kind == "ampm":
        if not 1 <= hour <= 12:
            return set()
        return {Clock(hour % 12 + (12 if groups[2].lower() == "p" else 0), minute)}
    if kind == "clock":
        late = _AFTERNOON.search(before) and hour < 12
        return {Clock(hour + 12 if late else hour, minute)}
    if hour > 12:
        return set()
    if kind == "part_of_day":
        return {Clock(hour % 12 + (0 if groups[2].lower() == "morning" else 12), minute)}
    return {Clock(hour % 12, 0), Clock(hour % 12 + 12, 0)}  # o'clock: morning or afternoon


def _chinese(text: str | None) -> int | None:
    values = chinese_numbers(text or "")
    return int(next(iter(values))) if len(values) == 1 else None


def years(text: str) -> frozenset[int]:
    """The years NFKC `text` writes as four digits (1900-2099) or as `'19` (2019 and 1919)."""
    found: set[int] = set()
    for full, short in _YEAR.findall(text):
        if full:
            found.add(int(full))
        else:
            found |= {2000 + int(short), 1900 + int(short)}
    return frozenset(found)


def decades(text: str) -> frozenset[int]:
    """The first years of the decades NFKC `text` names: "the 90s", "'90s", "1990s", "90年代" -> 1990
    (and 2090 for the two-digit forms)."""
    found: set[int] = set()
    for full, short in _DECADE.findall(text):
        found |= {int(full)} if full else {1900 + int(short), 2000 + int(short)}
    return frozenset(found)


def relative(text: str) -> bool:
    """Whether `text` speaks of days relative to others: a value may then be computed from one."""
    return _RELATIVE.search(text) is not None


def read_value(value: str) -> tuple[frozenset[Reading], ...] | None:
    """The readings of each date and time in `value`, when `value` is made of dates and times only
    (joined by "T", "to", "-", ...); None for any other value."""
    text = _OFFSET.sub("", normal(value))
    simple = _MONTH_DAY_VALUE.fullmatch(text)
    if simple:
        day = _day(None, int(simple[1]), int(simple[2]))
        return (frozenset({day}),) if day else None
    found = mentions(text)
    if not found:
        return None
    rest, last = [], 0
    for mention in found:
        rest.append(text[last : mention.start])
        last = mention.end
    rest.append(text[last:])
    leftover = {token for part in rest for token in _FILLER_SPLIT.split(part.lower()) if token}
    if not leftover <= _FILLER:
        return None
    return tuple(mention.readings for mention in found)


def days_apart(a: Day, b: Day) -> int | None:
    """Days between two dates, the missing year of one taken from the other; None without any year."""
    year_a, year_b = a.year or b.year, b.year or a.year
    if year_a is None or year_b is None:
        return None
    try:
        return abs((dt.date(year_a, a.month, a.day) - dt.date(year_b, b.month, b.day)).days)
    except ValueError:  # February 29th moved into a year without one
        return None
