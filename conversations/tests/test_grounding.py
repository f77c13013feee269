"""Grounded answers from the knowledge base (engine/grounding.py), over a small made-up corpus: no database.

The corpus is invented for these tests (fictional companies, a glossary, a concept page); the term weights are
BM25's inverse document frequency over its passages, as the knowledge index computes them.
"""

import pytest

from conversations.assistant.engine import grounding
from conversations.assistant.engine import question as reading_question
from conversations.assistant.engine import units as reading
from conversations.tests.grounding_support import CORPUS, build, find, ranked

HALVORSEN, BRIGHTWATER, LARKSPUR, GLOSSARY, FREE_FLOAT = 1, 2, 3, 4, 5

# --- choosing the document ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "search_order", "expected"), [
    ("When does Brightwater pay its dividend?", (HALVORSEN, BRIGHTWATER), BRIGHTWATER),
    ("When does Halvorsen pay its dividend?", (BRIGHTWATER, HALVORSEN), HALVORSEN),
])
def test_it_picks_the_document_of_the_company_the_question_names(question, search_order, expected):
    evidence = find(question, ranked(*search_order))
    assert evidence.best.document["document_id"] == expected
    assert evidence.confident
    assert all(u.document_id == expected for u in evidence.chosen)


def test_it_is_not_confident_when_no_document_mentions_the_company_named():
    evidence = find("What is Pinecrest's dividend payout ratio?")
    assert evidence.names_missing == ["pinecrest"]
    assert not evidence.confident


def test_it_still_offers_the_closest_documents_when_the_company_named_is_missing():
    evidence = find("What is Pinecrest's dividend payout ratio?")
    assert {d["document_id"] for d in evidence.closest} == {HALVORSEN, BRIGHTWATER}


def test_it_is_confident_about_the_same_question_for_a_company_it_knows():
    evidence = find("What is Halvorsen's dividend payout ratio?")
    assert evidence.names_missing == []
    assert evidence.confident
    assert evidence.best.document["document_id"] == HALVORSEN


# --- choosing the sentences ---------------------------------------------------------------------------------


def test_it_prefers_the_sentence_with_a_date_when_asked_when():
    evidence = find("When is Halvorsen's final dividend?")
    assert evidence.kind == "when"
    assert evidence.chosen[0].text == "The final dividend is paid on 30 September."


def test_without_when_the_first_sentence_on_the_subject_answers():
    evidence = find("Tell me about Halvorsen's final dividend")
    assert evidence.chosen[0].text == "The final dividend is proposed by the board after the year-end audit."


def test_it_prefers_the_sentence_with_a_figure_when_asked_how_much():
    evidence = find("How much is the Larkspur restocking fee?")
    assert evidence.kind == "amount"
    assert [u.text for u in evidence.chosen] == ["The restocking fee is $4 for each bulky item returned."]


def test_it_finds_the_percentage_asked_for():
    evidence = find("What percentage of profit does Halvorsen pay out?")
    assert evidence.chosen[0].text == "The company aims to pay out 45% of its net profit."


def test_it_prefers_the_sentence_with_a_span_when_asked_how_long():
    evidence = find("How long does Larkspur take to process a refund?")
    assert evidence.best.document["document_id"] == LARKSPUR
    assert "within 5 business days" in reading.units_markdown(evidence.chosen)


def test_what_is_x_picks_the_opening_of_the_document_titled_x():
    evidence = find("What is free float?")
    assert evidence.best.document["document_id"] == FREE_FLOAT
    assert evidence.chosen[0].position == 0
    assert evidence.chosen[0].text.startswith("Free float is the share")
    assert not evidence.overview
    assert evidence.confident and evidence.specific


def test_what_is_x_picks_the_glossary_entry_when_no_document_is_titled_x():
    evidence = find("What is a stop order?")
    assert evidence.best.document["document_id"] == GLOSSARY
    assert evidence.chosen[0].bullet
    assert evidence.chosen[0].text.startswith("Stop order (stop-loss): an order that becomes a market order")
    assert evidence.confident


# --- follow-ups ---------------------------------------------------------------------------------------------


def test_a_follow_up_keeps_the_earlier_document_over_a_better_match():
    question = "And what share of free cash flow?"
    assert find(question).best.document["document_id"] == BRIGHTWATER  # on its own, another document matches
    evidence = find(question, follow_up=True, context_documents={HALVORSEN})
    assert evidence.follow_up
    assert evidence.best.document["document_id"] == HALVORSEN
    assert all(u.document_id == HALVORSEN for u in evidence.chosen)


def test_a_follow_up_moves_on_when_it_names_another_documents_subject():
    evidence = find("And what about Brightwater Telecom's dividend policy?", follow_up=True,
                    context_documents={HALVORSEN})
    assert not evidence.follow_up
    assert evidence.best.document["document_id"] == BRIGHTWATER


# --- Evidence.specific --------------------------------------------------------------------------------------


def test_evidence_is_not_specific_when_only_the_titles_words_match():
    evidence = find("Does Larkspur Outfitters offer gift wrapping?")
    assert evidence.best.document["document_id"] == LARKSPUR
    assert not evidence.specific


def test_evidence_is_specific_when_a_sentence_answers_beyond_the_title():
    evidence = find("How long does Larkspur take to process a refund?")
    assert evidence.specific


# --- bugs ---------------------------------------------------------------------------------------------------

QUILLON = (6, "Quillon Robotics: share buyback", [
    ("Buyback", "Quillon Robotics approved a share buyback in 2021. "
                "Shareholders may vote to extend the share buyback at a later meeting."),
])


def test_the_verb_may_is_not_taken_for_a_date_when_asked_when():
    documents, idf, _ = build(CORPUS + [QUILLON])
    evidence = find("When did Quillon start its buyback?", documents, idf)
    assert evidence.chosen[0].text == "Quillon Robotics approved a share buyback in 2021."


def test_what_is_x_picks_the_glossary_entry_labelled_x_over_one_that_mentions_x():
    evidence = find("What is a market order?")
    assert evidence.chosen[0].text.startswith("Market order:")


def test_a_glossary_answer_does_not_append_the_next_entry():
    evidence = find("What is a limit order?")
    assert [u.text for u in evidence.chosen] == [
        "Limit order: an order to buy or sell at a set price or better."]


def test_how_much_prefers_an_amount_over_a_day_of_the_month():
    interim = (7, "Tarrow Mills: dividend policy", [
        ("Payments", "Tarrow Mills pays its interim dividend on 15 March. "
                     "Tarrow Mills pays out 45% of its net profit as dividends."),
    ])
    documents, idf, _ = build(CORPUS + [interim])
    evidence = find("How much does Tarrow pay out?", documents, idf)
    assert evidence.chosen[0].text == "Tarrow Mills pays out 45% of its net profit as dividends."


# --- everyday words, names, vague follow-ups, tentative answers ---------------------------------------------

CURVE, OPTIONS, BILLS, HOURS = 11, 12, 13, 14
EXTRA = [
    (CURVE, "The yield curve", [
        ("Shapes", "A normal curve slopes upward: long bonds yield more than short ones. "
                   "An inverted curve slopes downward."),
        ("History", "The 10-year minus 2-year spread was inverted from July 2022 to August 2024."),
    ]),
    (OPTIONS, "Early exercise of options", [
        ("Who may exercise", "Holders of American-style options may exercise them early, at any time. "
                             "Holders often exercise deep in-the-money puts early to receive cash now."),
    ]),
    (BILLS, "Treasury bills", [
        ("Buying", "Individuals buy bills at auction through TreasuryDirect or a broker."),
        ("Selling early", "Bills held at TreasuryDirect must be moved to a broker before they can be sold."),
    ]),
    (HOURS, "Office hours", [
        ("Opening", "Our desk opens at 8 a.m., a good time for most callers, and starts taking calls at 9."),
    ]),
]
EXTRA_DOCUMENTS, EXTRA_IDF, _ = build(CORPUS + EXTRA)


def find_extra(question, **kwargs):
    return find(question, documents=EXTRA_DOCUMENTS, idf=EXTRA_IDF, **kwargs)


def test_a_phrasal_verbs_own_words_are_found_where_a_document_uses_its_reading():
    evidence = find_extra("when was the 10 year vs 2 year spread last upside down?")
    assert evidence.best.document["document_id"] == CURVE
    assert "upsid" not in evidence.best.missing  # "inverted" is what "upside down" means
    assert "July 2022" in " ".join(u.text for u in evidence.chosen)
    assert evidence.confident


def test_a_name_the_knowledge_base_knows_pins_the_question_to_the_documents_that_hold_it():
    question = "i got one through treasurydirect, can i cash it early if i need the money now?"
    evidence = find_extra(question)
    assert evidence.pinned
    assert evidence.best.document["document_id"] == BILLS
    # the same words without the name: the document about early cash matches better
    assert find_extra("can i get cash early if i need the money now?").best.document["document_id"] == OPTIONS


def test_a_vague_follow_up_answers_with_what_the_document_says_next():
    said = [u.position for u in find("How long do I have to return Larkspur items?").chosen]
    evidence = find("And what if I'm really late?", follow_up=True, context_documents={LARKSPUR}, said=said)
    assert evidence.follow_up and evidence.continued and evidence.confident
    assert evidence.best.document["document_id"] == LARKSPUR
    assert evidence.chosen and min(u.position for u in evidence.chosen) > max(said)


def test_a_follow_up_does_not_repeat_what_the_last_answer_said_when_another_sentence_fits():
    first = find("When is the Halvorsen final dividend paid?")
    said = [u.position for u in first.chosen]
    again = find("and who gets the final dividend?", follow_up=True, context_documents={HALVORSEN}, said=said)
    assert again.follow_up
    assert [u.position for u in again.chosen] != said


def test_a_loose_follow_up_stays_when_another_document_only_shares_an_everyday_word():
    evidence = find("will somebody get back to me?", follow_up="loose", context_documents={HALVORSEN},
                    loose=True)
    assert evidence.best.document["document_id"] == HALVORSEN


def test_everyday_words_alone_are_no_answer():
    evidence = find_extra("is now a good time to start?")
    assert not evidence.telling
    assert not evidence.confident and not evidence.tentative


def _evidence(*, coverage, best, lead, missing_names=(), rare=True):
    units = [reading.Unit(1, 1, 0, "h", "Some sentence that answers the question well.", score=best)]
    doc = {"document_id": 1, "title": "T", "key": "k", "version_id": "v", "url": "/u"}
    first = grounding.Candidate(doc, units, coverage, best, 0.5 + lead, [])
    second = grounding.Candidate(dict(doc, document_id=2), [], 0.1, 0.1, 0.5, [])
    return grounding.Evidence("q", candidates=[first, second], chosen=units, names_missing=list(missing_names),
                              matched_rare=rare)


def test_a_document_ahead_but_below_the_bar_is_offered_tentatively():
    assert _evidence(coverage=0.45, best=0.35, lead=0.06).tentative
    assert not _evidence(coverage=0.45, best=0.35, lead=0.06).confident
    assert not _evidence(coverage=0.45, best=0.35, lead=0.01).tentative  # no clear lead
    assert not _evidence(coverage=0.3, best=0.35, lead=0.06).tentative  # too little of the question
    assert not _evidence(coverage=0.45, best=0.35, lead=0.06, missing_names=["zorblat"]).tentative
    assert not _evidence(coverage=0.45, best=0.35, lead=0.06, rare=False).tentative
    assert not _evidence(coverage=0.7, best=0.5, lead=0.06).tentative  # confident: a plain answer


def test_misspelt_candidates_are_rare_or_unknown_words_and_respelling_keeps_capitals():
    assert reading_question.misspelt_candidates("Does Quorington keep my interent records? crude prefered") == [
        "interent", "prefered", "quorington"]
    assert reading_question.respell("Does Quorington keep it?", {"quorington": "quorrington"}) == \
        "Does Quorrington keep it?"
    assert reading_question.respell("no change here", {}) == "no change here"


def test_sentences_of_different_paragraphs_stay_apart_in_the_answer():
    units = reading.units_of([{"document_id": 1, "passage": 0, "heading": "H",
                                 "text": "N_eff = 1 ÷ HHI\n\nA portfolio of 25 equal holdings has N_eff 25. It is even."}])
    assert reading.units_markdown(units) == "N_eff = 1 ÷ HHI\n\nA portfolio of 25 equal holdings has N_eff 25. It is even."


def test_a_weighty_word_no_document_holds_keeps_an_answer_from_being_confident():
    plain = find_extra("is a restocking fee charged on bulky items?")
    assert plain.confident and not plain.key_unknown
    evidence = find_extra("is a restocking fee charged on crude for bulky items?")
    assert evidence.key_unknown and not evidence.confident


# --- what the question means (the embedding model's similarity, handed in by the caller) ----------------------

def test_the_document_closer_in_meaning_wins_when_the_words_do_not_decide():
    question = "When does the company pay its dividend?"  # both dividend policies share these words
    words_only = find(question, ranked(HALVORSEN, BRIGHTWATER))
    meaning = {HALVORSEN: (0.31, {1: 0.31}), BRIGHTWATER: (0.58, {1: 0.58, 2: 0.2})}
    with_meaning = find(question, ranked(HALVORSEN, BRIGHTWATER), meaning=meaning)
    assert words_only.best.document["document_id"] == HALVORSEN
    assert with_meaning.best.document["document_id"] == BRIGHTWATER
    assert with_meaning.best.meaning == 0.58 and with_meaning.meaning_lead == pytest.approx(0.27)


def test_a_passage_close_in_meaning_lifts_its_sentences():
    question = "How long until my money comes back?"
    plain = find(question, ranked(LARKSPUR))
    lifted = find(question, ranked(LARKSPUR), meaning={LARKSPUR: (0.6, {1: 0.1, 2: 0.6})})
    assert {u.passage for u in lifted.chosen} == {2}
    assert max(u.score for u in lifted.best.units if u.passage == 2) > \
        max(u.score for u in plain.best.units if u.passage == 2)


def test_leading_on_meaning_makes_an_answer_only_with_a_telling_word_in_common():
    meaning = {LARKSPUR: (0.62, {1: 0.62}), HALVORSEN: (0.2, {1: 0.2})}
    understood = find("can I send back a jacket I never wore and get my money?", ranked(LARKSPUR, HALVORSEN),
                      meaning=meaning)
    assert understood.understood and understood.confident
    everyday = find("is now a good time to start?", ranked(LARKSPUR, HALVORSEN), meaning=meaning)
    assert not everyday.understood and not everyday.confident
