"""Run schemathesis's engine (what `st run` runs) over the app's OpenAPI schema and sum up what it found.

Used by tests/test_api_schema_fuzz.py (a live test server, few examples) and benchmarks/fuzz_api.py (a running
app, many examples).
"""

from dataclasses import dataclass, field

import schemathesis
from schemathesis.engine import events, from_schema

SCHEMA_PATH = "/api/schema/?format=json"
# Rules JSON Schema cannot state, so a schema-valid request may still get its 400 here: an analysis's
# weights match its symbols one to one and its symbols are distinct ignoring case; a chat message holds
# printable text; a list cursor is one this API gave out. Anything else schema-valid must get 2xx, 401, 403,
# 404 or 429.
BEYOND_THE_SCHEMA = [("POST", "/api/analysis"), ("POST", "/api/chat"), ("GET", "/api/conversations")]


@dataclass
class FuzzResult:
    operations: int = 0
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)

    def summary(self) -> str:
        return f"{self.operations} operations, {self.cases} cases, {len(self.failures)} failures"

    def report(self) -> str:
        return "\n\n".join([self.summary(), *self.failures])


def fuzz_config(*, auth: tuple[str, str] | str, max_examples: int, seed: int, workers: int = 1,
                stateful: bool = True) -> schemathesis.Config:
    """``auth``: a normal user's name and password (basic auth) or API token. With the production password
    hasher every basic-auth request costs a PBKDF2 run (about 0.5 s here), a token one database read."""
    return schemathesis.Config.from_dict({
        "seed": seed,
        "workers": workers,
        "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {auth}"}}} if isinstance(auth, str)
        else {"basic": {"username": auth[0], "password": auth[1]}},
        "phases": {"stateful": {"enabled": stateful}},
        "cache": {"enabled": False},  # no .schemathesis/ folder in the working tree
        # NUL is refused by every text field (DRF's default), which the schema cannot say.
        "generation": {"max-examples": max_examples, "deterministic": True, "allow-x00": False},
        "operations": [{"include-path": "/api/schema/", "enabled": False}, *[{
            "include-method": method, "include-path": path,
            "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", 400, 401, 403, 404, 429]}},
        } for method, path in BEYOND_THE_SCHEMA]],
    })


def load_schema(base_url: str, *, auth: tuple[str, str] | str, config: schemathesis.Config):
    """The app's schema, read as ``auth`` (the schema view needs a login too)."""
    login = {"headers": {"Authorization": f"Token {auth}"}} if isinstance(auth, str) else {"auth": auth}
    url = base_url.rstrip("/") + SCHEMA_PATH
    return schemathesis.openapi.from_url(url, config=config, timeout=30, **login)


def fuzz(schema) -> FuzzResult:
    result = FuzzResult()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            result.labels.add(event.recorder.label)
            result.cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                result.failures += [_describe(event.recorder.label, check)
                                    for check in checks if check.failure_info]
        elif isinstance(event, events.NonFatalError):
            result.failures.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    result.operations = len({label for label in result.labels if label.split(" ", 1)[0].isupper()})
    return result


def _describe(label: str, check) -> str:
    info = check.failure_info
    return f"{label} [{check.name}] {info.failure.title}: {info.failure.message}\n{info.code_sample}"
