"""How the grounding rules compare words: tokens, stems, whole-token search, spellings, scripts, numerals."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funreason.refine.words import (
    abbreviates,
    chinese_numbers,
    compact,
    fold,
    near,
    occurs,
    scripts,
    stem,
    words,
)


def test_words_split_identifiers_and_fold():
    assert words("isValidEmail") == ("is", "valid", "email")
    assert words("engine_size -waitTime TOXCONTENT_SKIP_RUNTIME") == ("engine", "size", "wait", "time", "toxcontent",
                                                                     "skip", "runtime")
    assert words("ＡＢＣ １２３") == ("abc", "123")  # full-width forms
    assert fold("New\n   YORK") == "new york"


@pytest.mark.parametrize(("a", "b"), [
    ("tolls", "toll"), ("women", "woman"), ("skipping", "skip"), ("includes", "including"), ("cities", "city"),
    ("readings", "read"), ("prices", "price"), ("boxes", "box"), ("defaults", "default"),
])
def test_word_forms_meet(a, b):
    assert stem(a) == stem(b)


@pytest.mark.parametrize(("a", "b"), [("status", "statu"), ("glass", "gla"), ("bus", "bu"), ("toll", "tool")])
def test_other_words_stay_apart(a, b):
    assert stem(a) != stem(b)


@pytest.mark.parametrize(("text", "value", "found"), [
    ("the quick brown fox", "x", False),  # a single letter inside a word is not that letter
    ("solve for x = 5", "x", True),
    ("get any record", "ny", False),
    ("weather in ny please", "ny", True),
    ("data['sales'] as x=data['sales']", "data['sales']", True),
    ("请问北京的当前天气", "北京", True),  # no spaces between Chinese words
    ("北京市和上海", "北京", True),
    ("a slow road", "low", False),
])
def test_occurs_as_whole_tokens(text, value, found):
    assert occurs(fold(text), fold(value)) is found


@pytest.mark.parametrize(("a", "b", "close"), [
    ("chcicago", "chicago", True), ("orlanda", "orlando", True), ("berkley", "berkeley", True),
    ("german", "germany", True), ("cardiologist", "cardiology", True),
    ("paris", "tokyo", False), ("xanadu", "canada", False), ("philly", "philadelphia", False),
    ("cat", "cut", False),  # short words are not compared
])
def test_near_spellings(a, b, close):
    assert near(a, b) is close


@pytest.mark.parametrize(("code", "name", "expected"), [
    ("sd", "san diego", True), ("nyc", "new york city", True), ("msft", "microsoft", True),
    ("desc", "descending", True), ("cm", "centimeters", True),
    ("aapl", "apple", False),  # a table knows it, the letters do not
    ("sd", "seattle", False), ("xanadu", "x a n a d u", False),
])
def test_abbreviations(code, name, expected):
    assert abbreviates(code, name) is expected


def test_scripts_and_compact_forms():
    assert scripts("Beijing, China") == {"latin"}
    assert scripts("请问北京 weather") == {"latin", "cjk"}
    assert scripts("Москва") == {"other"}
    assert scripts("123-456") == set()
    assert compact("McDonald's") == compact("mc donalds") and compact("123 - 456 - 7890") == "1234567890"


def chinese(n):
    """`n` (1-99999) in Chinese numerals, as people write it."""
    digits = "零一二三四五六七八九"
    out, zero = "", False
    for unit, name in ((10_000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, unit)
        if d:
            out += ("零" if zero and out else "") + ("" if (unit == 10 and d == 1 and not out) else digits[d]) + name
            zero = False
        else:
            zero = bool(out)
    return out


@given(st.integers(1, 99_999))
def test_chinese_numerals_read_back(n):
    assert chinese_numbers(f"我要{chinese(n)}个") == {float(n)}


def test_chinese_numerals_in_text():
    assert chinese_numbers("我姐姐比我大三岁") == {3.0}
    assert chinese_numbers("两万元") == {20000.0}
    assert chinese_numbers("一二") == set()  # two digits in a row are no number
