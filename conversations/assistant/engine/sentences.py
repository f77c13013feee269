"""Which sentences of the chosen document answer: the best one with its lead-in and the list it introduces,
close seconds that answer another part of the question, a summary for a question that only names the subject,
and what a document says next for a follow-up (split from grounding.py, which scores the documents)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .units import Unit

if TYPE_CHECKING:  # grounding imports this module: its Candidate is only a type here
    from .grounding import Candidate

MAX_UNITS = 3
MAX_WORDS = 110

_LEADS_ON = re.compile(r"^(it|its|this|that|these|those|they|their|such|however|but|also|in addition|"
                       r"as a result|otherwise|then|the latter|the former)\b", re.IGNORECASE)
META = re.compile(r"^(this|the following) (page|note|notice|document|guide|section|policy|summary)\b|"
                   r"^(below|here) (we|you)\b", re.IGNORECASE)


def overview_units(candidate: Candidate) -> list[Unit]:
    """For a question that only names the document's subject ("what is Acme's dividend policy?"): the opening
    sentence and the first sentence of each following section, skipping sentences about the page itself."""
    chosen, sections = [], set()
    for unit in candidate.units:
        if META.match(unit.text) or unit.passage in sections or unit.words < 4:
            continue
        if sum(u.words for u in chosen) + unit.words > MAX_WORDS:
            break
        chosen.append(unit)
        sections.add(unit.passage)
        if len(chosen) >= MAX_UNITS:
            break
    return chosen


def continuation(candidate: Candidate, said: list[int]) -> list[Unit]:
    """The sentences after the ones the last answer quoted (the rest of their section first), or the opening
    when nothing was quoted."""
    if not said:
        return overview_units(candidate)
    last = max(said)
    after = [u for u in candidate.units if u.position > last and not META.match(u.text)]
    chosen: list[Unit] = []
    for unit in after:
        if chosen and (unit.passage != chosen[0].passage or sum(u.words for u in chosen) + unit.words > MAX_WORDS):
            break
        chosen.append(unit)
        if len(chosen) >= 2:
            break
    return chosen


def answer_units(candidate: Candidate, everyday: frozenset = frozenset()) -> list[Unit]:
    """The units that answer: the best one, its lead-in when it leans on the sentence before, and close seconds
    that answer a part of the question it does not (on a word that tells, not one of ``everyday``)."""
    units = candidate.units
    if not units:
        return []
    best = max(units, key=lambda u: (u.score, -u.position))
    chosen = {best.position: best}
    by_position = {u.position: u for u in units}
    before = by_position.get(best.position - 1)
    if before and before.passage == best.passage and (_LEADS_ON.match(best.text) or best.words < 8):
        chosen[before.position] = before
    after = by_position.get(best.position + 1)
    items = _list_after(best, by_position)
    # "Nightly room caps: - $210 in most cities; - $320 in London ...": the items the question names ("london")
    hits = [u for u in items if set(u.matched) - set(best.matched) - everyday][:2]
    if best.text.endswith(":") and hits:
        chosen.update((u.position, u) for u in hits)
    elif after and after.passage == best.passage and (best.words < 8 or best.text.endswith(":")
                                                      or best.position == 0 and not best.bullet):
        chosen[after.position] = after
    covered = set(best.matched)
    for unit in sorted(units, key=lambda u: -u.score):
        if len(chosen) >= MAX_UNITS or unit.score < 0.8 * best.score or unit.score <= 0:
            break
        # a close second only when it answers a part of the question the best one does not
        if unit.position in chosen or not set(unit.matched) - covered - everyday:
            continue
        if sum(u.words for u in chosen.values()) + unit.words > MAX_WORDS:
            continue
        chosen[unit.position] = unit
        covered |= set(unit.matched)
    return [chosen[p] for p in sorted(chosen)]


def _list_after(unit: Unit, by_position: dict) -> list[Unit]:
    """The list items right after ``unit`` in its passage (the list it introduces)."""
    items, position = [], unit.position + 1
    while (item := by_position.get(position)) and item.passage == unit.passage and item.bullet:
        items.append(item)
        position += 1
    return items
