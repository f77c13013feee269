"""The question, read before any document is: what kind of answer it asks for (a date, a figure, a name), which
of its words are everyday English and which are names or terms of art, which may be misspelt, and how much
each of its terms weighs."""

import re

from wordfreq import zipf_frequency

from knowledge.ranking import phrasal_readings, query_terms, stem, tokenize

UNSEEN_LOWERCASE = 0.6  # a lower-case word the knowledge base has never seen: maybe a typo or filler
OPTIONAL = 0.5  # weight of a term a phrasal verb adds ("run out" -> "expire"), not counted as missing
MISSPELT_ZIPF = 3.0  # a word rarer than this in English may be a typo ("prefered" is 2.4, "crude" 4.0)
NAME_ZIPF = 1.5  # a word this rare in English (Zipf scale) is a name: "kestrelby", "harrowgate"

# Words that frame a question rather than name its subject.
FRAME = frozenset(stem(w) for w in """
actually really exactly basically anyway thing things stuff kind sort guys folks hey wonder wondering curious quick
quickly someone anyone somebody happen happens say says said way ways whats hows whos wheres whens whys thats
theres heres lemme gonna wanna kinda
""".split())

_WHEN = re.compile(r"\b(when|what (date|day|month|time)|which (date|day|month)|how often|deadline|by when|"
                   r"what time|schedule|how frequently)\b")
_AMOUNT = re.compile(r"\b(how much|how many|what (percent|percentage|rate|share|fee|price|amount|proportion)|"
                     r"fees?|costs?|charges?|minimum|maximum|how big|how large|how high|how low|"
                     # "what's the least i can put in?", "the most i can pay in a month" (not "the most common")
                     r"the (least|most|max|min) (i|you|we|they|one|someone|anyone|a person|it)|"
                     r"the (least|most)$)\b")
_DURATION = re.compile(r"\b(how long|how soon|how quickly|how fast|within how|how many (days|weeks|months|years|hours))\b")
_WHO = re.compile(r"\b(who|whom|which (team|committee|person|people|department|officer))\b")
_DEFINE = re.compile(r"^\s*(what('s| is| are| does)|whats|define|explain|meaning of|what do)\b|\b(mean|means|stand for)\b")


def english_rarity(question: str) -> dict[str, float]:
    """How unusual each term's word is in everyday English (wordfreq's Zipf scale): 1 for a rare word or a name,
    down to a quarter for "much", "need", "put". A question's everyday words say little about its subject."""
    out: dict[str, float] = {}
    for word in re.findall(r"[A-Za-z0-9][A-Za-z0-9'’/&.-]*", question):
        word = word.strip(".").replace("’", "'")
        factor = 0.3 if re.search(r"\d", word) else min(1.0, max(0.25, (7.0 - zipf_frequency(word, "en")) / 3.0))
        for term in tokenize(word):
            out[term] = min(out.get(term, 1.0), factor) if term in out else factor
    return out


def name_like(question: str) -> set[str]:
    """Terms of words that are not English at all (wordfreq has never seen them): "kestrelby", "zorblat"."""
    out = set()
    for word in re.findall(r"[A-Za-z][A-Za-z'’-]*", question):
        word = re.sub(r"['’]s?$", "", word.replace("’", "'"))
        if len(word) >= 4 and zipf_frequency(word, "en") < NAME_ZIPF:
            out.update(tokenize(word))
    return out


def readings_cover(question: str, term: str, idf: dict[str, float]) -> bool:
    """Whether a synonym or a phrasal reading of ``term`` is a word of the knowledge base ("crashes": "fall")."""
    alternatives = set(query_terms(term)) | set(phrasal_readings(question).get(term, ()))
    return any(idf.get(t) for t in alternatives - {term})


def misspelt_candidates(question: str) -> list[str]:
    """Words of the question (lower case) that may be misspelt: five letters or more, and rare or unknown in
    English ("interent", "quorington", "prefered"); the knowledge base says which are one typo from its words."""
    words = {w.lower() for w in re.findall(r"[A-Za-z]{5,}", question)}
    return sorted(w for w in words if zipf_frequency(w, "en") < MISSPELT_ZIPF)


def respell(question: str, corrections: dict[str, str]) -> str:
    """The question with each misspelt word replaced by the knowledge base's word (capitalised where it was)."""
    def fix(match):
        word = match.group(0)
        right = corrections.get(word.lower())
        if right is None:
            return word
        return right.capitalize() if word[:1].isupper() else right
    return re.sub(r"[A-Za-z]{5,}", fix, question) if corrections else question


def question_weights(question: str, idf: dict[str, float], names: set[str], ceiling: float) -> dict[str, float]:
    """Each of the question's own terms, weighted by how telling it is in the knowledge base (``idf``) and in
    English; a name the knowledge base has never seen weighs the most, an unseen everyday word little."""
    rarity = english_rarity(question)
    plain = set(tokenize(question, phrasal=False))
    weights = {}
    for term in dict.fromkeys(tokenize(question)):
        if term in FRAME:
            continue
        if term not in plain:  # "find out" read as "notify": a bonus where a document says so, never a lack
            if idf.get(term):
                weights[term] = OPTIONAL * idf[term]
            continue
        unseen = ceiling * (1.0 if term in names else UNSEEN_LOWERCASE)
        weights[term] = (idf.get(term) or unseen) * rarity.get(term, 1.0)
        if len(term) == 1 and not term.isdigit():
            weights[term] *= 0.25  # a letter of a compound ("T-bill", "401(k)") says little on its own
    return weights


def question_kind(question: str) -> str:
    low = question.lower()
    for kind, pattern in (("duration", _DURATION), ("when", _WHEN), ("who", _WHO), ("amount", _AMOUNT),
                          ("define", _DEFINE)):
        if pattern.search(low):
            return kind
    return "other"


def names_in(question: str) -> set[str]:
    """Stems of the capitalised words inside the question ("Acme's", "Borealis"): likely names."""
    out = set()
    for match in re.finditer(r"(?<!^)(?<![.!?]\s)\b([A-Z][A-Za-z0-9&-]+)", question.strip()):
        out.update(tokenize(match.group(1)))
    return out
