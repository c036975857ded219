"""Words as the grounding rules compare them, across scripts and spellings.

- `fold`: NFKC (full-width digits and letters become ASCII), case-folded, runs of space collapsed.
- `words`: the word tokens of a text, identifiers split (`isValidEmail`, `engine_size`,
  `-waitTime` give their words), folded.
- `stem`: singular and plural, and a few endings, meet (`tolls`/`toll`, `women`/`woman`,
  `skipping`/`skip`, `includes`/`including`).
- `occurs`: a folded value in a folded text as whole tokens: `'x'` is not in "fox", `'ny'` not in
  "any"; in scripts written without spaces (Chinese, Japanese, Thai) any occurrence counts.
- `near`: a near spelling ("Chcicago"/"Chicago") or a related form ("German"/"Germany").
- `scripts`: which writing systems a text uses, so a translated value is not taken for a wrong one.
- `chinese_numbers`: the values of Chinese numerals ("三", "二十五", "两百").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from funreason.refine.lexicon import IRREGULAR

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_TOKEN = re.compile(r"[^\W_]+")
_SPACE = re.compile(r"\s+")
_COMPACT = re.compile(r"[\W_]+")
_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                   "八": 8, "九": 9}
_CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}
_LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")
_OTHER_LETTER = re.compile(r"[^\W\d_A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")
_CHINESE_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万]+")


def fold(text: str) -> str:
    """Case-folded NFKC text with runs of white space collapsed to one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@lru_cache(maxsize=16384)
def words(text: str) -> tuple[str, ...]:
    """The folded word tokens of `text`, identifiers split at case changes and underscores."""
    return tuple(_TOKEN.findall(fold(_CAMEL.sub(" ", unicodedata.normalize("NFKC", text)))))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem of a folded word: enough for singular/plural and -ing/-ed forms to meet."""
    word = IRREGULAR.get(word, word)
    if not word.isascii() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("sses", "shes", "ches", "xes", "zes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":  # skipp -> skip
        word = word[:-1]
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


def unspaced(char: str) -> bool:
    """Whether `char` belongs to a script written without spaces between words (CJK, kana, Hangul,
    Thai, Lao, Khmer, Myanmar): there a value may sit inside a longer run of letters."""
    code = ord(char)
    return code >= 0x2E80 or 0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F or 0x1780 <= code <= 0x17FF


def _spaced_alnum(char: str) -> bool:
    return char.isalnum() and not unspaced(char)


def occurs(text: str, value: str) -> bool:
    """Whether folded `value` occurs in folded `text` as whole tokens (no letter or digit of a spaced
    script right before or after it, where the value itself begins or ends with one)."""
    if not value:
        return False
    start = text.find(value)
    head, tail = _spaced_alnum(value[0]), _spaced_alnum(value[-1])
    while start != -1:
        end = start + len(value)
        if not (head and start > 0 and _spaced_alnum(text[start - 1])) and not (
                tail and end < len(text) and _spaced_alnum(text[end])):
            return True
        start = text.find(value, start + 1)
    return False


def compact(text: str) -> str:
    """Folded `text` without spaces and punctuation: "McDonald's" and "mc donalds" meet."""
    return _COMPACT.sub("", fold(text))


def scripts(text: str) -> frozenset[str]:
    """The writing systems of the letters in `text`: "latin", "cjk" (and other unspaced scripts), "other"."""
    found = {"latin"} if _LATIN_LETTER.search(text) else set()
    for char in _OTHER_LETTER.findall(text):
        found.add("cjk" if unspaced(char) else "other")
        if len(found) == 3:
            break
    return frozenset(found)


def near(a: str, b: str) -> bool:
    """Whether folded words `a` and `b` (of 5 letters or more) are near spellings of each other: one
    edit apart (two for 8 letters or more), or one the start of the other sharing 5 letters or more."""
    if a == b or min(len(a), len(b)) < 5:
        return False
    short, long = sorted((a, b), key=len)
    if long.startswith(short) or (len(short) >= 6 and long[:6] == short[:6]):
        return True
    limit = 2 if len(short) >= 8 else 1
    return abs(len(a) - len(b)) <= limit and _distance(a, b, limit) <= limit


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, stopping early once every path exceeds `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def initials(tokens: tuple[str, ...] | list[str]) -> str:
    """The first letters of `tokens`: ("san", "diego") -> "sd"."""
    return "".join(token[0] for token in tokens)


def abbreviates(code: str, name: str) -> bool:
    """Whether folded `code` (2-5 letters) abbreviates folded `name`: its initials ("sd": "san diego"),
    or its letters in order starting with the name's first ("msft": "microsoft")."""
    tokens = _TOKEN.findall(name)
    if not tokens or not 2 <= len(code) <= 5 or not code.isalpha():
        return False
    if len(tokens) > 1 and initials(tokens) == code:
        return True
    joined = "".join(tokens)
    if joined[0] != code[0] or len(joined) <= len(code):
        return False
    rest = iter(joined[1:])
    return all(letter in rest for letter in code[1:])


def chinese_numbers(text: str) -> set[float]:
    """The values of the Chinese numerals written in `text` ("三岁" -> 3, "二十五" -> 25, "两万" -> 20000)."""
    found = set()
    for run in _CHINESE_NUMERAL.findall(text):
        value = _chinese_value(run)
        if value is not None:
            found.add(float(value))
    return found


def _chinese_value(run: str) -> int | None:
    total, section, digit = 0, 0, None
    for char in run:
        if char in "零〇" and len(run) > 1:  # a place holder after a unit: 四百零一 is 401
            if digit is not None:
                return None
        elif char in _CHINESE_DIGITS:
            if digit is not None:  # two digits in a row ("一二"): not one number
                return None
            digit = _CHINESE_DIGITS[char]
        elif char in _CHINESE_UNITS:
            section += (1 if digit is None else digit) * _CHINESE_UNITS[char]
            digit = None
        else:  # 万
            total = (total + section + (digit or 0)) * 10_000
            section, digit = 0, None
    return total + section + (digit or 0)
