"""Answers from the knowledge base: the document a term names, a heading, a glossary entry, or the closest
passage, always citing the document."""

import re
import threading
from collections import OrderedDict

from knowledge.ranking import query_terms, tokenize
from knowledge.selectors import (
    knowledge_passages,
    knowledge_similar,
    knowledge_spellings,
    knowledge_term_weights,
)

from .. import formatting as fmt
from ..tools import KNOWLEDGE_SOURCE
from . import grounding, units
from . import question as reading_question
from .replies import MIN_KNOWLEDGE_SCORE, State, answer_unknown, answer_unknown_symbol

CANDIDATES = 5  # documents weighed for each question, best by its words
MEANING_CANDIDATES = 3  # and the documents closest to it in meaning


def knowledge_hit(state: State, query: str):
    result = yield from state.tool("search_knowledge", query=query, limit=3)
    if not result.ok or not result.data["results"]:
        return None
    hit = result.data["results"][0]
    if not hit["title_match"] and (hit["score"] < MIN_KNOWLEDGE_SCORE or not _covers(hit, query)):
        return None
    state.cite_document(hit)
    return hit


def _covers(hit: dict, query: str, share: float = 0.5) -> bool:
    """Whether the passage contains at least ``share`` of the question's terms (else it is off the subject)."""
    wanted = set(tokenize(query))
    found = set(tokenize(" ".join((hit["title"], hit["heading"], hit["text"]))))
    return bool(wanted) and len(wanted & found) / len(wanted) >= share


_BULLET = re.compile(r"(?:^|\n)[ \t]*[•*-][ \t]+(?P<term>[^:\n.]{2,60}):[ \t]*(?P<text>[^\n]+(?:\n(?![ \t]*[•*-][ \t])[^\n]+)*)")
_DIFFERENCE = re.compile(r"^(?:the\s+)?differences?\s+between\s+(?:an?\s+|the\s+)?(.+?)\s+(?:and|&|vs\.?|versus)\s+"
                         r"(?:an?\s+|the\s+)?(.+?)$", re.IGNORECASE)


def _similar(a: set, b: set) -> float:
    """Jaccard similarity of two sets of stems, counting a stem that starts another ("cap", "capitalis") as shared."""
    if not a or not b:
        return 0.0
    shared = sum(1 for x in a if any(y.startswith(x) or x.startswith(y) for y in b))
    return shared / (len(a) + len(b) - shared)


def _glossary_entry(term: str, hits: list[dict]) -> tuple[dict, str, str] | None:
    """The bullet "• Term (alias): definition" whose term best matches the question's term."""
    wanted, best, best_score = set(tokenize(term)), None, 0.49
    for hit in hits:
        for match in _BULLET.finditer(hit["text"]):
            label = match.group("term").strip()
            names = [label] + [n for n in re.split(r"\s*[/(),]\s*|\s+or\s+", label) if n]
            score = max(_similar(wanted, set(tokenize(name))) for name in names)
            if score > best_score:
                best, best_score = (hit, label, " ".join(match.group("text").split())), score
    return best


def _heading_hit(term: str, hits: list[dict]) -> dict | None:
    """A passage whose heading is the term ("Limit order" in *Order types*)."""
    wanted = set(tokenize(term))
    for hit in hits:
        if hit["heading"] != hit["title"] and _similar(wanted, set(tokenize(hit["heading"]))) >= 0.99:
            return hit
    return None


def first_sentences(text: str, n: int) -> str:
    flat = " ".join(re.split(r"\n\s*\n", text.strip())[0].split())  # the opening paragraph only
    sentences = re.split(r"(?<=[a-z0-9)%][.!?])\s+(?=[A-Z“\"(])", flat)
    return " ".join(sentences[:n])


def _definition(state: State, term: str, limit: int):
    """Markdown defining ``term`` from the knowledge base (citing what it used), or None."""
    result = yield from state.tool("search_knowledge", query=term, limit=4)
    hits = result.data["results"] if result.ok else []
    if not hits:
        return None
    best = hits[0]
    if best["title_match"]:
        state.cite_document(best)
        return f"**{best['title']}**\n\n{fmt.passage_markdown(fmt.shorten(best['text'], limit))}"
    heading = _heading_hit(term, hits)
    if heading:
        state.cite_document(heading)
        return (f"**{heading['heading']}** (from *{heading['title']}*)\n\n"
                f"{fmt.passage_markdown(fmt.shorten(heading['text'], limit))}")
    entry = _glossary_entry(term, hits)
    if entry:
        hit, name, definition = entry
        state.cite_document(hit)
        return f"**{name}**: {definition}"
    if best["score"] >= MIN_KNOWLEDGE_SCORE and _covers(best, term, 0.6):
        state.cite_document(best)
        return (f"The closest passage in the knowledge base is from *{best['title']}* ({best['heading']}):\n\n"
                f"{fmt.passage_markdown(fmt.shorten(best['text'], limit))}")
    return None


def answer_define(state: State):
    term = state.intent.term or state.turn.message
    match = _DIFFERENCE.match(term)
    terms = [match.group(1), match.group(2)] if match else [term]
    parts = []
    for each in terms:
        text = yield from _definition(state, each, 900 if len(terms) == 1 else 500)
        if text:
            parts.append(text)
    if not parts:
        fallback = answer_unknown_symbol if state.intent.unknown else answer_unknown
        return (yield from fallback(state))
    text = "\n\n".join(parts) + f"\n\n_Source: {_titles(state)} ({KNOWLEDGE_SOURCE})._"
    return state.answer(text, [])


def _titles(state: State) -> str:
    titles = [f"*{s['title']}*" for s in state.sources if s["kind"] == "knowledge"]
    return ", ".join(titles)


# --- grounded answers: any question the knowledge base covers ---------------------------------------------------

def evidence_gather(state: State, text: str, *, follow_up: bool = False):
    """Search the knowledge base for the question (one tool call) and weigh what it found: an Evidence."""
    corrections = knowledge_spellings(words=reading_question.misspelt_candidates(text))
    text = reading_question.respell(text, corrections)
    context = state.turn.context
    context_documents = [d for d in context.get("documents") or [] if isinstance(d, int)]
    said = [u for u in context.get("units") or [] if isinstance(u, int)]
    yield from ()
    result = state.lookup("search_knowledge", query=text, limit=CANDIDATES)
    ids = [hit["document_id"] for hit in result.data["results"]] if result.ok else []
    # The documents whose passages mean what it asks join those that share its words. Which document a
    # follow-up is about, it says in the light of the question before it; which sentence answers, on its own.
    meaning = knowledge_similar(query=text)
    if follow_up and state.turn.last_question:
        about = knowledge_similar(query=f"{state.turn.last_question} {text}")
        meaning = {d: (about[d][0], meaning[d][1]) for d in about if d in meaning}
    ids += [d for d in sorted(meaning, key=lambda d: -meaning[d][0])[:MEANING_CANDIDATES] if d not in ids]
    if follow_up:
        ids += [d for d in context_documents if d not in ids]
    documents = [_view(passages) for passages in knowledge_passages(document_ids=ids).values() if passages]
    weights = knowledge_term_weights(terms=set(query_terms(text)))  # the synonyms too: is any in a document?
    ceiling = weights.pop(None)
    evidence = grounding.evidence_find(text, documents, weights, ceiling=ceiling, names=reading_question.names_in(text),
                                       context_documents=set(context_documents), follow_up=bool(follow_up),
                                       said=said, meaning=meaning,
                                       loose=follow_up == "loose")
    evidence.search = result
    evidence.corrections = corrections
    return evidence


_VIEWS: OrderedDict = OrderedDict()  # document views by version and text: a document is split and tokenised once
_VIEWS_MAX = 512
_views_lock = threading.Lock()


def _view(passages: list[dict]) -> units.DocumentView:
    first = passages[0]
    key = (first["document_id"], first["version_id"], hash(tuple(p["text"] for p in passages)))
    with _views_lock:
        view = _VIEWS.get(key)
        if view is not None:
            _VIEWS.move_to_end(key)
            return view
    view = units.document_view({"document_id": first["document_id"], "title": first["title"],
                                    "key": first["key"], "version_id": first["version_id"],
                                    "url": first["url"].split("#")[0]}, passages)
    with _views_lock:
        _VIEWS[key] = view
        while len(_VIEWS) > _VIEWS_MAX:
            _VIEWS.popitem(last=False)
    return view


def _cite_units(state: State, document: dict, units: list) -> str:
    """Cite the document (at the passage of its first unit) and return its Markdown link."""
    passage = units[0].passage if units else None
    url = document["url"] + (f"#passage-{passage}" if passage is not None else "")
    heading = next((u.heading for u in units if u.heading and u.heading != document["title"]), "")
    state.cite_document({"title": document["title"], "heading": heading or document["title"], "key": document["key"],
                         "version_id": document["version_id"], "url": url})
    if not state.documents:
        state.units = [u.position for u in units]
    state.documents.append(document["document_id"])
    return link_markdown(document["title"], url)


def link_markdown(title: str, url: str) -> str:
    """A Markdown link whose text is the title as written (only what would end the link text is escaped)."""
    text = re.sub(r"([\\\[\]`*_<>])", r"\\\1", title)
    return f"[{text}]({url})"


def grounded_text(state: State, evidence: grounding.Evidence) -> str:
    """The sentences that answer, then the document they come from (cited, with a link); when no sentence
    answers more than the subject, say so and point at the document."""
    document = evidence.best.document
    link = _cite_units(state, document, evidence.chosen)
    if not evidence.specific and not evidence.follow_up:
        opening = units.units_markdown(evidence.best.units[:1])
        return (f"{_reading(evidence)}{link} is the knowledge base's document on this, but none of its passages "
                f"clearly answers that question, so I'd rather not guess. It opens: “{opening}”\n\n"
                f"_Source: {link} ({KNOWLEDGE_SOURCE})._")
    return f"{_reading(evidence)}{units.units_markdown(evidence.chosen)}\n\n_Source: {link} ({KNOWLEDGE_SOURCE})._"


def _reading(evidence: grounding.Evidence) -> str:
    """Say how a misspelt word was read ("Reading “interent” as “internet”."), so a wrong guess shows."""
    if not evidence.corrections:
        return ""
    pairs = ", ".join(f"“{fmt.escape_md(wrong)}” as “{fmt.escape_md(right)}”"
                      for wrong, right in evidence.corrections.items())
    return f"_Reading {pairs}._\n\n"


def answer_knowledge(state: State):
    yield from state.report(state.evidence.search)
    return state.answer(grounded_text(state, state.evidence), [])


def answer_tentative(state: State):
    """Below the bar for an answer, but one document is ahead: say so, and show its closest passage, cited."""
    evidence = state.evidence
    yield from state.report(evidence.search)
    link = _cite_units(state, evidence.best.document, evidence.chosen)
    text = (f"{_reading(evidence)}I'm not sure the knowledge base answers exactly that. The closest passage is "
            f"in {link}:\n\n"
            f"{units.units_markdown(evidence.chosen)}\n\n_Source: {link} ({KNOWLEDGE_SOURCE})._")
    return state.answer(text, [])


def closest_links(evidence: grounding.Evidence | None) -> str:
    documents = evidence.closest if evidence else []
    if evidence and evidence.follow_up and evidence.best and evidence.best.document not in documents:
        documents = [evidence.best.document, *documents][:3]  # the document the conversation is about
    links = [link_markdown(d["title"], d["url"]) for d in documents]
    if not links:
        return ""
    return links[0] if len(links) == 1 else ", ".join(links[:-1]) + " and " + links[-1]


def answer_no_match(state: State):
    """Nothing in the knowledge base answers it, and it is not about market data: say so and why, and offer the
    closest documents (on a follow-up, the last answer's document first)."""
    evidence = state.evidence
    if evidence.search is not None:
        yield from state.report(evidence.search)
    best = evidence.best
    missing = set(evidence.names_missing) | set(best.missing if best else ())
    named = [w for w in re.findall(r"[\w’'-]+", state.turn.message) if tokenize(w) and
             all(t in missing for t in tokenize(w)) and (w[:1].isupper() or set(tokenize(w)) <= set(evidence.names_missing))]
    named = list(dict.fromkeys(re.sub(r"['’]s?$", "", w) for w in named))
    if not named and not evidence.closest:
        return (yield from answer_unknown(state))
    reason = (f": nothing in it mentions {', '.join(f'“{fmt.escape_md(w)}”' for w in named)}" if named
              else ", and the closest match only covers part of what you asked")
    text = f"I couldn't find an answer to that in the knowledge base{reason}, so I'd rather not guess."
    links = closest_links(evidence)
    if links:
        text += f"\n\nThe closest documents are {links}; they may help." if "," in links or " and " in links \
            else f"\n\nThe closest document is {links}; it may help."
    return state.answer(text, [])
