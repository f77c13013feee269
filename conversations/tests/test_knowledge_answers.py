"""The assistant answers from what the knowledge base holds, through POST /api/chat: a company's policy asked in
everyday words, follow-ups that keep the document, both market data and a definition in one answer, a plain
"I don't know" that offers the closest documents, and never an "unknown ticker" reply for an ordinary word."""

import re

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

HARROWGATE = b"""# Harrowgate Mills: dividend policy

Harrowgate Mills is a maker of woollen cloth. This page sets out how it pays dividends to shareholders.

## How much

The board aims to pay out about 40% of each year's net profit as dividends, and has not cut the dividend since
2009.

## When it is paid

The dividend is paid twice a year, on 15 April and 15 October, to shareholders on the register three weeks
before each payment date.

## Special dividends

When cash exceeds twice the next year's planned investment, the board may declare a special dividend.
"""

APPLE_CAFE = b"""# Apple: employee cafeteria rules

Apple's staff cafeteria at the Cupertino campus opens at 7:30 a.m. and closes at 3 p.m. on working days.
Meals are subsidised by 60% for employees.
"""

PELLOW = b"""# Pellow Outfitters: returns and refunds

Pellow Outfitters sells hiking gear online and in 14 shops.

## Refund window

Unworn items can be returned within 45 days of delivery for a full refund to the original card. Refunds reach
the card within 5 business days of the parcel arriving at the warehouse.
"""


@pytest.fixture
def documents(aws, knowledge_base):
    from knowledge.services import document_index_bytes

    for name, data in (("harrowgate-dividend-policy.md", HARROWGATE), ("pellow-refunds.md", PELLOW),
                       ("apple-cafeteria.md", APPLE_CAFE)):
        document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}{name}", data=data)


def _ask(client, message, conversation_id=None):
    body = {"message": message} | ({"conversation_id": conversation_id} if conversation_id else {})
    response = client.post("/api/chat", body, content_type="application/json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _cited(result) -> list[str]:
    return [s["title"] for s in result["sources"] if s["kind"] == "knowledge"]


@pytest.mark.parametrize("question", [
    "What is Harrowgate's dividend policy?",
    "What is Harrowgate Mills’ dividend policy?",
    "how much of its profit does harrowgate pay out?",
    "Has Harrowgate ever cut its dividend?",
])
def test_a_companys_policy_is_answered_from_its_document(documents, client, user, question):
    client.force_login(user)
    result = _ask(client, question)
    assert _cited(result) == ["Harrowgate Mills: dividend policy"]
    assert "40%" in result["reply"] or "2009" in result["reply"]
    assert "stock listing" not in result["reply"] and "market data" not in result["reply"]


def test_the_sentence_that_answers_is_quoted_not_the_whole_document(documents, client, user):
    client.force_login(user)
    result = _ask(client, "When does Harrowgate pay its dividend?")
    assert "15 April and 15 October" in result["reply"]
    assert "woollen cloth" not in result["reply"] and "special dividend" not in result["reply"]


def test_the_citation_links_to_a_page_that_shows_the_passage(documents, client, user):
    client.force_login(user)
    result = _ask(client, "When does Harrowgate pay its dividend?")
    source = next(s for s in result["sources"] if s["kind"] == "knowledge")
    assert re.fullmatch(r"/knowledge/\d+/#passage-\d+", source["url"])
    assert f"]({source['url']})" in result["reply"]
    assert f'href="{source["url"]}"' in result["reply_html"]
    page = client.get(source["url"].split("#")[0])
    anchor = source["url"].split("#")[1]
    assert page.status_code == 200 and f'id="{anchor}"' in page.content.decode()
    assert "15 April and 15 October" in page.content.decode()


def test_a_follow_up_keeps_the_document(documents, client, user):
    client.force_login(user)
    first = _ask(client, "What is Harrowgate's dividend policy?")
    follow = _ask(client, "and when is it paid?", first["conversation_id"])
    assert _cited(follow) == ["Harrowgate Mills: dividend policy"]
    assert "15 April" in follow["reply"]


def test_a_company_no_document_mentions_is_declined_with_the_closest_documents(documents, client, user):
    client.force_login(user)
    result = _ask(client, "What is Zyphrax's dividend policy?")
    assert "couldn't find an answer" in result["reply"] and "Zyphrax" in result["reply"]
    assert "Harrowgate Mills: dividend policy" in result["reply"]  # offered, as the closest
    assert _cited(result) == [] and "couldn't find a stock listing" not in result["reply"]


@pytest.mark.parametrize("question, words", [
    ("I bought some crude last week, was that cheaper than waiting?", ["bought", "crude", "cheaper"]),
    ("can I get a refund if I rest the boots first?", ["rest"]),
    ("What's the price of crude?", ["crude"]),
    ("has a can of coke gone up in price since the 90s?", ["coke"]),  # counted: the drink, not KO
    ("what did two bags of doritos cost last year?", ["doritos"]),
])
def test_ordinary_words_are_never_called_tickers(documents, client, user, question, words):
    client.force_login(user)
    result = _ask(client, question)
    assert "couldn't find a stock listing" not in result["reply"]
    assert not any(f"“{w}”" in result["reply"] or f"“{w.upper()}”" in result["reply"] for w in words)
    market = [c for c in result["tool_calls"] if c["name"] != "search_knowledge"]
    assert market == [], market


def test_a_word_written_like_a_ticker_gets_the_unknown_symbol_reply(documents, client, user):
    client.force_login(user)
    result = _ask(client, "What is the price of ZQXW?")
    assert "couldn't find a stock listing for “ZQXW”" in result["reply"]


def test_market_data_and_a_definition_in_one_answer(documents, client, user):
    client.force_login(user)
    result = _ask(client, "What is AAPL's dividend yield and what does dividend yield mean?")
    names = [c["name"] for c in result["tool_calls"]]
    assert "get_company_profile" in names and "search_knowledge" in names
    assert _cited(result) == ["Dividend yield"] and "AAPL" in result["reply"]
    assert "relative to its price" in result["reply"]


def test_a_refund_question_goes_to_the_other_company(documents, client, user):
    client.force_login(user)
    result = _ask(client, "how long do I have to send back stuff I bought from pellow?")
    assert _cited(result) == ["Pellow Outfitters: returns and refunds"] and "45 days" in result["reply"]


@pytest.mark.parametrize("question, pattern", [
    ("Is AMZN more volatile than WMT?",
     r"^\*\*(Yes|No)\.\*\* .*annualised volatility was [\d.]+% for AMZN against [\d.]+% for WMT"),
    ("Which is more volatile, TSLA or KO?", r"^\*\*(TSLA|KO)\*\* is the more volatile"),
    ("Did AAPL beat MSFT over the last year?",
     r"^\*\*(Yes|No)\.\*\* Over the last year, the return was [−+]?[\d.]+% for AAPL"),
    ("Is Apple bigger than Microsoft?", r"^\*\*(Yes|No)\.\*\* The market capitalisation is \$[\d.]+ trillion for AAPL"),
])
def test_comparative_questions_get_a_direct_answer_with_the_figures(documents, client, user, question, pattern):
    client.force_login(user)
    result = _ask(client, question)
    assert re.search(pattern, result["reply"]), result["reply"][:300]


def test_a_listed_company_with_a_document_about_it_gets_both(documents, client, user):
    client.force_login(user)
    result = _ask(client, "When does Apple's cafeteria open?")
    assert _cited(result) == ["Apple: employee cafeteria rules"] and "7:30 a.m." in result["reply"]


REIT = b"""# Real estate investment trusts (REITs)

A real estate investment trust (REIT) is a company that owns income-producing property such as offices,
apartments and warehouses, and whose shares trade like any other stock.

## Paying out income

A REIT must pay out at least 90% of its taxable income as dividends each year, which is why REIT yields are high.

## Measuring profit

Net income understates a REIT's cash earnings because depreciation of buildings is a large non-cash charge.
Analysts use funds from operations (FFO) instead: net income plus depreciation, minus gains on property sales.
"""


def _index(name: str, data: bytes) -> None:
    from knowledge.services import document_index_bytes

    document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}{name}", data=data)


@pytest.fixture
def reit(aws, knowledge_base):
    _index("reit.md", REIT)


def test_a_match_below_the_bar_is_offered_as_the_closest_passage_and_cited(reit, client, user, settings):
    settings.KNOWLEDGE_EMBEDDINGS = "off"  # on its words alone, "landlord companies" is not clearly a REIT
    client.force_login(user)
    result = _ask(client, "how much of their income do landlord companies have to hand out?")
    assert result["reply"].startswith("I'm not sure the knowledge base answers exactly that."), result["reply"]
    assert _cited(result) == ["Real estate investment trusts (REITs)"]
    assert "at least 90% of its taxable income" in result["reply"]
    assert result["sources"][0]["url"] in result["reply"]


def test_the_same_question_read_for_its_meaning_is_answered_without_a_hedge(reit, client, user):
    client.force_login(user)
    result = _ask(client, "how much of their income do landlord companies have to hand out?")
    assert not result["reply"].startswith("I'm not sure"), result["reply"]
    assert _cited(result) == ["Real estate investment trusts (REITs)"]
    assert "at least 90% of its taxable income" in result["reply"]


def test_a_question_the_document_answers_plainly_gets_no_hedge(reit, client, user):
    client.force_login(user)
    result = _ask(client, "what number should i watch instead of profit for a property trust?")
    assert _cited(result) == ["Real estate investment trusts (REITs)"]
    assert "funds from operations (FFO)" in result["reply"] and "not sure" not in result["reply"]


def test_everyday_words_alone_get_no_passage(reit, client, user):
    client.force_login(user)
    result = _ask(client, "is now a good time to start?")
    assert _cited(result) == []


def test_a_misspelt_name_is_read_as_the_documents_and_says_so(documents, client, user):
    client.force_login(user)
    result = _ask(client, "when does harowgate pay its dividend?")
    assert _cited(result) == ["Harrowgate Mills: dividend policy"]
    assert "15 April and 15 October" in result["reply"]
    assert result["reply"].startswith("_Reading “harowgate” as “harrowgate”._")


def test_a_name_far_from_every_word_is_not_respelt(documents, client, user):
    client.force_login(user)
    result = _ask(client, "What is Zyphrax's dividend policy?")
    assert "Reading" not in result["reply"] and "Zyphrax" in result["reply"]


def test_a_word_written_like_a_ticker_that_only_starts_a_company_name_is_no_ticker(documents, client, user):
    client.force_login(user)
    result = _ask(client, "What is the price of GOLD?")
    assert "Goldman" not in result["reply"] and "GS" not in result["reply"]
    assert all(c["arguments"].get("symbol") != "GS" for c in result["tool_calls"])
    assert _ask(client, "What is the price of $AAPL?")["tool_calls"][0]["arguments"]["symbol"] == "AAPL"


WENDLEBURY = b"""# Wendlebury Cycles: returns policy

Wendlebury Cycles is a small bicycle maker based in Oxfordshire. This page sets out how customers can return a
bike, what it costs, and how long the frame warranty lasts.

## Return window

You can return any bike bought from Wendlebury Cycles within 60 days of delivery. The bike must be in resaleable
condition, with its original accessories. Contact the support team to get a returns label before you send the
bike back.

## Restocking fee

Standard bikes are returned free of charge. Electric bikes (e-bikes) carry a $15 restocking fee, because the
battery has to be inspected and recharged before the bike can be resold.

## Refunds

Once the returned bike reaches our workshop and passes inspection, we refund the original payment method within
7 business days.
"""


@pytest.fixture
def wendlebury(aws, knowledge_base):
    _index("wendlebury-returns.md", WENDLEBURY)


def test_the_browser_checks_questions_get_the_sentences_that_answer(wendlebury, client, user):
    """From the browser check: a separated phrasal verb ("send a bike back") and a follow-up that reads on."""
    client.force_login(user)
    first = _ask(client, "how long do i have to send a bike back to wendlebury?")
    assert "60 days" in first["reply"], first["reply"]
    fee = _ask(client, "is there a fee for returning an e-bike?", first["conversation_id"])
    assert "$15" in fee["reply"]
    money = _ask(client, "and when do i get my money?", first["conversation_id"])
    assert "7 business days" in money["reply"], money["reply"]
    assert _cited(money) == ["Wendlebury Cycles: returns policy"]


def test_a_question_whose_subject_no_document_holds_is_not_answered_with_confidence(documents, client, user):
    """From the browser check: "crude" is in no document, so a passage that shares "bought" and "cheaper" is at
    most offered as the closest one, with a hedge."""
    client.force_login(user)
    reply = _ask(client, "I bought some crude last week, was that cheaper than waiting?")["reply"]
    assert "Short selling" not in reply or reply.startswith("I'm not sure"), reply


TREASURY_BILLS = b"""# Treasury bills

Treasury bills (T-bills) are short-term debt of the US government, sold at a discount to their face value and
repaid in full at maturity, after 4 to 52 weeks.

## Tax

Interest on T-bills is subject to federal income tax but exempt from state and local income tax, which makes
them attractive to savers in high-tax states.
"""


def test_a_question_in_other_words_than_the_documents_is_answered_from_the_one_that_means_it(
        documents, client, user):
    from knowledge.services import document_index_bytes

    document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}treasury-bills.md", data=TREASURY_BILLS)
    client.force_login(user)
    result = _ask(client, "do i pay less tax on short government debt than on my savings account?")
    assert _cited(result) == ["Treasury bills"], result["reply"]
    assert not result["reply"].startswith(("I'm not sure", "I couldn't")), result["reply"]


def test_a_counted_thing_is_not_a_listing_but_a_companys_shares_are():
    from conversations.assistant.engine.entities import Entity
    from conversations.assistant.engine.routing import everyday_things

    def things(text, word, symbol):
        start = text.index(word)
        return everyday_things(text, [Entity(symbol, word, start)])

    assert things("has a can of coke gone up in price?", "coke", "KO")
    assert things("is an apple a day enough?", "apple", "AAPL")
    assert not things("what did coke close at?", "coke", "KO")
    assert not things("should I buy a few apple shares?", "apple", "AAPL")  # "shares": the listing
    assert not things("is a Coke share worth buying?", "Coke", "KO")  # capitalised inside a sentence
