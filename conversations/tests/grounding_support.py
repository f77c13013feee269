"""The grounding tests' corpus and helpers: a small knowledge base, and the ranking the engine is given."""


from conversations.assistant.engine import grounding
from conversations.assistant.engine import question as reading_question
from knowledge.ranking import BM25Index, passage_terms, tokenize

HALVORSEN, BRIGHTWATER, LARKSPUR, GLOSSARY, FREE_FLOAT = 1, 2, 3, 4, 5

CORPUS = [
    (HALVORSEN, "Halvorsen Foods: dividend policy", [
        ("Overview", "Halvorsen Foods pays a cash dividend to its shareholders. "
                     "The board reviews the dividend once a year."),
        ("Payment schedule", "The final dividend is proposed by the board after the year-end audit. "
                             "The final dividend is paid on 30 September. "
                             "Shareholders on the register ten business days before payment receive it."),
        ("Payout ratio", "The company aims to pay out 45% of its net profit. "
                         "It will lower the payout when profit falls by more than a third."),
    ]),
    (BRIGHTWATER, "Brightwater Telecom: dividend policy", [
        ("Overview", "Brightwater Telecom pays a quarterly dividend. "
                     "The dividend is set by the finance committee in January."),
        ("Payout ratio", "Brightwater Telecom pays out between 60% and 70% of free cash flow as dividends."),
    ]),
    (LARKSPUR, "Larkspur Outfitters: refund policy", [
        ("Returns", "Larkspur Outfitters refunds unworn items returned within 30 days of delivery. "
                    "Refunds go back to the original card."),
        ("Processing", "The refund is processed within 5 business days of the item reaching the warehouse. "
                       "A restocking fee applies to bulky items. "
                       "The restocking fee is $4 for each bulky item returned."),
    ]),
    (GLOSSARY, "Glossary of trading terms", [
        ("Orders", "• Limit order: an order to buy or sell at a set price or better.\n"
                   "• Stop order (stop-loss): an order that becomes a market order once the price\n"
                   "  reaches the stop price, used to cap a loss.\n"
                   "• Market order: an order filled at once at the best available price."),
    ]),
    (FREE_FLOAT, "Free float", [
        ("Definition", "Free float is the share of a company's stock that the public can trade. "
                       "It excludes shares held by insiders, governments and parent companies."),
        ("Why it matters", "Index providers weight companies by free float market value. "
                           "A small float can make a stock swing more."),
    ]),
]


def build(corpus):
    """(documents, idf, ceiling) as the chat engine hands them to evidence_find."""
    documents, entries = [], []
    for document_id, title, sections in corpus:
        document = {"document_id": document_id, "title": title, "key": f"kb/{document_id}.md",
                    "version_id": "v1", "url": f"/knowledge/{document_id}"}
        passages = [{"document_id": document_id, "passage": n, "heading": heading, "text": text,
                     "title": title, "key": document["key"], "version_id": "v1", "url": document["url"]}
                    for n, (heading, text) in enumerate(sections, start=1)]
        documents.append((document, passages))
        entries += [passage_terms(title=title, heading=p["heading"], text=p["text"]) for p in passages]
    frequency = {}
    for terms in entries:
        for term in terms:
            frequency[term] = frequency.get(term, 0) + 1
    idf = {term: BM25Index.idf(len(entries), df) for term, df in frequency.items()}
    return documents, idf, BM25Index.idf(len(entries), 1)


DOCUMENTS, IDF, CEILING = build(CORPUS)


def find(question, documents=None, idf=None, **kwargs):
    """evidence_find as the chat engine calls it: the question's terms weighted (0.0 if unseen), its names."""
    idf = IDF if idf is None else idf
    weights = {term: idf.get(term, 0.0) for term in tokenize(question)}
    return grounding.evidence_find(question, DOCUMENTS if documents is None else documents, weights,
                                   ceiling=CEILING, names=reading_question.names_in(question), **kwargs)


def ranked(*document_ids):
    """The corpus's documents in the order a search returned them."""
    by_id = {document["document_id"]: (document, passages) for document, passages in DOCUMENTS}
    return [by_id[i] for i in document_ids]


def passage(text, number=1, heading="Section"):
    return {"document_id": 9, "passage": number, "heading": heading, "text": text, "title": "Notes",
            "key": "kb/9.md", "version_id": "v1", "url": "/knowledge/9"}
