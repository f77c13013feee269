"""The local provider's answers: one writer per intent, each a generator that runs tools and returns an Answer.

Writers ``yield from state.tool(...)`` so the caller sees each tool start and finish as it happens. Every figure
in an answer comes from a tool result, and every answer names where it came from and when.
"""

from .knowledge import answer_define
from .market import (
                     answer_advice,
                     answer_change,
                     answer_compare,
                     answer_extreme,
                     answer_growth,
                     answer_history,
                     answer_portfolio,
                     answer_profile,
                     answer_quote,
                     answer_risk,
                     answer_ticker,
)
from .replies import (
                     Answer,
                     State,
                     answer_failure,
                     answer_greeting,
                     answer_help,
                     answer_thanks,
                     answer_unknown,
                     answer_unknown_symbol,
)

WRITERS = {
    "quote": answer_quote, "change": answer_change, "history": answer_history, "extreme": answer_extreme,
    "risk": answer_risk, "compare": answer_compare, "profile": answer_profile, "growth": answer_growth,
    "portfolio": answer_portfolio, "ticker": answer_ticker, "advice": answer_advice, "define": answer_define,
    "help": answer_help, "greeting": answer_greeting, "thanks": answer_thanks, "unknown": answer_unknown,
    "unknown_symbol": answer_unknown_symbol,
}


__all__ = ["WRITERS", "Answer", "State", "answer_failure", "answer_unknown"]
