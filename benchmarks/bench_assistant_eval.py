"""The assistant evaluation (benchmarks/assistant_eval/): grounded and correct answers, ordinary words taken
for tickers, and the chat turn's latency, through the real chat API.

    .venv/bin/python benchmarks/bench_assistant_eval.py [--set all|heldout|heldout2|dev|FOLDER] [--verbose]

For each set, on a fresh embedded emulator and a temporary SQLite database (harness.setup):

1. the starter ``knowledge_base/`` and the set's ``documents/`` are synced to the bucket under the same
   prefix with the real ``sync_kb`` command (the starter folder with ``--delete``, so another set's documents
   are removed and unindexed first); ``sync_kb`` uploads each changed file and indexes it before returning;
2. every question is asked as a logged-in user through ``POST /api/chat``; a follow-up continues the
   conversation of the question it follows, any other question starts a new one;
3. each answer is scored (see benchmarks/assistant_eval/README.md):
   - grounded: a knowledge source whose key ends with the expected file is cited, and the reply holds a run of
     6+ consecutive words of that document (case and punctuation ignored) or one of ``expect_any``;
   - correct: grounded, and the reply holds one of ``expect_any`` (case-insensitive);
   - offence (ordinary word taken for a ticker): the reply says no stock/listing/ticker was found for a word
     the question did not write in upper case or as $XYZ, or a market-data tool was called with a symbol the
     question (or an earlier question of its conversation) did not write in upper case or with ``$``.

It is a benchmark, not a test: it exits 0 whatever the scores, and 1 only if the stack cannot start.
"""

import argparse
import os
import re
import sys
import tempfile
import time
import unicodedata
import uuid
from io import StringIO
from pathlib import Path

from harness import ROOT, report, setup, stats

os.environ.setdefault("DATABASE_URL", f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-eval.sqlite3'}")
os.environ.setdefault("LLM_PROVIDER", "local")
os.environ.setdefault("MARKET_DATA_PROVIDER", "demo")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CHAT_RATE_LIMIT", "100000/min")  # ~120 turns in a minute or two; not what is measured

EVAL_DIR = ROOT / "benchmarks" / "assistant_eval"
SETS = ("heldout", "heldout2", "heldout3", "dev")  # the three frozen sets, scored only, and the one tuned on
MARKET_TOOLS = {"get_stock_quote", "get_price_history", "compare_stocks", "get_company_profile"}
NGRAM = 6

# "I could not find a stock listing for X", "I have no market data for “X”", "X is not a known symbol", ...
NOT_FOUND = re.compile(
    r"\b(?:could\s*n[o']?t|can\s*n[o']?t|cannot|unable\s+to|did\s*n[o']?t|do\s*n[o']?t|wasn'?t\s+able\s+to|"
    r"no\s+(?:stock|ticker|symbol|listing|company|quote|match)|no\s+(?:market\s+|price\s+|stock\s+)?data|"
    r"not\s+(?:a\s+)?(?:recogni[sz]ed|valid|known|"
    r"listed|find)|unknown|unrecogni[sz]ed|isn'?t\s+(?:a\s+)?(?:listed|valid|known|recogni[sz]ed)|"
    r"not\s+found)\b", re.IGNORECASE)
TICKER_NOUN = re.compile(r"\b(?:stocks?|tickers?|symbols?|listings?|listed|quotes?|compan(?:y|ies)|"
                         r"exchange|market\s+data)\b", re.IGNORECASE)
SENTENCE = re.compile(r"(?<=[.!?\n])\s+")


# --- the sets --------------------------------------------------------------------------------------------

def load_set(name: str) -> dict:
    import yaml

    folder = EVAL_DIR / name
    docs = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "documents").glob("*.md"))}
    return {
        "name": name,
        "folder": folder,
        "documents": docs,
        "ngrams": {doc: _ngrams(_words(text)) for doc, text in docs.items()},
        "questions": yaml.safe_load((folder / "questions.yaml").read_text(encoding="utf-8")),
        "ordinary": yaml.safe_load((folder / "ordinary_words.yaml").read_text(encoding="utf-8")),
    }


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'").lower()
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text)


def _ngrams(words: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


# --- the knowledge: the real sync_kb ---------------------------------------------------------------------

def sync_knowledge(kb_set: dict) -> dict:
    """sync_kb the starter folder (--delete: only the starter documents stay), then the set's documents, under
    the same prefix; return what the index holds afterwards."""
    from django.conf import settings
    from django.core.management import call_command

    from knowledge.models import KnowledgeDocument

    lines = []
    for folder, delete in ((Path(settings.KNOWLEDGE_DIR), True), (kb_set["folder"] / "documents", False)):
        out = StringIO()
        call_command("sync_kb", str(folder), delete=delete, stdout=out, stderr=out)
        lines.append(out.getvalue().strip())
    prefix = settings.KNOWLEDGE_PREFIX
    status = dict(KnowledgeDocument.objects.filter(key__startswith=prefix).values_list("key", "status"))
    expected = {prefix + doc for doc in kb_set["documents"]}
    indexed = {k for k, s in status.items() if s == KnowledgeDocument.Status.INDEXED}
    return {"lines": lines, "indexed": len(indexed), "set_indexed": len(expected & indexed),
            "set_total": len(expected), "missing": sorted(expected - indexed)}


# --- asking ----------------------------------------------------------------------------------------------

class Asker:
    def __init__(self):
        from django.contrib.auth import get_user_model
        from django.test import Client

        self.user = get_user_model().objects.create(username=f"eval-{uuid.uuid4().hex[:8]}")
        self.client = Client(HTTP_HOST="localhost")
        self.client.force_login(self.user)

    def ask(self, message: str, conversation_id: str | None) -> dict:
        body = {"message": message, "conversation_id": conversation_id}
        started = time.perf_counter()
        response = self.client.post("/api/chat", body, content_type="application/json")
        elapsed = (time.perf_counter() - started) * 1000
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200:
            error = data.get("error") or data.get("detail") or response.content[:200].decode(errors="replace")
            return {"ok": False, "ms": elapsed, "reply": f"[HTTP {response.status_code}] {error}",
                    "sources": [], "tool_calls": [], "conversation_id": conversation_id}
        return {"ok": True, "ms": elapsed, "reply": data.get("reply") or "",
                "sources": data.get("sources") or [], "tool_calls": data.get("tool_calls") or [],
                "conversation_id": data.get("conversation_id"), "metadata": data.get("metadata") or {}}


# --- scoring ---------------------------------------------------------------------------------------------

def cited_documents(sources: list[dict]) -> list[str]:
    return [str(s.get("key") or s.get("title") or "?") for s in sources if s.get("kind") == "knowledge"]


def score_answer(item: dict, answer: dict, kb_set: dict) -> dict:
    reply = answer["reply"]
    lowered = reply.lower().replace("’", "'")
    cited = cited_documents(answer["sources"])
    cites = any(key.endswith(item["document"]) for key in cited)
    has_expected = any(e.lower().replace("’", "'") in lowered for e in item["expect_any"])
    overlap = bool(_ngrams(_words(reply)) & kb_set["ngrams"][item["document"]])
    grounded = cites and (overlap or has_expected)
    return {"cited": cited, "cites": cites, "overlap": overlap, "grounded": grounded,
            "correct": grounded and has_expected}


def _written_as_ticker(question_chain: list[str]) -> set[str]:
    """What the user wrote as tickers: $xyz, and upper-case words of two letters or more (the pronoun "I" and
    the article "A" are words, not tickers, even in upper case)."""
    out = set()
    for text in question_chain:
        out |= {m.upper() for m in re.findall(r"\$([A-Za-z][A-Za-z.\-]{0,9})\b", text)}
        out |= set(re.findall(r"\b[A-Z][A-Z.\-]{1,9}\b", text))
    return out


def offences(question: str, answer: dict, chain: list[str]) -> list[str]:
    """Ordinary words of ``question`` taken for tickers, as 'word (reply)' or 'tool(SYMBOL)' strings."""
    found = []
    tickers = _written_as_ticker(chain)
    plain = re.sub(r"'s\b", "", question.replace("’", "'"))  # Tidewick's -> Tidewick
    ordinary = sorted({w.lower() for w in re.findall(r"[A-Za-z][A-Za-z\-]*", plain)
                       if w.upper() not in tickers})
    # (a) a sentence of the reply says no stock/listing/ticker was found, and names one of them as a ticker:
    #     $word, "word" (any quotes, backticks or bold) or WORD in upper case (two letters or more)
    for sentence in SENTENCE.split(answer["reply"]):
        if not (NOT_FOUND.search(sentence) and TICKER_NOUN.search(sentence)):
            continue
        for word in ordinary:
            w = re.escape(word)
            named = (re.search(rf"\${w}\b", sentence, re.IGNORECASE)
                     or len(word) >= 2 and re.search(rf"[\"'“‘`*]{w}(?:['’]s)?[\"'”’`*]", sentence, re.IGNORECASE)
                     or (len(word) >= 2 and re.search(rf"\b{re.escape(word.upper())}\b", sentence)))
            if named and f"{word} (reply)" not in found:
                found.append(f"{word} (reply)")
    # (b) a market-data tool called with a symbol the user did not write as a ticker
    for call in answer["tool_calls"]:
        if call.get("name") not in MARKET_TOOLS:
            continue
        for symbol in _symbols(call.get("arguments") or {}):
            if symbol.upper().lstrip("$") not in tickers:
                found.append(f"{call['name']}({symbol})")
    return found


def _symbols(arguments: dict) -> list[str]:
    out = []
    for key, value in arguments.items():
        if "symbol" not in key.lower() and "ticker" not in key.lower():
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, str):
                out += [s.strip() for s in re.split(r"[,\s]+", v) if s.strip()]
    return out


# --- one set ---------------------------------------------------------------------------------------------

def run_set(kb_set: dict, *, verbose: bool) -> dict:
    sync = sync_knowledge(kb_set)
    asker = Asker()
    by_id, results, latencies, offence_rows, http_errors = {}, [], [], [], 0
    for item in kb_set["questions"]:
        parent = by_id.get(item["follow_up_of"]) if item["follow_up_of"] else None
        answer = asker.ask(item["question"], parent["conversation_id"] if parent else None)
        chain = (parent["chain"] if parent else []) + [item["question"]]
        by_id[item["id"]] = {"conversation_id": answer["conversation_id"], "chain": chain}
        latencies.append(answer["ms"])
        http_errors += not answer["ok"]
        row = {"item": item, "answer": answer, **score_answer(item, answer, kb_set)}
        results.append(row)
        bad = offences(item["question"], answer, chain)
        if bad:
            offence_rows.append((item["id"], item["question"], bad))
    ordinary_latencies = []
    for item in kb_set["ordinary"]:
        answer = asker.ask(item["question"], None)
        ordinary_latencies.append(answer["ms"])
        http_errors += not answer["ok"]
        bad = offences(item["question"], answer, [item["question"]])
        if bad:
            offence_rows.append((item["id"], item["question"], bad))
    return {"sync": sync, "results": results, "latencies": latencies,
            "ordinary_latencies": ordinary_latencies, "offences": offence_rows, "http_errors": http_errors,
            "verbose": verbose}


def print_set(name: str, kb_set: dict, run: dict) -> dict:
    results, n = run["results"], len(run["results"])
    grounded = sum(r["grounded"] for r in results)
    correct = sum(r["correct"] for r in results)
    cited = sum(r["cites"] for r in results)
    n_offence = sum(len(bad) for _, _, bad in run["offences"])
    asked = n + len(kb_set["ordinary"])
    sync = run["sync"]
    print(f"\n=== {name}: {len(kb_set['documents'])} documents, {n} questions "
          f"({sum(1 for q in kb_set['questions'] if q['follow_up_of'])} follow-ups), "
          f"{len(kb_set['ordinary'])} ordinary-word questions ===")
    for line in sync["lines"]:
        print(f"  {line}")
    print(f"  index: {sync['indexed']} documents indexed, "
          f"{sync['set_indexed']}/{sync['set_total']} of the set's"
          + (f"; NOT indexed: {', '.join(sync['missing'])}" if sync["missing"] else ""))
    print(f"  grounded: {grounded}/{n} ({100 * grounded / n:.1f}%)")
    print(f"  correct:  {correct}/{n} ({100 * correct / n:.1f}%)")
    print(f"  (expected document cited: {cited}/{n}; HTTP errors: {run['http_errors']})")
    words = [w for _, _, bad in run["offences"] for w in bad]
    print(f"  ordinary words taken for tickers: {n_offence} offence(s) in {len(run['offences'])} of {asked} "
          f"questions" + (f": {', '.join(words)}" if words else ""))
    every = run["latencies"] + run["ordinary_latencies"]
    s = stats(every)
    print(f"  chat turn latency: median {s['median']:.1f} ms, p95 {s['p95']:.1f} ms (n={s['n']})")
    if run["verbose"]:
        report(f"  {name}: POST /api/chat latency",
               [("questions.yaml turns", run["latencies"]),
                ("ordinary_words.yaml turns", run["ordinary_latencies"])])
        failures = [r for r in results if not r["correct"]]
        if failures:
            print(f"\n  failures ({len(failures)}):")
        for r in failures:
            item, answer = r["item"], r["answer"]
            why = "not grounded" if not r["grounded"] else "grounded, expected words missing"
            reply = " ".join(answer["reply"].split())[:200]
            print(f"  - {item['id']} [{why}] {item['question']}\n"
                  f"      expected: {item['document']} {item['expect_any']}\n"
                  f"      cited:    {', '.join(r['cited']) or '(none)'}\n"
                  f"      reply:    {reply}")
        for qid, question, bad in run["offences"]:
            print(f"  - offence {qid}: {question}\n      taken for tickers: {', '.join(bad)}")
    return {"grounded": grounded, "correct": correct, "n": n, "offences": n_offence,
            "median_ms": s["median"], "p95_ms": s["p95"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    extra = sorted(p.name for p in EVAL_DIR.iterdir() if (p / "questions.yaml").is_file() and p.name not in SETS)
    parser.add_argument("--set", choices=("all", *SETS, *extra), default="all",
                        help="all = the held-out sets and dev; or one folder of assistant_eval/")
    parser.add_argument("--verbose", action="store_true", help="print every failure and offence")
    args = parser.parse_args()
    names = SETS if args.set == "all" else (args.set,)
    try:
        server, label = setup("bench-eval-")
    except Exception as exc:  # the stack failed to start: the one case that is not exit 0
        print(f"bench_assistant_eval: the stack did not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    try:
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print(f"endpoint: {label}; provider: {settings.LLM_PROVIDER}; "
              f"market data: {settings.MARKET_DATA_PROVIDER}")
        print("knowledge: synced with the sync_kb command (S3 upload, then indexed synchronously by it)")
        summary = {}
        for name in names:
            kb_set = load_set(name)
            try:
                run = run_set(kb_set, verbose=args.verbose)
            except Exception as exc:  # sync_kb failing is the stack not working
                print(f"bench_assistant_eval: {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                return 1
            summary[name] = print_set(name, kb_set, run)
        if len(summary) > 1:
            print("\nsummary")
            print(f"  {'set':<9} {'grounded':>14} {'correct':>14} {'offences':>9} "
                  f"{'median ms':>10} {'p95 ms':>8}")
            for name, s in summary.items():
                print(f"  {name:<9} {s['grounded']:>4}/{s['n']:<3} {100 * s['grounded'] / s['n']:>5.1f}% "
                      f"{s['correct']:>4}/{s['n']:<3} {100 * s['correct'] / s['n']:>5.1f}% "
                      f"{s['offences']:>9} "
                      f"{s['median_ms']:>10.1f} {s['p95_ms']:>8.1f}")
    finally:
        from monitoring import metrics

        metrics.shutdown(timeout=1.0)  # its last flush, while the emulator still answers
        if server:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
