"""StockTool under load: people chatting, reading pages, starting analyses and curating documents.

Run through ``benchmarks/load_test.py`` (it starts the stack, makes the users and reads the results). The
environment it hands over:

- ``LOAD_USERS_FILE``: JSON list of {"username", "password", "sessionid", "staff"}; sessions are made up front
  (a PBKDF2 login costs ~0.5 s of CPU on this machine, which would swamp the first seconds of a 2-core run);
  ``LOAD_LOGIN=form`` logs each user in through the login form instead (session + CSRF).
- ``LOAD_RECORD_FILE``: every request as one JSON line {"t0", "t1", "name", "status", "ms", "error"}, and
  every acknowledged item {"kind": "chat" | "analysis" | "document", ...} for the verification step.
- ``LOAD_TIMEOUT``: seconds before a request counts as hung (client-side timeout).
- ``LOAD_WAIT``: "min,max" think time between a user's requests, in seconds.
"""

import itertools
import json
import os
import random
import secrets
import threading
import time
import uuid

from locust import HttpUser, between, events, task

with open(os.environ["LOAD_USERS_FILE"]) as _users:
    USERS = json.load(_users)
RECORD = open(os.environ["LOAD_RECORD_FILE"], "a", buffering=1)  # noqa: SIM115 (open for the whole run)
TIMEOUT = float(os.environ.get("LOAD_TIMEOUT", "60"))
WAIT = tuple(float(x) for x in os.environ.get("LOAD_WAIT", "1,4").split(","))
FORM_LOGIN = os.environ.get("LOAD_LOGIN", "session") == "form"

_lock = threading.Lock()
_staff = itertools.cycle([u for u in USERS if u["staff"]] or USERS)
_people = itertools.cycle([u for u in USERS if not u["staff"]] or USERS)

SYMBOLS = ["AAPL", "MSFT", "NVDA", "GOOGL", "AMZN", "META", "TSLA", "JPM", "V", "KO"]
TERMS = ["a Sharpe ratio", "value at risk", "beta", "volatility", "the P/E ratio", "maximum drawdown",
         "expected shortfall", "a dividend yield", "the Sortino ratio", "EV/EBITDA"]
FIRST = [
    "What is {a} stock price?",
    "What is {a} trading at?",
    "Compare {a}, {b} and {c} over the last year",
    "Compare {a} and {b} over 6 months",
    "What is {t}?",
    "Tell me about {a}",
    "Show me the price history of {a} for the last 3 months",
]
FOLLOW = [
    "And {a}?",
    "How has {a} done over the last year?",
    "What does {t} mean?",
    "Compare it with {b}",
    "What is {b} trading at now?",
    "Explain {t} in simple terms",
]


def write(entry: dict) -> None:
    line = json.dumps(entry, separators=(",", ":"))
    with _lock:
        RECORD.write(line + "\n")


@events.request.add_listener
def _record_request(request_type, name, response_time, response_length, response=None, exception=None,
                    start_time=None, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    t0 = start_time or (time.time() - response_time / 1000)
    entry = {"t0": round(t0, 4), "t1": round(t0 + response_time / 1000, 4), "name": name, "status": status,
             "ms": round(response_time, 2), "error": None if exception is None else type(exception).__name__}
    if status >= 400:  # what the failure said: a JSON error, a degraded page, or a crash
        entry["ctype"] = response.headers.get("Content-Type", "")
        entry["body"] = (response.text or "")[:300]
        try:
            entry["json_error"] = bool(response.json().get("error"))
        except (ValueError, AttributeError):
            entry["json_error"] = False
    write(entry)


def question(templates: list[str]) -> str:
    a, b, c = random.sample(SYMBOLS, 3)
    return random.choice(templates).format(a=a, b=b, c=c, t=random.choice(TERMS))


class StockToolUser(HttpUser):
    abstract = True
    wait_time = between(*WAIT)

    def on_start(self):
        with _lock:
            self.account = next(self.accounts)
        self.conversations: list[str] = []
        self.jobs: list[str] = []
        if FORM_LOGIN:
            self.client.get("/accounts/login/", name="GET /accounts/login/", timeout=TIMEOUT)
            self.csrf = self.client.cookies.get("csrftoken", "")
            self.client.post("/accounts/login/", name="POST /accounts/login/", timeout=TIMEOUT,
                             data={"username": self.account["username"], "password": self.account["password"],
                                   "csrfmiddlewaretoken": self.csrf}, allow_redirects=False)
            self.csrf = self.client.cookies.get("csrftoken", self.csrf)
        else:
            # Django accepts any 32-character secret as the CSRF cookie; the header must carry the same.
            self.csrf = secrets.token_hex(16)
            self.client.cookies.set("sessionid", self.account["sessionid"])
            self.client.cookies.set("csrftoken", self.csrf)

    def _headers(self) -> dict:
        return {"X-CSRFToken": self.csrf, "Referer": self.host + "/"}

    # --- chat -------------------------------------------------------------------------------------------
    def chat(self, conversation_id: str | None) -> None:
        body = {"message": question(FOLLOW if conversation_id else FIRST)}
        if conversation_id:
            body["conversation_id"] = conversation_id
        name = "POST /api/chat (follow-up)" if conversation_id else "POST /api/chat (new)"
        with self.client.post("/api/chat", json=body, headers=self._headers(), name=name, timeout=TIMEOUT,
                              catch_response=True) as resp:
            if 200 <= resp.status_code < 300:
                data = resp.json()
                write({"kind": "chat", "conversation_id": data["conversation_id"], "message_id": data["message_id"],
                       "user": self.account["username"], "t": time.time()})
                if not conversation_id:
                    self.conversations = (self.conversations + [data["conversation_id"]])[-5:]
            elif resp.status_code == 404 and conversation_id in self.conversations:
                self.conversations.remove(conversation_id)

    @task(3)
    def chat_new(self):
        self.chat(None)

    @task(5)
    def chat_follow_up(self):
        self.chat(random.choice(self.conversations) if self.conversations else None)

    # --- pages ------------------------------------------------------------------------------------------
    @task(2)
    def chat_page(self):
        self.client.get("/", name="GET / (chat page)", timeout=TIMEOUT)

    @task(2)
    def conversation_page(self):
        if self.conversations:
            self.client.get(f"/chat/{random.choice(self.conversations)}/", name="GET /chat/[id]/", timeout=TIMEOUT)

    @task(1)
    def analysis_list_page(self):
        self.client.get("/analysis/", name="GET /analysis/", timeout=TIMEOUT)

    @task(1)
    def analysis_page(self):
        if self.jobs:
            self.client.get(f"/analysis/{random.choice(self.jobs)}/", name="GET /analysis/[id]/", timeout=TIMEOUT)

    # --- analyses ---------------------------------------------------------------------------------------
    @task(1)
    def analysis_start(self):
        symbols = random.sample(SYMBOLS, random.randint(2, 3))
        body = {"symbols": symbols, "weights": [round(100 / len(symbols), 2)] * len(symbols),
                "analysis_type": random.choice(["risk_assessment", "performance", "correlation"]),
                "period": random.choice(["6mo", "1y"])}
        with self.client.post("/api/analysis", json=body, headers=self._headers(), name="POST /api/analysis",
                              timeout=TIMEOUT, catch_response=True) as resp:
            if resp.status_code == 202:
                job = resp.json()["id"]
                write({"kind": "analysis", "job_id": job, "user": self.account["username"], "t": time.time()})
                self.jobs = (self.jobs + [job])[-5:]


class ChatUser(StockToolUser):
    """Most people: chat, read their conversations, start an analysis now and then."""

    weight = 9
    accounts = _people


class CuratorUser(StockToolUser):
    """Staff: the same, plus knowledge document uploads through the admin (there is no upload API)."""

    weight = 1
    accounts = _staff

    @task(1)
    def document_upload(self):
        name = f"load-{uuid.uuid4().hex[:12]}.md"
        term = random.choice(TERMS)
        text = (f"# Load note {name}\n\nA short note on {term} written by the load test.\n\n"
                f"## Why it matters\n\n{term.capitalize()} helps compare {', '.join(random.sample(SYMBOLS, 3))}.\n")
        with self.client.post("/admin/knowledge/knowledgedocument/add/", name="POST /admin/knowledge (upload)",
                              data={"csrfmiddlewaretoken": self.csrf, "save_as": "", "title": "", "_save": "Save"},
                              files={"upload": (name, text.encode(), "text/markdown")},
                              headers={"Referer": self.host + "/admin/knowledge/knowledgedocument/add/"},
                              allow_redirects=False, timeout=TIMEOUT, catch_response=True) as resp:
            # The admin answers a stored upload with a redirect to the list; a form with errors is a 200.
            if resp.status_code == 302:
                write({"kind": "document", "key": f"knowledge/{name}", "user": self.account["username"],
                       "t": time.time()})
            elif resp.status_code == 200:
                resp.failure("the upload form came back (not stored)")
