"""A document as grounding reads it: its sentences and list items (units), each with the terms it holds, and
what kind of answer each unit is (a date, a span of time, a figure, a name)."""

import re
from dataclasses import dataclass, field

from knowledge.ranking import tokenize

_DATE = re.compile(r"\b(\d+ (days?|weeks?|months?|years?) (after|before|from|of)|january|february|march|april|\d{1,2}(st|nd|rd|th)? may|may \d{1,2}|june|july|august|"
                   r"september|october|november|december|"
                   r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|"
                   r"saturday|sunday|quarter(ly)?|\d{1,2}(st|nd|rd|th)|days? (after|before)|business days?|"
                   r"deadline|twice a year|once a year|every (year|month|quarter))\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(19|20)\d\d\b")
_FIGURE = re.compile(r"\d\s*%|[$€£]\s*\d|\b\d[\d,.]*\s*(percent|per cent|million|billion|thousand|times|x)\b|"
                     r"\b(percent|half|a third|a quarter|double|twice)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_SPAN = re.compile(r"\b\d+\s*(business |calendar |working )?(days?|weeks?|months?|years?|hours?|minutes?)\b",
                   re.IGNORECASE)
_PROPER = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+")
_SENTENCE = re.compile(r"(?<=[a-z0-9)%\]”\"'][.!?])\s+(?=[A-Z0-9“\"($])")
# Abbreviations a sentence does not end at ("10:00 a.m. Eastern time", "Acme Inc. pays").
_ABBREVIATION = re.compile(r"\b(a\.m|p\.m|e\.g|i\.e|etc|inc|co|corp|ltd|no|vs|mr|mrs|ms|dr|st|approx|fig|jan|feb|"
                           r"mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|u\.s|u\.k)\.$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*[•*-]\s+")


@dataclass
class Unit:
    """A sentence or a list item of a passage, with where it comes from."""

    document_id: int
    passage: int
    position: int  # order within the document
    heading: str
    text: str
    bullet: bool = False
    block: int = 0  # the paragraph or list item of its passage it comes from
    score: float = 0.0
    matched: tuple = ()  # the question's terms found in the unit's own words
    support: float = 0.0  # how much of the question the unit answers, with its document's title
    fit: float = 0.0  # how well it is the kind of answer asked for (a date for "when")

    @property
    def words(self) -> int:
        return len(self.text.split())


def units_of(passages: list[dict]) -> list[Unit]:
    """The sentences and list items of a document's passages, in order."""
    units, position = [], 0
    for passage in passages:
        for n, block in enumerate(_blocks(passage["text"])):
            bullet = bool(_BULLET.match(block))
            text = _BULLET.sub("", block).strip()
            pieces = [text] if bullet else _sentences(" ".join(text.split()))
            for piece in pieces:
                piece = " ".join(piece.split())
                if len(piece) < 3:
                    continue
                units.append(Unit(passage["document_id"], passage["passage"], position, passage["heading"], piece,
                                  bullet, n))
                position += 1
    return units


def _sentences(text: str) -> list[str]:
    """The sentences of a paragraph, not split after an abbreviation."""
    out: list[str] = []
    for piece in _SENTENCE.split(text):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _blocks(text: str) -> list[str]:
    """Paragraphs and list items (a list item's indented continuation lines joined to it)."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        current = ""
        for line in paragraph.splitlines():
            if _BULLET.match(line):
                if current:
                    blocks.append(current)
                current = line.strip()
            elif current and _BULLET.match(current) and line[:1].isspace():
                current += " " + line.strip()
            elif current and _BULLET.match(current):
                blocks.append(current)
                current = line.strip()
            else:
                current = f"{current} {line.strip()}".strip()
        if current:
            blocks.append(current)
    return blocks


def _fit(kind: str, unit: Unit) -> float:
    text = unit.text
    if kind == "when":  # a day, a month, a schedule says more than a bare year
        return 0.2 if _DATE.search(text) else 0.07 if _YEAR.search(text) else 0.0
    if kind == "duration":
        return 0.15 if _SPAN.search(text) else 0.0
    if kind == "amount":  # a share or a sum says more than any number (a date's day is a number too)
        return 0.12 if _FIGURE.search(text) else 0.04 if _NUMBER.search(text) else 0.0
    if kind == "who":
        return 0.1 if _PROPER.search(text) else 0.0
    if kind == "define":
        return 0.1 if re.search(r"\b(is|are|means|refers to|measures)\b", text) else 0.0
    return 0.0


@dataclass(frozen=True)
class DocumentView:
    """A document as grounding reads it: its units and the terms of each, computed once per version."""

    document: dict
    units: tuple[Unit, ...]
    unit_terms: tuple[frozenset, ...]
    label_terms: tuple[frozenset | None, ...]  # a "Term (alias): definition" unit's label, else None
    opening_terms: tuple[frozenset, ...]  # the first three words of each unit
    heading_terms: dict
    title_terms: frozenset
    doc_terms: frozenset
    fits: dict = field(default_factory=dict, compare=False)  # answer kind -> each unit's fit, worked out once

    def fit(self, kind: str) -> tuple[float, ...]:
        fits = self.fits.get(kind)
        if fits is None:
            fits = self.fits[kind] = tuple(_fit(kind, unit) for unit in self.units)
        return fits


def document_view(document: dict, passages: list[dict]) -> DocumentView:
    title_terms = frozenset(tokenize(document["title"]))
    units = units_of(passages)
    heading_terms = {p["passage"]: frozenset(tokenize(p["heading"])) for p in passages}
    unit_terms = tuple(frozenset(tokenize(u.text)) for u in units)
    labels = tuple(_label_terms(u.text) for u in units)
    openings = tuple(frozenset(tokenize(" ".join(u.text.split()[:3]))) for u in units)
    doc_terms = title_terms.union(*heading_terms.values(), *unit_terms)
    return DocumentView(document, tuple(units), unit_terms, labels, openings, heading_terms, title_terms, doc_terms)


def _label_terms(text: str) -> frozenset | None:
    label = text.split(":")[0] if ":" in text[:80] else ""
    if not label or len(label.split()) > 6:
        return None
    return frozenset(tokenize(re.sub(r"\(.*?\)", " ", label))) | frozenset(tokenize(label))


def units_markdown(units: list[Unit]) -> str:
    """The chosen units as Markdown: sentences as a paragraph, list items as a list."""
    parts, sentences, paragraph = [], [], None
    for unit in units:
        if sentences and (unit.bullet or (unit.passage, unit.block) != paragraph):
            parts.append(" ".join(sentences))  # a new paragraph ("N_eff = 1 ÷ HHI" stays on its line)
            sentences = []
        if unit.bullet:
            parts.append(f"- {unit.text}")
        else:
            sentences.append(unit.text)
            paragraph = (unit.passage, unit.block)
    if sentences:
        parts.append(" ".join(sentences))
    out = []
    for part in parts:  # a list needs a blank line before it, and items stay together
        if out and not (part.startswith("- ") and out[-1].startswith("- ")):
            out.append("")
        out.append(part)
    return "\n".join(out)
