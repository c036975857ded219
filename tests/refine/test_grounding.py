"""Whether a value is written in (or derivable from) a text: found, missing, or unknown."""

import pytest

from funreason.refine.grounding import ground, ground_all, leaves, text_facts
from funreason.refine.offers import offers

CITY = {"type": "string"}
UNITS = {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}


@pytest.mark.parametrize(("value", "schema", "text", "finding"), [
    ("Paris", CITY, "weather in paris please", "found"),
    ("New York", CITY, "weather in New\n  York", "found"),
    ("France, Paris", CITY, "Paris in France", "found"),  # all its words
    ("Tokyo", CITY, "weather in Paris", "missing"),
    ("San Diego", CITY, "weather in San Francisco", "unknown"),  # some words
    ("", CITY, "anything", "unknown"),
    ("fahrenheit", UNITS, "in Fahrenheit", "found"),
    ("celsius", UNITS, "in fahrenheit", "missing"),  # the text names another allowed value
    ("celsius", UNITS, "no units named", "found"),  # the default
    ("fahrenheit", UNITS, "no units named", "unknown"),
    ("low", {"enum": ["low", "high"]}, "a slow and high road", "missing"),  # 'slow' does not write 'low'...
    ("high", {"enum": ["low", "high"]}, "a slow road", "unknown"),  # ... nor name it
    (1000, {}, "costs 1,000 dollars", "found"),
    (5000, {}, "a 5k budget", "found"),
    (3.5, {}, "at 3.50 each", "found"),
    (-2, {}, "c is -2", "found"),
    (2, {}, "c is -2", "found"),
    (4, {}, "for 3 days", "missing"),
    (7, {}, "for 3 days", "unknown"),  # 1 x 7: "a week"
    (7, {"default": 7}, "for 3 days", "found"),
    (10, {}, "for ten days", "unknown"),
    (25, {}, "twenty five of them", "unknown"),
    (14, {}, "for two weeks", "unknown"),
    (120, {}, "in 2 hours", "unknown"),
    (0.05, {}, "a 5% fee", "unknown"),
    (True, {"type": "boolean", "default": False}, "with alerts", "unknown"),
    (False, {"type": "boolean", "default": False}, "anything", "found"),
    (None, {}, "anything", "unknown"),
    (float("nan"), {}, "nan", "missing"),
])
def test_ground(value, schema, text, finding):
    assert ground(value, schema, text_facts(text))[0] == finding


def test_leaves_follow_the_schema_into_lists_and_objects():
    schema = {"properties": {"rooms": {"type": "array", "items": {"enum": ["a", "b"]}}, "n": {"type": "integer"}}}
    found = list(leaves({"rooms": ["a", "b"], "n": 2}, schema, "f.x"))
    assert found == [("f.x.rooms[0]", "a", {"enum": ["a", "b"]}), ("f.x.rooms[1]", "b", {"enum": ["a", "b"]}),
                     ("f.x.n", 2, {"type": "integer"})]


CURRENCY = {"type": "string", "description": "The ISO currency code."}
TICKER = {"type": "string", "description": "The stock symbol."}
LANGUAGE = {"type": "string", "description": "Target language code."}
COUNTRY = {"type": "string", "description": "Country code."}


@pytest.mark.parametrize(("value", "schema", "text", "finding"), [
    # numbers next to any script's letters (glaive zh), scales, two-part numbers, lists, bounds
    (500, {}, "你好，我需要将500美元转换成欧元。", "found"),
    (3.5, {}, "年利率为3.5%，贷款期限为30年。", "found"),
    (200000, {}, "本金是20万美元", "found"),
    (4, {}, "获取阿迪达斯的p4工单", "missing"),  # a code, not a number
    (1267000000, {}, "the population was 1.267 billion in 2000", "found"),
    (8.854e-12, {}, "a permittivity of 8.854 x 10^-12 F/m", "found"),
    (1e-09, {}, "two charged bodies of 1e-9 and 2e-9", "found"),
    (71, {}, "I am a 180 lbs, 5'11\" tall individual", "found"),
    (74, {}, "is 6 feet 2 inches tall", "found"),
    (300, {}, "given cash_flows=[200,300,400,500]", "found"),
    (4, {}, "apple pie using less than 5 ingredients", "unknown"),
    (6, {}, "supports more than 5 players", "unknown"),
    (6.2832, {}, "Plot a sine wave from 0 to 2 pi", "unknown"),
    (-40, {}, "If I have 100$ and I donated 40", "unknown"),
    (0, {}, "starts from rest and accelerates", "unknown"),
    (3, {}, "obtain the third page of role counts", "unknown"),
    (2, {}, "What is the host count for February 2022?", "unknown"),  # the month's number
    (2019, {}, "Find me some Pop songs from '19", "unknown"),
    (1990, {}, "我正在寻找一部90年代的喜剧电影", "unknown"),
    (2016, {}, "something from seven years ago of 2023", "unknown"),
    (2016, {}, "something from 2023", "missing"),
    # dates and times in words and digits
    ("2023-03-05", {}, "on March 5th, 2023", "found"),
    ("2019-10-01", {}, "statement period from October 1, 2019, to October 31, 2019", "found"),
    ("2023-10-01 to 2023-10-07", {}, "fetch news from 2023.10.1 to 2023.10.7", "found"),
    ("04/25/2023", {}, "trains on April 25th, 2023", "found"),
    ("1990-05-15", {}, "我出生于1990年5月15日", "found"),
    ("2023-03-09", {}, "rent a car from March 9th to March 10th 2023", "found"),  # the year is written once
    ("2023-03-14", {}, "a Music event happening on March 14th in New York", "unknown"),  # no year at all
    ("2024-03-05T12:00:00Z", {}, "from yesterday midday. Today's date is March 6, 2024", "unknown"),
    ("2023-04-22", {}, "from April 22 until April 27, 2023", "found"),
    ("1999-12-31", {}, "on 2025-05-19 at 10:00", "missing"),
    ("15:00", {}, "book it for 3pm", "found"),
    ("17:30", {}, "for the 5:30pm show", "found"),
    ("21:00", {}, "the showing at night 9 pm-ish", "found"),
    ("2022年4月15日 10:00:00", {}, "项目会议 2022-04-15T10:00:00 开始", "found"),
    ("03:33", {}, "at 11:45 lasting 20 minutes", "missing"),
    # word forms, identifiers, spacing
    ("tolls", {}, "avoiding highways and toll roads", "found"),
    ("women", {}, "top player in woman tennis", "found"),
    ("engine_size", {}, "a model using engine size and fuel economy", "found"),
    ("isValidEmail", {}, "when the form has is required and is valid email validation flags", "found"),
    ("McDonald's", {}, "Order 5 fries from uber eats mc donalds", "found"),
    ("x", {}, "the quick brown fox", "missing"),  # a single letter is a whole token or nothing
    # codes the parameter asks for
    ("USD", CURRENCY, "convert 1000 US dollars to Euros", "found"),
    ("JPY", CURRENCY, "你能把5000日元转换成英镑吗", "found"),
    ("USD", CURRENCY, "It costs 20 dollars", "unknown"),  # which dollar?
    ("AAPL", TICKER, "the current stock price of Apple", "found"),
    ("es", LANGUAGE, "translate it to Spanish", "found"),
    ("GB", COUNTRY, "London in the UK", "found"),
    ("USD", {"type": "string"}, "convert 1000 US dollars", "missing"),  # no code asked for
    # what rules cannot tell
    ("San Diego", {}, "Can you check the weather in SD, California", "unknown"),
    ("Los Angeles", {}, "I am travelling to LAX.", "found"),
    ("Los Angeles, CA", {}, "I am travelling to LAX.", "unknown"),  # "CA" is not written
    ("Chicago", {}, "a weather update for Chcicago", "unknown"),
    ("Philadelphia", {}, "next week in Philly", "found"),
    ("Beijing, China", {}, "请问北京的当前天气状况如何？", "unknown"),
    ("约翰·多伊", {}, "我需要为John Doe生成一张发票。", "missing"),  # alone; `ground_all` tells (below)
    ("素食意大利食谱", {}, "我在寻找一个纯素意大利食谱", "unknown"),
    ("desc", {}, "sort this list in descending order", "unknown"),
])
def test_ground_real_queries(value, schema, text, finding):
    assert ground(value, schema, text_facts(text))[0] == finding, ground(value, schema, text_facts(text))


def test_ground_names_the_parameter_that_asks_for_a_code():
    assert ground("EUR", {"type": "string"}, text_facts("to euros"), name="to_currency")[0] == "found"
    assert ground("EUR", {"type": "string"}, text_facts("to euros"), name="target")[0] != "found"


def settle(items, text, request=None, tools=()):
    return {path: (finding, why) for path, _, finding, why in ground_all(items, text_facts(text), request, tools)}


def test_a_value_the_text_lacks_is_missing_only_when_the_request_leaves_a_value_unused():
    query = "What is the weather in Paris?"
    wrong = settle([("f.city", "Tokyo", {})], query, query)
    assert wrong["f.city"][0] == "missing" and "'Paris' is used nowhere" in wrong["f.city"][1]
    knowledge = "Provide me the official crime rate of violent crime in San Francisco in 2020."
    found = settle([("f.city", "San Francisco", {}), ("f.state", "California", {}), ("f.year", 2020, {})],
                   knowledge, knowledge)
    assert found["f.state"][0] == "unknown" and "knowledge" in found["f.state"][1]
    deck = "Calculate the probability of drawing a king from a deck of 52 cards."
    cards = settle([("f.total", 52, {}), ("f.favourable", 4, {})], deck, deck)
    assert cards["f.favourable"][0] == "unknown"
    days = "Weather in Paris for 3 days"
    assert settle([("f.city", "Paris", {}), ("f.days", 4, {})], days, days)["f.days"][0] == "missing"
    assert settle([("f.city", "Tokyo", {})], query)["f.city"][0] == "missing"  # no request: strict


def test_offers_of_another_kind_or_script_do_not_compete():
    query = "我需要为John Doe生成一张发票。他购买了2个苹果"
    found = settle([("f.name", "约翰·多伊", {}), ("f.qty", 2, {})], query, query)
    assert found["f.name"][0] == "unknown"  # a Latin name left over may be its translation
    order = "Start a return for order 12344, it is damaged"
    assert settle([("f.order", "Xanadu", {})], order, order)["f.order"][0] == "missing"  # an id in digits
    tools = [{"name": "walmart.vegan_products", "description": "Vegan products at Walmart", "parameters": {}}]
    store = "Get me a list of vegetarian foods at the Walmart near Denver."
    assert settle([("f.city", "Denver", {}), ("f.kind", "vegan", {})], store, store, tools)["f.kind"][0] == "unknown"


def test_parallel_calls_share_what_the_request_says_once():
    query = "Find flights from Madrid, Tokyo and Seattle to Cairo on 2026-08-29 returning on 2026-09-04"
    items = [(f"f#{i}.{key}", value, {}) for i, origin in enumerate(["Madrid", "Tokyo", "Seattle"], 1)
             for key, value in (("origin", origin), ("back", "1999-12-31" if i == 2 else "2026-09-04"))]
    found = settle(items, query, query)
    assert found["f#2.back"][0] == "missing" and "the other calls take '2026-09-04'" in found["f#2.back"][1]


def test_naming_one_allowed_value_is_no_case_against_another_in_the_same_list():
    query = "Get me the directions from New York to Los Angeles avoiding highways and toll roads."
    schema = {"enum": ["highways", "tolls", "ferries"]}
    items = [("f.avoid[0]", "highways", schema), ("f.avoid[1]", "tolls", schema)]
    assert {f for f, _ in settle(items, query, query).values()} == {"found"}
    other = [("f.avoid[0]", "ferries", schema)]
    assert settle(other, query, query)["f.avoid[0]"][0] == "missing"


def test_offers_of_real_requests():
    found = {(o.kind, o.text) for o in offers(
        "Help me restart celery-worker on ci-runner-2 at 10am. Order ORD-51877 for Shohei Ohtani's team in "
        "Portland, Oregon, accelerating at 9.8 m/s^2 on a 2x2 grid; use 'sort_list'.")}
    assert {("string", "ci-runner-2"), ("string", "ORD-51877"), ("string", "Shohei Ohtani"), ("string", "Oregon"),
            ("string", "sort_list"), ("number", "9.8 m")} <= found and any(kind == "time" for kind, _ in found)
    # no units, exponents, dimensions, numbers inside codes, nor a sentence's first word
    assert not {text for _, text in found} & {"m/s^2", "2", "51877", "Help"}


def test_a_quoted_tool_name_is_no_value_left_over():
    query = "Use the 'sort_list' function to sort the list in the order I like."
    alone = settle([("f.order", "Xanadu", {})], query, query)
    assert alone["f.order"][0] == "missing" and "'sort_list' is used nowhere" in alone["f.order"][1]
    tools = [{"name": "utils.sort_list", "description": "Sort a list.", "parameters": {}}]
    assert settle([("f.order", "Xanadu", {})], query, query, tools)["f.order"][0] == "unknown"
