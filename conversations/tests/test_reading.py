"""Reading a question and a document: sentences and list items (units_of), the kind of answer asked for,
how much each word weighs, and the units an answer is made of."""

import pytest

from conversations.assistant.engine import grounding
from conversations.assistant.engine import question as reading_question
from conversations.assistant.engine import units as reading
from conversations.tests.grounding_support import CEILING, IDF, find, passage
from knowledge.ranking import tokenize

HALVORSEN, BRIGHTWATER, LARKSPUR, GLOSSARY, FREE_FLOAT = 1, 2, 3, 4, 5

# --- units_of -----------------------------------------------------------------------------------------------


def test_units_of_splits_a_paragraph_into_sentences():
    units = reading.units_of([passage("Refunds take five days. They go back to the card! Why? Ask us.")])
    assert [u.text for u in units] == ["Refunds take five days.", "They go back to the card!", "Why?",
                                       "Ask us."]
    assert [u.position for u in units] == [0, 1, 2, 3]
    assert not any(u.bullet for u in units)


def test_units_of_does_not_split_after_an_abbreviation():
    units = reading.units_of([passage("Trading closes at 4:00 p.m. Eastern time. Halvorsen Foods Inc. pays "
                                        "twice a year.")])
    assert [u.text for u in units] == ["Trading closes at 4:00 p.m. Eastern time.",
                                       "Halvorsen Foods Inc. pays twice a year."]


def test_units_of_keeps_a_bullet_with_its_indented_continuation_as_one_unit():
    text = ("Order types:\n"
            "• Limit order: an order to buy or sell\n"
            "  at a set price or better. It may never fill.\n"
            "- Market order: filled at once.\n"
            "Both are common.")
    units = reading.units_of([passage(text)])
    assert [(u.text, u.bullet) for u in units] == [
        ("Order types:", False),
        ("Limit order: an order to buy or sell at a set price or better. It may never fill.", True),
        ("Market order: filled at once.", True),
        ("Both are common.", False),
    ]


def test_units_of_numbers_units_across_passages_and_keeps_their_headings():
    units = reading.units_of([passage("First part here.", 1, "One"),
                                passage("Second part here. Third part here.", 2, "Two")])
    assert [(u.position, u.passage, u.heading) for u in units] == [(0, 1, "One"), (1, 2, "Two"),
                                                                   (2, 2, "Two")]


def test_units_of_separates_paragraphs_and_drops_fragments():
    units = reading.units_of([passage("Refunds take five days.\n\nOk\n\nFees are waived for members.")])
    assert [u.text for u in units] == ["Refunds take five days.", "Fees are waived for members."]


# --- question_kind ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "kind"), [
    ("When is the dividend paid?", "when"),
    ("What date is the final dividend paid?", "when"),
    ("How often are dividends paid?", "when"),
    ("How long does a refund take?", "duration"),
    ("How many days until my refund arrives?", "duration"),
    ("How much is the restocking fee?", "amount"),
    ("What percentage of profit is paid out?", "amount"),
    ("Who approves the dividend?", "who"),
    ("Which committee sets the dividend?", "who"),
    ("What is free float?", "define"),
    ("What does EBITDA stand for?", "define"),
    ("Explain free float", "define"),
    ("Can I return worn shoes?", "other"),
    ("what's the least i can put into a t-bill?", "amount"),
    ("whats the most i can put into the share plan every month", "amount"),
    ("what's the most common mistake?", "define"),
])
def test_question_kind_names_the_kind_of_answer_asked_for(question, kind):
    assert reading_question.question_kind(question) == kind


# --- weights ------------------------------------------------------------------------------------------------


def test_a_letter_of_a_compound_weighs_little_on_its_own():
    idf = {"t": 3.8, "bill": 3.3, "minimum": 3.4}
    weights = reading_question.question_weights("what's the minimum for a t-bill?", idf, set(), ceiling=6.0)
    assert weights["t"] < 0.3 * weights["bill"]


def test_english_rarity_gives_everyday_words_less_weight_than_rare_ones_and_names():
    rarity = reading_question.english_rarity("How much do I need to put into Halvorsen's buyback in 2024")
    assert rarity["much"] < 0.5
    assert rarity["need"] < 0.5
    assert rarity["much"] < rarity["buyback"]
    assert rarity["halvorsen"] == 1.0
    assert rarity["2024"] == 0.3


def test_question_weights_discount_everyday_words_the_knowledge_base_holds():
    idf = {"much": 2.0, "need": 2.0, "buyback": 2.0}
    weights = reading_question.question_weights("How much do I need for a buyback", idf, set(), 2.0)
    assert weights["much"] < weights["buyback"]
    assert weights["need"] < weights["buyback"]


def test_question_weights_give_an_unseen_name_full_weight_and_an_unseen_word_less():
    question = "How much does Pinecrest pay in frumpage"
    weights = reading_question.question_weights(question, {"pay": 0.5}, reading_question.names_in(question), CEILING)
    (frumpage,) = tokenize("frumpage")
    assert weights["pinecrest"] == pytest.approx(CEILING)
    assert weights[frumpage] < weights["pinecrest"]  # an unseen lower-case word: maybe a typo
    assert weights["much"] < weights[frumpage]
    assert weights["pinecrest"] > weights["pay"]


def test_question_weights_leave_out_words_that_only_frame_the_question():
    question = "Hey, I was actually wondering what free float is"
    weights = reading_question.question_weights(question, IDF, set(), CEILING)
    assert set(weights) == {"free", "float"}


def test_names_in_takes_capitalised_words_inside_the_question_only():
    assert reading_question.names_in("When does Pinecrest Mining pay?") == {"pinecrest", "mine"}
    assert reading_question.names_in("Dividends: when are they paid?") == set()


# --- answer_units -------------------------------------------------------------------------------------------


def test_answer_units_add_the_sentence_before_one_that_starts_with_it():
    evidence = find("Does Halvorsen ever lower its payout?")
    texts = [u.text for u in evidence.chosen]
    assert texts == ["The company aims to pay out 45% of its net profit.",
                     "It will lower the payout when profit falls by more than a third."]


def test_answer_units_add_the_sentence_before_one_that_starts_with_this():
    text = ("Halvorsen Foods buys back shares every spring. Shareholders approve buybacks in March. "
            "This keeps the share count from growing too quickly.")
    units = reading.units_of([passage(text)])
    for unit in units:
        unit.score = 1.0 if unit.text.startswith("This") else 0.1
    assert [u.text for u in grounding.answer_units(
        grounding.Candidate({}, units, 1.0, 1.0, 1.0, []))] == [
        "Shareholders approve buybacks in March.", "This keeps the share count from growing too quickly."]


def test_answer_units_do_not_add_the_sentence_before_a_self_contained_one():
    units = reading.units_of([passage("Halvorsen Foods buys back shares every spring. Shareholders approve "
                                        "buybacks at the annual meeting held in March.")])
    units[0].score, units[1].score = 0.1, 1.0
    chosen = grounding.answer_units(grounding.Candidate({}, units, 1.0, 1.0, 1.0, []))
    assert [u.position for u in chosen] == [1]


def test_a_list_introduced_by_the_best_sentence_answers_with_the_item_the_question_names():
    units = reading.units_of([passage("Nightly room caps, before taxes:\n- $210 in most cities;\n"
                                        "- $320 in high-cost cities: New York, London and Tokyo;\n"
                                        "- €180 in the euro area.")])
    units[0].score, units[0].matched = 1.0, ("night", "cap")
    units[2].score, units[2].matched = 0.3, ("london",)
    chosen = grounding.answer_units(grounding.Candidate({}, units, 1.0, 1.0, 1.0, []))
    assert [u.text for u in chosen] == ["Nightly room caps, before taxes:",
                                        "$320 in high-cost cities: New York, London and Tokyo;"]
    units[2].matched = ()  # no item names anything more: the first item follows the lead-in, as before
    chosen = grounding.answer_units(grounding.Candidate({}, units, 1.0, 1.0, 1.0, []))
    assert [u.text for u in chosen] == ["Nightly room caps, before taxes:", "$210 in most cities;"]


# --- units_markdown -----------------------------------------------------------------------------------------


def test_units_markdown_renders_bullets_as_a_list_after_a_blank_line():
    text = "Order types:\n• Limit order: at a set price.\n• Market order: at once.\nBoth are common."
    units = reading.units_of([passage(text)])
    assert reading.units_markdown(units) == ("Order types:\n"
                                               "\n"
                                               "- Limit order: at a set price.\n"
                                               "- Market order: at once.\n"
                                               "\n"
                                               "Both are common.")


def test_units_markdown_joins_sentences_into_one_paragraph():
    units = reading.units_of([passage("Refunds take five days. They go back to the card.")])
    assert reading.units_markdown(units) == "Refunds take five days. They go back to the card."
