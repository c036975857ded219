"""Dates and times as people write them: found in texts (BFCL and glaive queries) and read from values."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funreason.refine.dates import (
    Clock,
    Day,
    days_apart,
    decades,
    mentions,
    normal,
    read_value,
    relative,
    years,
)

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December"]


def readings(text):
    return [set(m.readings) for m in mentions(normal(text))]


@pytest.mark.parametrize(("text", "expected"), [
    # BFCL live queries
    ("from October 1, 2019, to October 31, 2019", [{Day(2019, 10, 1)}, {Day(2019, 10, 31)}]),
    ("fetch news from 2023.10.1 to 2023.10.7", [{Day(2023, 10, 1)}, {Day(2023, 10, 7)}]),
    ("on the 20th of september 2023", [{Day(2023, 9, 20)}]),
    ("I'm looking for a theater event in London, UK on Apr the 5th.", [{Day(None, 4, 5)}]),
    ("departing on the 2023 1st of March", [{Day(2023, 3, 1)}]),
    ("on 7th of this march 2023", [{Day(2023, 3, 7)}]),
    ("today is 20230929", [{Day(2023, 9, 29)}]),
    ("on April 25th, 2023?", [{Day(2023, 4, 25)}]),
    ("13th of Feb 2024", [{Day(2024, 2, 13)}]),
    ("Bangkok 22/3/2024 time 11.00 a.m.", [{Day(2024, 3, 22)}, {Clock(11, 0)}]),
    ("on 04/05/2023", [{Day(2023, 4, 5), Day(2023, 5, 4)}]),  # month/day or day/month
    # times
    ("at 3pm", [{Clock(15, 0)}]),
    ("for the 5:30 p.m. show", [{Clock(17, 30)}]),
    ("from yesterday midday to yesterday 3pm", [{Clock(12, 0)}, {Clock(15, 0)}]),
    ("pick up at 10 in the morning", [{Clock(10, 0)}]),
    ("an alarm at 4:30 in the afternoon", [{Clock(16, 30)}]),
    ("at 5 o'clock", [{Clock(5, 0), Clock(17, 0)}]),
    ("from 15:30 to 15:32", [{Clock(15, 30)}, {Clock(15, 32)}]),
    # glaive zh
    ("我出生于1990年5月15日", [{Day(1990, 5, 15)}]),
    ("上午10:00开始，下午11:30结束", [{Clock(10, 0)}, {Clock(23, 30)}]),
    ("在2022年3月15日10点整与John开会", [{Day(2022, 3, 15)}, {Clock(10, 0), Clock(22, 0)}]),
    ("下午3点", [{Clock(15, 0)}]),
    ("快一点", []),  # "a little", not one o'clock
    # no dates
    ("buy 3 apples for $2.50 each", []),
    ("connect to 192.168.1.10 on port 8080", []),
    ("the 2019-2020 season", []),
])
def test_mentions(text, expected):
    assert readings(text) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("2023-03-05", ({Day(2023, 3, 5)},)),
    ("2024-03-05T12:00:00Z", ({Day(2024, 3, 5)}, {Clock(12, 0)})),
    ("2024-03-05T12:00:00+05:00", ({Day(2024, 3, 5)}, {Clock(12, 0)})),
    ("2023-10-01 to 2023-10-07", ({Day(2023, 10, 1)}, {Day(2023, 10, 7)})),
    ("10:00-11:30", ({Clock(10, 0)}, {Clock(11, 30)})),
    ("2022年4月15日 10:00:00", ({Day(2022, 4, 15)}, {Clock(10, 0)})),
    ("03-15", ({Day(None, 3, 15)},)),
    ("20-09-2023", ({Day(2023, 9, 20)},)),
    ("Paris", None),
    ("meeting at 10:00", None),  # words beside the time: not a time value
    ("2023-02-30", None),  # no such day
])
def test_read_value(value, expected):
    found = read_value(value)
    assert (None if found is None else tuple(set(r) for r in found)) == expected


def test_relative_years_decades_and_gaps():
    assert relative("Wednesday next week") and relative("a week later") and relative("下周三")
    assert not relative("in Paris on 2023-03-05")
    assert years("songs from '19 of 2023") == {2019, 1919, 2023}
    assert decades("a comedy from the 90s") == {1990, 2090} and decades("1980s music") == {1980}
    assert decades("I have 90 cats") == set()
    assert days_apart(Day(2023, 3, 1), Day(None, 3, 8)) == 7
    assert days_apart(Day(None, 3, 1), Day(None, 3, 8)) is None


days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31))


def ordinal(n):
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


@given(days, st.sampled_from(["iso", "dots", "us", "words", "words_ordinal", "day_first", "compact", "cjk"]))
def test_any_written_date_is_found(day, style):
    month = MONTH_NAMES[day.month - 1]
    text = {
        "iso": f"{day:%Y-%m-%d}",
        "dots": f"{day.year}.{day.month}.{day.day}",
        "us": f"{day:%m/%d/%Y}",
        "words": f"{month} {day.day}, {day.year}",
        "words_ordinal": f"{month[:3]} {ordinal(day.day)} {day.year}",
        "day_first": f"the {ordinal(day.day)} of {month.lower()} {day.year}",
        "compact": f"{day:%Y%m%d}",
        "cjk": f"{day.year}年{day.month}月{day.day}日",
    }[style]
    found = readings(f"Book it for {text}, please.")
    assert len(found) == 1 and Day(day.year, day.month, day.day) in found[0]
    assert read_value(f"{day:%Y-%m-%d}") == (frozenset({Day(day.year, day.month, day.day)}),)


@given(st.integers(0, 23), st.integers(0, 59))
def test_any_written_time_is_found(hour, minute):
    twelve = hour % 12 or 12
    half = "am" if hour < 12 else "pm"
    for text in (f"{hour:02d}:{minute:02d}", f"{twelve}:{minute:02d} {half}", f"{twelve}:{minute:02d}{half.upper()}"):
        found = readings(f"at {text} please")
        assert found == [{Clock(hour, minute)}], text
    assert read_value(f"{hour:02d}:{minute:02d}") == (frozenset({Clock(hour, minute)}),)


@given(st.text(alphabet="abcxyz ,.!?-", max_size=40))
def test_text_without_digits_or_time_words_has_no_mentions(text):
    assert mentions(normal(text)) == ()
