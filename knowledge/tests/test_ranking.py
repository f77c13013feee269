"""Pure tests of tokenising and BM25 ranking, and retrieval quality over the starter knowledge base."""

from pathlib import Path

from django.conf import settings

from knowledge.parsing import parse_document, split_passages
from knowledge.ranking import BM25Index, Entry, passage_terms, query_terms, snippet, tokenize


def index_of(docs: dict[str, str]) -> BM25Index:
    entries = []
    for name, text in docs.items():
        parsed = parse_document(name, text.encode(), max_bytes=10**7)
        for i, p in enumerate(split_passages(parsed)):
            entries.append(Entry(ref=i, doc=name, terms=passage_terms(title=parsed.title, heading=p.heading,
                                                                       text=p.text)))
    return BM25Index(entries)


def test_tokens_are_stemmed_without_stop_words():
    assert tokenize("The ratios were computed") == ["ratio", "comput"]


def test_ratio_abbreviations_match_their_spelled_out_form():
    assert "pe" in tokenize("P/E") and "earn" in tokenize("P/E")
    assert {"valu", "risk"} <= set(tokenize("VaR"))


def test_synonyms_weigh_less_than_the_question_words():
    terms = query_terms("cheap stock")
    assert terms["cheap"] == 1.0 and 0 < terms["undervalu"] < 1


def test_bm25_prefers_the_passage_about_the_query():
    index = index_of({
        "a.md": "# Beta\n\nBeta measures sensitivity to the market index.",
        "b.md": "# Dividends\n\nDividends are cash paid to shareholders.",
    })
    assert next(e.doc for e, _ in index.search("market sensitivity")) == "a.md"
    assert index.search("zebra") == []


def test_one_passage_per_document_by_default():
    index = index_of({"a.md": "# A\n\n" + "\n\n".join(["risk " * 170] * 3), "b.md": "# B\n\nrisk once"})
    docs = [e.doc for e, _ in index.search("risk", limit=5)]
    assert docs == ["a.md", "b.md"]
    assert len(index.search("risk", limit=5, per_document=3)) == 4


def test_snippet_centres_on_the_query_terms():
    text = " ".join(["filler"] * 200 + ["drawdown", "peak", "trough"] + ["filler"] * 200)
    cut = snippet(text, "peak to trough drawdown", width=120)
    assert "drawdown" in cut and len(cut) <= 130 and cut.startswith("…")


QUESTIONS = [  # phrased differently from the documents' text
    ("How much could my portfolio lose on a bad day with 95% confidence?", "value-at-risk.md"),
    ("average loss on the worst days beyond the threshold", "expected-shortfall.md"),
    ("How jumpy is a stock's price from day to day?", "volatility.md"),
    ("return per unit of risk taken compared with treasury bills", "sharpe-ratio.md"),
    ("a ratio that only punishes falls below a target", "sortino-ratio.md"),
    ("biggest peak to trough fall", "maximum-drawdown.md"),
    ("how much does a stock move when the S&P 500 moves", "beta.md"),
    ("what do the bid and ask numbers on a quote page mean", "reading-a-stock-quote.md"),
    ("is a company cheap relative to its profits", "price-to-earnings-ratio.md"),
    ("market value compared to net assets on the balance sheet", "price-to-book-ratio.md"),
    ("valuation multiple that includes debt for takeovers", "ev-to-ebitda.md"),
    ("how much cash income do I get from owning shares", "dividend-yield.md"),
    ("why should I not put all my money in one stock", "diversification-and-correlation.md"),
    ("difference between stop loss and limit orders", "order-types.md"),
    ("why is ln of price ratio used instead of percentage change", "simple-and-log-returns.md"),
    ("how concentrated is my portfolio in a few positions", "herfindahl-concentration.md"),
    ("how does the app calculate beta and sharpe", "how-stocktool-computes-analyses.md"),
    ("what is a basis point", "financial-terms-glossary.md"),
    ("which treasury yield should be used as the baseline return", "risk-free-rate.md"),
    ("when is an order to sell automatically triggered after a price drop", "order-types.md"),
]


def test_the_right_starter_document_is_in_the_top_3_for_9_questions_in_10():
    folder = Path(settings.KNOWLEDGE_DIR)
    index = index_of({p.name: p.read_text() for p in folder.glob("*.md")})
    hits = sum(want in [e.doc for e, _ in index.search(q, limit=3)] for q, want in QUESTIONS)
    assert hits >= 0.9 * len(QUESTIONS)


def test_the_starter_knowledge_base_is_substantial():
    docs = list(Path(settings.KNOWLEDGE_DIR).glob("*.md"))
    assert len(docs) >= 15
    assert all(len(p.read_text().split()) >= 300 for p in docs)


UNSEEN = [  # documents written apart from the ranking's tuning, among the starter ones as distractors
    ("how sensitive is a bond price to a change in rates", "bond-duration.md"),
    ("why do long zero coupon bonds swing so much when yields change", "bond-duration.md"),
    ("how much value does an option lose every day as it nears expiration", "options-greeks.md"),
    ("what does delta tell me about a call", "options-greeks.md"),
    ("why does money buy less over time", "inflation.md"),
    ("what happens if my leveraged account drops too far", "margin-trading.md"),
    ("borrowing from the broker to purchase more stock", "margin-trading.md"),
    ("difference between funds that trade all day and ones priced once a day", "etf-vs-mutual-fund.md"),
    ("why do companies repurchase their own stock", "stock-buybacks.md"),
    ("investing the same amount every month", "dollar-cost-averaging.md"),
    ("is it better to invest a lump sum or spread it out", "dollar-cost-averaging.md"),
    ("what does junk status mean for a company's debt", "credit-ratings.md"),
    ("who grades how likely a borrower is to default", "credit-ratings.md"),
    ("how are expense ratios different for index funds traded on exchanges", "etf-vs-mutual-fund.md"),
    ("does reducing the share count raise EPS", "stock-buybacks.md"),
    ("what protects savings from rising prices", "inflation.md"),
]


def test_unseen_documents_are_found_by_paraphrased_questions():
    folders = [Path(settings.KNOWLEDGE_DIR), Path(__file__).parent / "data" / "unseen"]
    index = index_of({p.name: p.read_text() for folder in folders for p in folder.glob("*.md")})
    hits = sum(want in [e.doc for e, _ in index.search(q, limit=3)] for q, want in UNSEEN)
    assert hits >= 0.9 * len(UNSEEN)


def test_stemming_is_safe_across_threads():
    # Each request runs on its own thread under ASGI; one shared snowball stemmer keeps the word being
    # stemmed in instance state (seen under load: IndexError in find_among_b, a failed knowledge search).
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from knowledge.ranking import stem

    words = [f"{w}{suffix}" for w in ("diversif", "volatil", "valuat", "generat", "national", "relat", "condition")
             for suffix in ("ications", "ization", "ational", "fulness", "iveness", "ements", "ingly", "ousness")]
    expected = {w: stem.__wrapped__(w) for w in words}
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a race shows within a few runs
    try:
        with ThreadPoolExecutor(8) as pool:
            for _ in range(40):
                assert list(pool.map(stem.__wrapped__, words * 5)) == [expected[w] for w in words * 5]
    finally:
        sys.setswitchinterval(interval)


def test_a_phrasal_verbs_own_words_map_to_its_reading():
    from knowledge.ranking import phrasal_readings

    readings = phrasal_readings("When was the curve last upside down? My fridge packed up.")
    assert readings["upsid"] == {"invert"}
    assert readings["pack"] == {"fail"}
    assert phrasal_readings("an upside surprise") == {}


def test_a_phrasal_verb_is_read_with_words_between_its_verb_and_particle():
    from knowledge.ranking import phrasal_readings

    assert "return" in tokenize("how long do i have to send a bike back?")
    assert phrasal_readings("can i cash it in early?")["cash"] == {"redeem", "sell"}
    assert "redeem" not in tokenize("how much cash in the bank is enough?")
    assert "return" not in tokenize("send me the report by the back door")  # more than three words apart
