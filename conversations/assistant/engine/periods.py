"""Periods in a question: "last year", "6 months", "ytd", "since 2020", "in 2025" (pure; no I/O)."""

import re
from dataclasses import dataclass
from datetime import date

# The provider's periods and the calendar days each covers (ytd and max handled apart).
PERIOD_DAYS = {"1d": 1, "5d": 7, "1mo": 31, "3mo": 92, "6mo": 183, "1y": 366, "2y": 731, "5y": 1827, "10y": 3653}
_EXACT = {
    ("day", 1): "1d", ("week", 1): "5d", ("day", 5): "5d", ("day", 7): "5d", ("month", 1): "1mo",
    ("month", 3): "3mo", ("quarter", 1): "3mo", ("month", 6): "6mo", ("year", 1): "1y", ("month", 12): "1y",
    ("year", 2): "2y", ("month", 24): "2y", ("year", 5): "5y", ("year", 10): "10y", ("decade", 1): "10y",
}
_LABELS = {"1d": "today", "5d": "the last 5 trading days", "1mo": "the last month", "3mo": "the last 3 months",
           "6mo": "the last 6 months", "1y": "the last year", "2y": "the last 2 years", "5y": "the last 5 years",
           "10y": "the last 10 years", "ytd": "the year to date", "max": "all available history"}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30.44, "quarter": 91.3, "year": 365.25, "decade": 3652.5}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "half a": 0.5, "half": 0.5, "couple of": 2, "a couple of": 2, "few": 3, "a few": 3,
}
_UNIT_ALIASES = {"d": "day", "day": "day", "days": "day", "w": "week", "wk": "week", "wks": "week",
                 "week": "week", "weeks": "week", "m": "month", "mo": "month", "mos": "month", "mth": "month",
                 "mths": "month", "month": "month", "months": "month", "q": "quarter", "quarter": "quarter",
                 "quarters": "quarter", "y": "year", "yr": "year", "yrs": "year", "year": "year", "years": "year",
                 "decade": "decade", "decades": "decade"}
_WORD_NUMBERS = "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
_FULL_UNITS = r"days?|weeks?|months?|quarters?|years?|decades?|yrs?|mos?|wks?"
# "6mo", "5y", "12 months", "1.5 years"; word numbers need a space and a full unit ("a year", not "and").
_NUM_UNIT = re.compile(
    rf"(?<![\w$.])(\d+(?:\.\d+)?)\s*-?\s*({'|'.join(sorted(_UNIT_ALIASES, key=len, reverse=True))})\b(?!\s*%)"
    rf"|\b({_WORD_NUMBERS})[\s-]+({_FULL_UNITS})\b")
_LAST_UNIT = re.compile(r"\b(last|past|previous|prior|trailing|this|over the|in the)\s+(day|week|month|quarter|year|decade)\b")
_YTD = re.compile(r"\b(ytd|year[- ]to[- ]date|so far this year|since the (start|beginning) of (the|this) year|since january)\b")
_TODAY = re.compile(r"\b(today|today's|todays|intraday|so far today|this morning|this afternoon|right now|currently)\b")
_MAX = re.compile(r"\b(all[- ]time|since (ipo|inception|listing)|ever|max(imum)? (history|period)|entire history|all history)\b")
_SINCE_YEAR = re.compile(r"\bsince ((?:19|20)\d\d)\b")
_IN_YEAR = re.compile(r"\b(?:in|during|for|over|of|through)\s+(?:the year\s+)?((?:19|20)\d\d)\b(?!\s*%)")
FIFTY_TWO_WEEK = re.compile(r"\b(52|fifty[- ]two)[- ]?(week|wk)s?\b")


@dataclass(frozen=True)
class Period:
    code: str  # the provider period to fetch (one of analysis.market_data.PERIODS)
    label: str  # how the answer names it: "the last 6 months"
    days: int | None = None  # keep only the last ``days`` calendar days of ``code`` (None: all of it)
    start: str | None = None  # or keep only the bars from ``start`` to ``end`` (ISO dates): "in 2025"
    end: str | None = None


def _period_for(unit: str, count: float) -> Period | None:
    if count <= 0:
        return None
    whole = int(count) if float(count).is_integer() else None
    exact = _EXACT.get((unit, whole)) if whole is not None else None
    if exact:
        return Period(exact, _LABELS[exact])
    days = round(count * _UNIT_DAYS[unit])
    if days <= 1:
        return Period("1d", _LABELS["1d"])
    code = next((c for c, span in PERIOD_DAYS.items() if span >= days and c != "1d"), "max")
    if code != "max" and PERIOD_DAYS[code] - days <= 3:
        return Period(code, _LABELS[code])
    shown = f"{whole if whole is not None else count:g}"
    plural = "" if count == 1 else "s"
    return Period(code, f"the last {shown} {unit}{plural}", days)


def period_parse(text: str, *, today: date | None = None) -> Period | None:
    """Return the period the text names ("last year", "6 months", "ytd", "since 2020"), or None."""
    low = FIFTY_TWO_WEEK.sub(" ", text.lower())
    if _YTD.search(low) or re.search(r"\bthis year\b", low):
        return Period("ytd", _LABELS["ytd"])
    match = _IN_YEAR.search(low)
    if match:
        today = today or date.today()
        year = int(match.group(1))
        if year == today.year:
            return Period("ytd", f"{year} so far")
        if year < today.year:
            days = (today - date(year, 1, 1)).days
            code = next((c for c, span in PERIOD_DAYS.items() if span >= days), "max")
            return Period(code, f"{year}", start=f"{year}-01-01", end=f"{year}-12-31")
    match = _SINCE_YEAR.search(low)
    if match:
        today = today or date.today()
        days = (today - date(int(match.group(1)), 1, 1)).days
        if days > 0:
            code = next((c for c, span in PERIOD_DAYS.items() if span >= days), "max")
            return Period(code, f"since {match.group(1)}", days)
    match = _NUM_UNIT.search(low)
    if match:
        raw, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        count = float(raw) if raw[0].isdigit() else _NUMBER_WORDS.get(raw, 1)
        found = _period_for(_UNIT_ALIASES[unit], count)
        if found:
            return found
    match = _LAST_UNIT.search(low)
    if match:
        unit = match.group(2)
        if match.group(1) == "this" and unit == "month":
            return Period("1mo", "this month")
        if match.group(1) == "this" and unit == "week":
            return Period("5d", "this week")
        return _period_for(unit, 1)
    if _MAX.search(low):
        return Period("max", _LABELS["max"])
    if _TODAY.search(low):
        return Period("1d", _LABELS["1d"])
    return None


def period_named(code: str) -> Period:
    return Period(code, _LABELS.get(code, code))
