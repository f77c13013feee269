"""Answers grounded in the knowledge base: the document that covers the question and the sentences that answer it.

Pure: the caller hands in the candidate documents (their passages, best BM25 match first) and how telling each
term is (its inverse document frequency). A question's terms are weighted by that, so a rare word ("Borealis",
"buyback") decides more than a common one ("stock"), and a name the knowledge base has never seen counts against
every document. A document answers when it covers most of that weight; within it, the sentences (or list items)
that cover most of it, helped by the kind of answer asked for (a date for "when", a figure for "how much"), are
the answer.
"""

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.ranking import phrasal_readings, query_terms, tokenize

from .question import FRAME, english_rarity, name_like, question_kind, question_weights, readings_cover
from .sentences import META as _META
from .sentences import answer_units, continuation, overview_units
from .units import DocumentView, Unit, document_view

CONFIDENT_COVERAGE = 0.6  # share of the question's weight that makes a document an answer on its own
MIN_COVERAGE = 0.4  # below this share, no document answers, however far ahead of the others
CLEAR_LEAD = 0.1  # or a document this far ahead of the runner-up (on the combined score)
TENTATIVE_LEAD = 0.04  # ahead by this much, a document below the bar is offered with its closest passage
TENTATIVE_UNIT = 0.3
EVERYDAY = 0.5  # english_rarity below which a word is among English's commonest (Zipf above 5.5)
CONFIDENT_UNIT = 0.25  # share the best sentence must contain (with its heading and title)
FOLLOW_UP_UNIT = 0.1
MOVE_ON = 2.5  # weight of telling words that another document holds and the conversation's lacks
SAID = 0.6  # a follow-up's score for a sentence the last answer quoted
ONWARD = 0.03  # a follow-up's bonus for a sentence after the ones the last answer quoted
FOLLOW_UP_BONUS = 0.15
TITLE_BONUS = 0.3
SUBJECT_COVERAGE = 0.2  # enough when the title names what the question names
RARE = 0.95  # english_rarity from which a word is a name or a term of art ("kestrelby", "reit")
RELATED_COVERAGE = 0.35  # below this, a document is not worth offering as "the closest"
# What the question means (the embedding model's cosine similarity, knowledge/embeddings.py) weighs beside the
# words it shares: "are government bills cheaper on tax than the bank?" shares no telling word with
# "T-bills are exempt from state and local income tax", yet means what it answers.
MEANING_WEIGHT = 2.0  # of a document's best passage's similarity, in its score
UNIT_MEANING = 0.5  # of a passage's similarity, in the score of each of its sentences
MEANING_SURE = 0.5  # similarity from which the document that leads on meaning can answer on its own...
MEANING_LEAD = 0.05  # ...when this far ahead of the next document on meaning


@dataclass
class Candidate:
    document: dict  # document_id, title, key, version_id, url
    units: list[Unit]
    coverage: float  # share of the question's weight found anywhere in the document
    best: float  # the best unit's score
    score: float
    missing: list[str]
    titled: float = 0.0  # share of the question's weight in the document's title
    meaning: float = 0.0  # how close in meaning its best passage is to the question (cosine similarity)


@dataclass
class Evidence:
    """What the knowledge base offers for a question: the chosen document and sentences, and the runners-up."""

    question: str
    candidates: list[Candidate] = field(default_factory=list)
    chosen: list[Unit] = field(default_factory=list)
    search: Any = None  # the knowledge search's ToolResult, reported when the answer uses it
    follow_up: bool = False  # the answer comes from the last answer's document
    continued: bool = False  # no sentence matched the follow-up: the answer is what the document says next
    kind: str = "other"  # what kind of answer the question wants (question_kind)
    overview: bool = False  # the question only names the document's subject: the answer sums it up
    names_missing: list[str] = field(default_factory=list)  # names in the question the best document lacks
    names_subject: bool = False  # the best document's title holds a word of the question rare in English
    pinned: bool = False  # the best document holds a name of the question that the knowledge base knows
    matched_rare: bool = False  # the best document holds a word of the question that is not an everyday word
    key_unknown: bool = False  # the question's most telling word is in no document at all
    related: list[dict] = field(default_factory=list)  # documents on the rest of the question, without its names
    meaning_lead: float = 0.0  # how far the best document leads the next one on meaning (0 if it does not lead)
    corrections: dict = field(default_factory=dict)  # misspelt words of the question and how they were read

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def confident(self) -> bool:
        """Whether the best document answers: it holds every name the question uses and most of its weight, or
        clearly more of it than the runner-up, or names the subject in its title; on a follow-up, the last
        answer's document is trusted with less."""
        best = self.best
        if not best or not self.chosen or self.names_missing:
            return False
        if self.follow_up:
            return best.best >= FOLLOW_UP_UNIT or self.continued
        if self.names_subject and best.coverage >= SUBJECT_COVERAGE:
            return True  # "my kestrelby fridge...": the document is about what the question names
        if self.key_unknown:
            return False  # "I bought some crude...": what it is about is in no document; at most a tentative hint
        if self.understood:
            return True
        if best.best < CONFIDENT_UNIT or best.coverage < MIN_COVERAGE or not self.telling:
            return False
        second = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        return best.coverage >= CONFIDENT_COVERAGE or best.titled >= 0.3 or best.score - second >= CLEAR_LEAD

    @property
    def understood(self) -> bool:
        """The best document is, by a margin, the one whose passage means what the question asks, and shares a
        word that tells with it: an answer even when the question puts it in other words."""
        best = self.best
        return bool(best and best.meaning >= MEANING_SURE and self.meaning_lead >= MEANING_LEAD
                    and self.telling and best.coverage >= SUBJECT_COVERAGE)

    @property
    def telling(self) -> bool:
        """Whether the best document shares with the question a word that is about something, not only the
        everyday words of "is now a good time to start?" (good, time, start: among English's commonest)."""
        return self.matched_rare

    @property
    def tentative(self) -> bool:
        """Not an answer to stand behind, but a passage worth showing as the closest one: the best document
        holds the question's names, a fair share of its weight and a sentence that matches, ahead of the rest.
        Both the pinned name and the lead say it is the one document on the subject."""
        best = self.best
        if not best or not self.chosen or self.names_missing or self.confident:
            return False
        if best.coverage < MIN_COVERAGE or best.best < TENTATIVE_UNIT or not self.telling:
            return False
        second = self.candidates[1].score if len(self.candidates) > 1 else 0.0
        return self.pinned or best.score - second >= TENTATIVE_LEAD

    @property
    def specific(self) -> bool:
        """Whether a sentence answers the question itself, not only names the document's subject (for "what is
        X?", the opening of the document about X does)."""
        if self.overview or self.kind == "define" and self.best.titled >= 0.5:
            return True
        title = set(tokenize(self.best.document["title"]))
        return any(u.matched and set(u.matched) - title or u.fit > 0 and self.kind in ("when", "duration", "amount")
                   for u in self.chosen)

    @property
    def closest(self) -> list[dict]:
        if self.names_subject and self.best and self.best.document not in self.related:
            return [self.best.document, *self.related][:3]
        return self.related or [c.document for c in self.candidates[:3] if c.coverage >= RELATED_COVERAGE]

    def names_covered(self, names: list[str]) -> bool:
        """Whether the best document is about each of ``names`` (in its title or a heading), not merely
        mentioning them ("gold" in a sentence on beta does not answer "the price of gold")."""
        best = self.best
        if not best:
            return False
        about = set(tokenize(best.document["title"])) | {t for u in best.units for t in tokenize(u.heading)}
        return all(set(tokenize(name)) <= about for name in names if tokenize(name))


def _alternatives(term: str) -> dict[str, float]:
    """The term and its synonyms (at half weight), as query_terms expands them."""
    out = {term: 1.0}
    for other, weight in query_terms(term).items():
        out.setdefault(other, weight)
    return out


def candidate_score(question: str, view: DocumentView, weights: dict[str, float], *,
                    kind: str, rank: int, follow_up: bool = False, optional: frozenset = frozenset(),
                    meaning: tuple[float, dict[int, float]] | None = None) -> Candidate:
    """How well one document answers the question, with each of its units scored (``optional`` terms add
    where found and are never missing; ``meaning``: the document's and its passages' similarity to the
    question, when embeddings are on)."""
    closeness, passages_meaning = meaning or (0.0, {})
    total = sum(w for t, w in weights.items() if t not in optional) or 1.0
    document, title_terms, doc_terms, heading_terms = view.document, view.title_terms, view.doc_terms, \
        view.heading_terms
    units = [copy.copy(u) for u in view.units]
    unit_terms = view.unit_terms
    readings = phrasal_readings(question)
    alternatives = {term: _alternatives(term) | dict.fromkeys(readings.get(term, ()), 1.0) for term in weights}

    def found(term: str, where: frozenset) -> float:
        best = 0.0
        for alt, w in alternatives[term].items():
            if w > best and alt in where:
                best = w
        return best

    coverage = min(1.0, sum(weights[t] * found(t, doc_terms) for t in weights) / total)
    titled = sum(weights[t] * found(t, title_terms) for t in weights) / total
    missing = [t for t in weights if t not in optional and not found(t, doc_terms)]
    titled_in = [found(t, title_terms) for t in weights]  # the same for every unit
    wanted = frozenset().union(*alternatives.values())
    nothing = [0.0] * len(weights)
    fits = view.fit(kind)
    for i, (unit, terms) in enumerate(zip(units, unit_terms, strict=True)):
        heading = heading_terms.get(unit.passage, frozenset())
        # The title's terms hold for every sentence of the document ("Glenhaven" in "Glenhaven: capital
        # spending plan"): they count in full for how well the document answers (``support``), and a little for
        # which of its sentences answers, which the question's other words and the kind of answer decide.
        if terms.isdisjoint(wanted) and heading.isdisjoint(wanted):
            in_unit, own = nothing, nothing  # most sentences share no word with the question
        else:
            in_unit = [found(t, terms) for t in weights]
            own = [max(u, 0.8 * found(t, heading)) for t, u in zip(weights, in_unit, strict=True)]
        fit = unit.fit = fits[i]
        unit.matched = tuple(t for t, u in zip(weights, in_unit, strict=True) if u)
        unit.support = sum(w * max(o, ti) for w, o, ti in zip(weights.values(), own, titled_in, strict=True)) / total
        unit.support += fit
        score = sum(w * (0.35 * ti or o) for w, o, ti in zip(weights.values(), own, titled_in, strict=True)) / total
        score += fit
        score += UNIT_MEANING * passages_meaning.get(unit.passage, 0.0)
        if unit.words < 5:
            score *= 0.7
        if _META.match(unit.text):
            score *= 0.3  # a sentence about the page itself ("This note sets out ...") rarely answers
        bonus = 0.0
        if kind == "define" and unit.position == 0 and title_terms and title_terms <= set(weights) | FRAME:
            bonus = 0.2  # "what is X?" and the document is about X: its opening sentence defines it
        elif kind == "define" and _defines(unit, view.label_terms[i], view.opening_terms[i], weights):
            bonus = 0.15  # "X (...): ..." or "X is ...": a sentence shaped like a definition of the term
        score += bonus
        unit.support += bonus
        unit.score = score
    best = max((u.support for u in units), default=0.0)
    score = (0.55 * best + 0.45 * coverage + TITLE_BONUS * titled + 0.04 / (rank + 1)
             + (FOLLOW_UP_BONUS if follow_up else 0) + MEANING_WEIGHT * closeness)
    return Candidate(document, units, coverage, best, score, missing, titled, closeness)


def _opening_defines(candidate: Candidate) -> bool:
    """The document opens by saying what its title is ("The Sharpe ratio measures ..."): a concept's page."""
    first = next((u for u in candidate.units if not _META.match(u.text)), None)
    if first is None:
        return False
    title = set(tokenize(candidate.document["title"]))
    shared = title & set(tokenize(first.text))
    return bool(title) and len(shared) >= 2 / 3 * len(title) and bool(
        re.search(r"\b(is|are|means|measures|refers to|describes|summarises|shows|gives)\b", first.text))


def _defines(unit: Unit, label: frozenset | None, opening: frozenset, weights: dict[str, float]) -> bool:
    """The unit opens with the question's term and goes on to say what it is: "Market order: ..." (a label
    naming every term of the question) or "The Sharpe ratio is ..."."""
    if label is not None:
        return set(weights) - FRAME <= label
    main = max(weights, key=weights.get)
    return main in opening and bool(re.search(r"\b(is|are|means|refers to|measures)\b",
                                              " ".join(unit.text.split()[:5])))


def evidence_find(question: str, documents: list, idf: dict[str, float], *,
                  ceiling: float,
                  names: set[str] = frozenset(), context_documents: set = frozenset(),
                  follow_up: bool = False, loose: bool = False, said: list[int] = (),
                  meaning: dict | None = None) -> Evidence:
    """Rank the candidate documents (best search match first: DocumentViews, or (document, passages) pairs)
    for ``question`` and pick the answer's units (``meaning``: knowledge_similar's answer for the question)."""
    meaning = meaning or {}
    documents = [d if isinstance(d, DocumentView) else document_view(*d) for d in documents]
    evidence = Evidence(question)
    weights = question_weights(question, idf, names, ceiling)
    if not documents:
        return evidence
    if not weights:
        if not (follow_up and context_documents):
            return evidence
        # "and what do you get out of it?": no word of its own, so the last answer's document, summed up
        earlier = [view for view in documents if view.document["document_id"] in context_documents][:1]
        if earlier:
            candidate = Candidate(earlier[0].document, list(earlier[0].units), 1.0, 1.0, 1.0, [])
            evidence.candidates, evidence.follow_up, evidence.overview = [candidate], True, True
            evidence.chosen = overview_units(candidate)
        return evidence
    kind = evidence.kind = question_kind(question)
    optional = frozenset(set(weights) - set(tokenize(question, phrasal=False)))
    candidates = [candidate_score(question, view, weights, kind=kind, rank=rank, optional=optional,
                                  follow_up=follow_up and view.document["document_id"] in context_documents,
                                  meaning=meaning.get(view.document["document_id"]))
                  for rank, view in enumerate(documents)]
    candidates.sort(key=lambda c: -c.score)
    # A name the knowledge base knows ("treasurydirect", "Kestrelby") pins the question to the documents that
    # hold it: one that lacks it answers something else, however well its other words match.
    rarity = english_rarity(question)
    known = {t for t in weights if idf.get(t) and t not in optional and (
        t in name_like(question) or t in names and rarity.get(t, 1.0) >= RARE)}
    if known and any(known.isdisjoint(c.missing) for c in candidates):
        candidates.sort(key=lambda c: not known.isdisjoint(c.missing))
        evidence.pinned = True
    if follow_up:
        # "and when is it paid?": the last answer's document, unless the question names another's subject
        earlier = [c for c in candidates if c.document["document_id"] in context_documents]
        top = candidates[0]
        # A loose follow-up ("stretch that cover") also moves on when another document answers far better, on
        # words that tell (not "back" in "get back to me").
        moves_on = False
        if earlier:
            gain = sum(w for t, w in weights.items()
                       if t not in optional and t not in top.missing and t in earlier[0].missing)
            moves_on = top.titled >= 0.5 or loose and top.score > earlier[0].score + 0.3 and gain >= MOVE_ON
        if earlier and not (top is not earlier[0] and moves_on and top.coverage >= CONFIDENT_COVERAGE):
            candidates.remove(earlier[0])
            candidates.insert(0, earlier[0])
            evidence.follow_up = True
            last = max(said, default=-1)
            for unit in earlier[0].units:  # what the last answer said is not the news a follow-up asks for
                if unit.position in said:
                    unit.score *= SAID
                elif said and unit.position > last:
                    unit.score += ONWARD  # and a conversation reads a document onwards: ties go forward
    evidence.candidates = candidates
    closest = sorted((m[0] for m in meaning.values()), reverse=True)[:2]
    if meaning and candidates[0].meaning >= closest[0]:
        evidence.meaning_lead = candidates[0].meaning - (closest[1] if len(closest) > 1 else 0.0)
    # A word of the question that tells (rare in English) and that no document holds, nor a synonym of it: what
    # the question is about is not in the knowledge base.
    evidence.key_unknown = any(
        not idf.get(t) and rarity.get(t, 1.0) >= RARE and t not in names and not re.search(r"\d", t)
        and not readings_cover(question, t, idf) for t in weights if t not in optional)
    evidence.matched_rare = any(rarity.get(t, 1.0) >= EVERYDAY for t in weights
                                if t not in optional and t not in candidates[0].missing)
    everyday = frozenset(t for t in weights if rarity.get(t, 1.0) < EVERYDAY)
    evidence.chosen = answer_units(candidates[0], everyday)
    if evidence.follow_up and candidates[0].best < FOLLOW_UP_UNIT:
        # "and what happens if i'm late?": none of its words is in the document; what the document says next,
        # after the last answer, is what a reader would look at.
        evidence.chosen = continuation(candidates[0], said) or evidence.chosen
        evidence.continued = bool(evidence.chosen)
    title = set(tokenize(candidates[0].document["title"]))
    if not follow_up and set(weights) <= title and not (kind == "define" and _opening_defines(candidates[0])):
        evidence.chosen = overview_units(candidates[0]) or evidence.chosen
        evidence.overview = True
    # Names are capitalised words, and words rare in English that the knowledge base has never seen (a company
    # written in lower case): a document that lacks one is about something else.
    rare = {t for t in weights if rarity.get(t, 1.0) >= RARE and not re.search(r"\d", t) and idf.get(t)}
    unseen = {t for t in name_like(question) if not idf.get(t)}
    evidence.names_missing = sorted((names | unseen) & set(candidates[0].missing))
    evidence.names_subject = bool(rare & title)
    # What the question asks besides the names no document holds ("Zorblat's refund policy": a refund policy).
    rest = {t: w for t, w in weights.items() if t not in names | unseen}
    total = sum(rest.values()) or 1.0
    evidence.related = [c.document for c in candidates
                        if sum(w for t, w in rest.items() if t not in c.missing) / total >= RELATED_COVERAGE][:3]
    return evidence
