"""What every writer shares: the turn's State (tools run, sources cited, cards), the Answer, and the writers
for greetings, help and questions the assistant cannot answer."""

from dataclasses import dataclass, field
from typing import Any

from analysis import market_data

from .. import formatting as fmt
from ..cards import sources_from_result, sources_merge
from ..provider import Provider, Turn
from ..tools import ToolContext, ToolResult, tool_run
from .intents import Intent

NOT_AN_LLM = ("I'm StockTool's built-in assistant: I work by rules over market data and the knowledge base, "
              "not a large language model, so I understand a set of everyday questions rather than anything at all.")
EXAMPLES = (
    "- **Prices**: “What is AAPL's stock price?”\n"
    "- **Change over a period**: “How did MSFT do over the last 6 months?”, “Tesla year to date”\n"
    "- **Comparisons**: “Compare AAPL, MSFT and NVDA over the last year”\n"
    "- **Company facts**: “What is Apple's market cap?”, “What sector is Exxon in?”, “Tell me about Nvidia”\n"
    "- **Risk of a stock**: “How volatile is TSLA?”, “Max drawdown of NVDA this year”\n"
    "- **Financial terms**: “What is a Sharpe ratio?”, “What does P/E mean?”\n"
    "- **Portfolio analysis**: “Analyse my portfolio of 50% AAPL 30% MSFT 20% NVDA”"
)
MAX_SYMBOLS_PER_ANSWER = 5
MIN_KNOWLEDGE_SCORE = 3.0


@dataclass
class Answer:
    text: str
    sources: list[dict] = field(default_factory=list)
    cards: list[dict] = field(default_factory=list)
    symbols: list[str] | None = None


@dataclass
class State:
    turn: Turn
    intent: Intent
    calls: list[ToolResult] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    cards: list[dict] = field(default_factory=list)
    evidence: Any = None  # what the knowledge base offers for the question (grounding.Evidence)
    documents: list[int] = field(default_factory=list)  # knowledge documents the answer used
    units: list[int] = field(default_factory=list)  # positions of the sentences it quoted from the first one

    def tool(self, name: str, **arguments):
        result = yield from Provider.call_tool(name, arguments, self.turn, self.calls)
        if result.ok:
            self._cite(name, result.data)
        return result

    def lookup(self, name: str, **arguments) -> ToolResult:
        """Run a tool without telling the page yet (routing reads the knowledge base for every question);
        ``report`` it once the answer uses it."""
        return tool_run(name, arguments, context=ToolContext(user=self.turn.user))

    def report(self, result: ToolResult):
        if any(call is result for call in self.calls):
            return
        yield {"type": "tool_start", "name": result.name, "arguments": result.arguments}
        self.calls.append(result)
        yield {"type": "tool_end", **result.record()}

    def _cite(self, name: str, data: dict) -> None:
        if name != "search_knowledge":  # the writer cites the documents it actually used
            sources_merge(self.sources, sources_from_result(name, data))

    def cite_document(self, hit: dict) -> None:
        sources_merge(self.sources, sources_from_result("search_knowledge", {"results": [hit]}))

    def answer(self, text: str, symbols: list[str] | None = None) -> Answer:
        return Answer(text.strip(), self.sources, self.cards, symbols)

    @property
    def low(self) -> str:
        return self.turn.message.lower()


def failed(result: ToolResult, what: str) -> str:
    return f"I couldn't get {what}: {result.error}."


def period_args(intent: Intent) -> dict:
    period = intent.period
    args = {"period": period.code}
    if period.days:
        args["days"] = period.days
    if period.start:
        args["start_date"], args["end_date"] = period.start, period.end
    return args


def answer_help(state: State):
    yield from ()
    return state.answer(f"{NOT_AN_LLM}\n\nYou can ask me, for example:\n\n{EXAMPLES}\n\nPrices come from the "
                        "configured market data provider and are labelled with their source and time; definitions "
                        "come from the knowledge base and name the document they come from.", [])


def answer_greeting(state: State):
    yield from ()
    return state.answer(f"Hello! {NOT_AN_LLM}\n\nTry one of these:\n\n{EXAMPLES}", [])


def answer_thanks(state: State):
    yield from ()
    return state.answer("You're welcome. Ask me about another stock, a comparison, or a financial term whenever "
                        "you like.", None)


def answer_unknown(state: State):
    yield from ()
    return state.answer(f"I'm not sure how to answer that. {NOT_AN_LLM}\n\nHere is what I can help with:\n\n"
                        f"{EXAMPLES}", [])


def answer_unknown_symbol(state: State):
    yield from ()
    names = ", ".join(f"“{fmt.escape_md(u)}”" for u in state.intent.unknown) or "that"
    return state.answer(_unknown_sentence(names) + " Try a ticker such as AAPL, MSFT or NVDA, or a company name "
                        "such as “Apple”.\n\nYou can ask me, for example:\n\n" + EXAMPLES, [])


def _unknown_sentence(names: str) -> str:
    return f"I couldn't find a stock listing for {names} with the {market_data.provider_get().name} market data provider."


def unknown_note(state: State) -> list[str]:
    notes = []
    if state.intent.unknown:
        notes.append(_unknown_sentence(", ".join(f"“{fmt.escape_md(u)}”" for u in state.intent.unknown)))
    return notes


def _no_data_sentence() -> str:
    return (f"I can only give market data for listed stocks and funds ({market_data.provider_get().name} provider), and I "
            "found none named in your question, nor anything in the knowledge base that answers it.")


def answer_no_data(state: State):
    """A market question about something that names no listing ("the price of gold"), and nothing in the
    knowledge base about it: say what is covered, without calling the word a ticker."""
    yield from ()
    return state.answer(_no_data_sentence() + " Ask about a company by name or ticker, such as "
                        "“Apple” or AAPL, or about a financial term.\n\nYou can ask me, for example:\n\n" + EXAMPLES, [])


def answer_failure(state: State) -> Answer:
    return state.answer("Sorry, something went wrong while I was putting that answer together, so I'd rather not "
                        "guess. Please try again, or rephrase the question.", [])
