"""Answers from the knowledge base: the document a term names, a heading, a glossary entry, or the closest
passage, always citing the document."""

import re

from .. import formatting as fmt
from ..tools import KNOWLEDGE_SOURCE
from .replies import MIN_KNOWLEDGE_SCORE, State, answer_unknown, answer_unknown_symbol


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
    from knowledge.ranking import tokenize

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
    from knowledge.ranking import tokenize

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
    from knowledge.ranking import tokenize

    wanted = set(tokenize(term))
    for hit in hits:
        if hit["heading"] != hit["title"] and _similar(wanted, set(tokenize(hit["heading"]))) >= 0.99:
            return hit
    return None


def first_sentences(text: str, n: int) -> str:
    flat = " ".join(text.split())
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


