"""Word lists the grounding rules need: codes and the names they stand for, number and date words.

Codes are what tool parameters ask for and queries rarely write: "USD" for "US dollars", "es" for
"Spanish", "AAPL" for "Apple", "GB" for "the UK", "LAX" for "Los Angeles". Each table maps a code
(upper case, or lower case for language codes) to the names a text may use for it (folded, English
and the commonest Chinese). The tables cover the common codes only: a code they do not know is no
evidence either way, never a reason to fail. Names of several codes (CA: Canada and California) are
listed under each.
"""

from __future__ import annotations

CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": ("us dollar", "u.s. dollar", "american dollar", "united states dollar", "usd", "美元", "美金"),
    "EUR": ("euro", "eur", "€", "欧元"),
    "GBP": ("british pound", "pound sterling", "sterling", "gbp", "£", "英镑"),
    "JPY": ("japanese yen", "yen", "jpy", "日元"),
    "CNY": ("chinese yuan", "yuan", "renminbi", "rmb", "cny", "人民币"),
    "CAD": ("canadian dollar", "cad", "加元", "加拿大元"),
    "AUD": ("australian dollar", "aud", "澳元"),
    "NZD": ("new zealand dollar", "nzd"),
    "HKD": ("hong kong dollar", "hkd", "港币"),
    "SGD": ("singapore dollar", "sgd"),
    "CHF": ("swiss franc", "chf"),
    "INR": ("indian rupee", "rupee", "inr", "卢比"),
    "KRW": ("korean won", "south korean won", "krw", "韩元"),
    "MXN": ("mexican peso", "mxn"),
    "BRL": ("brazilian real", "brl"),
    "RUB": ("russian ruble", "russian rouble", "ruble", "rouble", "rub", "卢布"),
    "SEK": ("swedish krona", "sek"),
    "NOK": ("norwegian krone", "nok"),
    "DKK": ("danish krone", "dkk"),
    "ZAR": ("south african rand", "rand", "zar"),
    "TRY": ("turkish lira", "lira"),
    "THB": ("thai baht", "baht", "泰铢"),
    "AED": ("uae dirham", "emirati dirham", "dirham"),
}
# A bare currency word that does not say which country's: evidence, not proof.
CURRENCY_WORDS: dict[str, str] = {"dollar": "USD", "$": "USD", "pound": "GBP", "peso": "MXN", "franc": "CHF",
                                  "krone": "NOK", "¥": "JPY"}

LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("english", "英语", "英文"), "fr": ("french", "法语", "法文"), "es": ("spanish", "西班牙语", "西班牙文"),
    "de": ("german", "德语", "德文"), "it": ("italian", "意大利语"), "pt": ("portuguese", "葡萄牙语"),
    "zh": ("chinese", "mandarin", "中文", "汉语", "普通话"), "ja": ("japanese", "日语", "日文"),
    "ko": ("korean", "韩语", "韩文"), "ru": ("russian", "俄语"), "ar": ("arabic", "阿拉伯语"),
    "hi": ("hindi",), "nl": ("dutch",), "sv": ("swedish",), "pl": ("polish",), "tr": ("turkish",),
    "el": ("greek",), "he": ("hebrew",), "vi": ("vietnamese",), "th": ("thai",), "id": ("indonesian",),
    "uk": ("ukrainian",), "cs": ("czech",), "da": ("danish",), "fi": ("finnish",), "no": ("norwegian",),
}

COUNTRIES: dict[str, tuple[str, ...]] = {
    "US": ("united states", "usa", "u.s.", "u.s.a.", "america", "美国"),
    "GB": ("united kingdom", "uk", "u.k.", "britain", "great britain", "england", "英国"),
    "CN": ("china", "中国"), "JP": ("japan", "日本"), "DE": ("germany", "德国"), "FR": ("france", "法国"),
    "IT": ("italy", "意大利"), "ES": ("spain", "西班牙"), "IN": ("india", "印度"), "CA": ("canada", "加拿大"),
    "AU": ("australia", "澳大利亚"), "BR": ("brazil",), "MX": ("mexico",), "RU": ("russia", "俄罗斯"),
    "KR": ("south korea", "korea", "韩国"), "NL": ("netherlands", "holland"), "CH": ("switzerland",),
    "SE": ("sweden",), "NO": ("norway",), "DK": ("denmark",), "FI": ("finland",), "IE": ("ireland",),
    "PT": ("portugal",), "PL": ("poland",), "TR": ("turkey",), "GR": ("greece",), "EG": ("egypt",),
    "ZA": ("south africa",), "NG": ("nigeria",), "KE": ("kenya",), "AR": ("argentina",), "CL": ("chile",),
    "SG": ("singapore",), "TH": ("thailand", "泰国"), "VN": ("vietnam",), "ID": ("indonesia",),
    "NZ": ("new zealand",), "AE": ("united arab emirates", "uae"), "SA": ("saudi arabia",), "IL": ("israel",),
}
COUNTRIES |= {"USA": COUNTRIES["US"], "UK": COUNTRIES["GB"], "GBR": COUNTRIES["GB"], "CHN": COUNTRIES["CN"],
              "JPN": COUNTRIES["JP"], "DEU": COUNTRIES["DE"], "FRA": COUNTRIES["FR"], "IND": COUNTRIES["IN"],
              "CAN": COUNTRIES["CA"], "AUS": COUNTRIES["AU"]}

US_STATES: dict[str, tuple[str, ...]] = {code: (name,) for code, name in (
    ("AL", "alabama"), ("AK", "alaska"), ("AZ", "arizona"), ("AR", "arkansas"), ("CA", "california"),
    ("CO", "colorado"), ("CT", "connecticut"), ("DE", "delaware"), ("FL", "florida"), ("GA", "georgia"),
    ("HI", "hawaii"), ("ID", "idaho"), ("IL", "illinois"), ("IN", "indiana"), ("IA", "iowa"), ("KS", "kansas"),
    ("KY", "kentucky"), ("LA", "louisiana"), ("ME", "maine"), ("MD", "maryland"), ("MA", "massachusetts"),
    ("MI", "michigan"), ("MN", "minnesota"), ("MS", "mississippi"), ("MO", "missouri"), ("MT", "montana"),
    ("NE", "nebraska"), ("NV", "nevada"), ("NH", "new hampshire"), ("NJ", "new jersey"), ("NM", "new mexico"),
    ("NY", "new york"), ("NC", "north carolina"), ("ND", "north dakota"), ("OH", "ohio"), ("OK", "oklahoma"),
    ("OR", "oregon"), ("PA", "pennsylvania"), ("RI", "rhode island"), ("SC", "south carolina"),
    ("SD", "south dakota"), ("TN", "tennessee"), ("TX", "texas"), ("UT", "utah"), ("VT", "vermont"),
    ("VA", "virginia"), ("WA", "washington"), ("WV", "west virginia"), ("WI", "wisconsin"), ("WY", "wyoming"),
    ("DC", "district of columbia"),
)}

TICKERS: dict[str, tuple[str, ...]] = {
    "AAPL": ("apple", "苹果"), "MSFT": ("microsoft", "微软"), "GOOGL": ("google", "alphabet", "谷歌"),
    "GOOG": ("google", "alphabet", "谷歌"), "AMZN": ("amazon", "亚马逊"), "META": ("meta", "facebook"),
    "FB": ("facebook",), "TSLA": ("tesla", "特斯拉"), "NVDA": ("nvidia", "英伟达"), "NFLX": ("netflix",),
    "IBM": ("ibm",), "INTC": ("intel",), "AMD": ("amd",), "ORCL": ("oracle",), "CSCO": ("cisco",),
    "ADBE": ("adobe",), "CRM": ("salesforce",), "JPM": ("jpmorgan", "jp morgan"), "BAC": ("bank of america",),
    "WMT": ("walmart",), "KO": ("coca-cola", "coca cola"), "PEP": ("pepsico", "pepsi"), "DIS": ("disney",),
    "NKE": ("nike",), "MCD": ("mcdonald's", "mcdonalds"), "BABA": ("alibaba", "阿里巴巴"), "V": ("visa",),
    "MA": ("mastercard",), "PYPL": ("paypal",), "UBER": ("uber",), "SBUX": ("starbucks",), "BA": ("boeing",),
    "GE": ("general electric",), "F": ("ford",), "GM": ("general motors",), "XOM": ("exxon",),
    "BRK.A": ("berkshire hathaway",), "BRK.B": ("berkshire hathaway",),
}

AIRPORTS: dict[str, tuple[str, ...]] = {code: tuple(names) for code, *names in (
    ("JFK", "new york"), ("LGA", "new york"), ("EWR", "newark", "new york"), ("LAX", "los angeles"),
    ("SFO", "san francisco"), ("OAK", "oakland"), ("SJC", "san jose"), ("ORD", "chicago"), ("MDW", "chicago"),
    ("ATL", "atlanta"), ("DFW", "dallas"), ("SEA", "seattle"), ("BOS", "boston"), ("MIA", "miami"),
    ("DEN", "denver"), ("LAS", "las vegas"), ("PHX", "phoenix"), ("IAD", "washington"), ("DCA", "washington"),
    ("SAN", "san diego"), ("PDX", "portland"), ("SMF", "sacramento"), ("FAT", "fresno"), ("MCO", "orlando"),
    ("IAH", "houston"), ("MSP", "minneapolis"), ("DTW", "detroit"), ("PHL", "philadelphia"),
    ("LHR", "london"), ("LGW", "london"), ("CDG", "paris"), ("ORY", "paris"), ("FRA", "frankfurt"),
    ("AMS", "amsterdam"), ("MAD", "madrid"), ("FCO", "rome"), ("HND", "tokyo"), ("NRT", "tokyo"),
    ("PEK", "beijing"), ("PVG", "shanghai"), ("HKG", "hong kong"), ("SIN", "singapore"), ("DXB", "dubai"),
    ("SYD", "sydney"), ("YYZ", "toronto"), ("YVR", "vancouver"), ("ICN", "seoul"), ("BKK", "bangkok"),
)}

# What people call some cities; initials ("LA", "SF", "NYC") need no table.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "philly": ("philadelphia",), "chi-town": ("chicago",), "chitown": ("chicago",), "big apple": ("new york",),
    "vegas": ("las vegas",), "frisco": ("san francisco",), "nola": ("new orleans",), "d.c.": ("washington",),
}

# A parameter asks for a code when its name or description says one of these.
CODE_WORDS = frozenset("code codes iso symbol ticker abbreviation abbreviated currency language lang locale "
                       "country state iata airport".split())

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

UNITS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS: dict[str, int] = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                        "eighty": 80, "ninety": 90}
ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "twentieth": 20, "thirtieth": 30, "last": -1,
}
NUMBER_WORDS: dict[str, float] = {
    "hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "dozen": 12,
    "half": 0.5, "quarter": 0.25, "double": 2, "twice": 2, "couple": 2, "pair": 2, "triple": 3, "single": 1,
    "once": 1, "thrice": 3, "a": 1, "an": 1, "myself": 1, "alone": 1, "rest": 0, "none": 0, "no": 0,
    "without": 0, "nothing": 0,
}
# Scale words after a number: "1.2 billion", "8.5 million", "20万".
SCALES: dict[str, float] = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
                            "billion": 1e9, "trillion": 1e12, "百": 100, "千": 1e3, "万": 1e4, "亿": 1e8,
                            "百万": 1e6, "千万": 1e7}

# English plurals no suffix rule recovers.
IRREGULAR: dict[str, str] = {
    "women": "woman", "men": "man", "children": "child", "people": "person", "feet": "foot", "teeth": "tooth",
    "mice": "mouse", "geese": "goose", "data": "datum", "criteria": "criterion", "indices": "index",
    "analyses": "analysis", "leaves": "leaf", "knives": "knife", "lives": "life", "wives": "wife",
}
STOP = frozenset("the and for with from into onto about this that what your you are was were its it's has have "
                 "had not but all any can could would should will please find get give tell show".split())


def names_of(code: str) -> tuple[str, ...]:
    """What a code stands for in the code tables ("AAPL": apple; "es": spanish; "GB": uk, britain, ...)."""
    key = code.strip()
    found = LANGUAGES.get(key.lower(), ()) if len(key) == 2 else ()
    for table in (CURRENCIES, COUNTRIES, US_STATES, TICKERS, AIRPORTS):
        found += table.get(key.upper(), ())
    if key.upper() in CURRENCIES:  # a currency code begins with its country's: JPY, Japan
        found += COUNTRIES.get(key.upper()[:2], ())
    return found
