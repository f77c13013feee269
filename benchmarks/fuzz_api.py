"""Fuzz every API operation against the OpenAPI schema with schemathesis, deeper than the test suite does.

    python benchmarks/fuzz_api.py                                  # its own stack, 100 examples an operation
    python benchmarks/fuzz_api.py --max-examples 500 --seed 7
    python benchmarks/fuzz_api.py --url http://127.0.0.1:8000 --token ...   # a running app, as a user

Without --url it starts the stack load_test.py starts (embedded moto server, fresh SQLite database under
var/fuzz/<run>/, uvicorn with the events consumer, one Celery worker), with the chat rate limit raised so the
chat is fuzzed rather than refused, and a normal user to fuzz as; everything it started is stopped at the end.
All of schemathesis's phases (examples, coverage, fuzzing, stateful) and checks run, as in
tests/test_api_schema_fuzz.py (both use tests/schemafuzz.py). It prints the operations, cases and failures,
each failure with a curl line to reproduce it; the exit status is 1 when anything failed.

The same with the CLI against a running app, without the per-operation expectations of tests/schemafuzz.py:
st run http://127.0.0.1:8000/api/schema/?format=json -H "Authorization: Token ..." --max-examples 100
"""

import argparse
import os
import secrets
import signal
import sys
import time
from argparse import Namespace
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests.schemafuzz import fuzz, fuzz_config, load_schema  # noqa: E402


def own_stack(run_dir: Path):
    """Start load_test.py's stack with a fuzzing user; return (stack, url, the user's API token)."""
    from load_test import Stack

    os.environ["CHAT_RATE_LIMIT"] = "100000/min"  # one user sending hundreds of messages a minute
    options = Namespace(proxy=False, outage=0, users=0, worker_concurrency=1, outage_mode="refuse")
    stack = Stack(run_dir, options)
    stack.start()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("fuzzer", password=secrets.token_urlsafe(16))
    return stack, stack.web_url, Token.objects.create(user=user).key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start one)")
    parser.add_argument("--token", default=os.environ.get("FUZZ_API_TOKEN", ""),
                        help="with --url: a normal user's API token (fast), or --user and --password")
    parser.add_argument("--user", default=os.environ.get("DEMO_USERNAME", "demo"), help="with --url")
    parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", ""), help="with --url")
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=None, help="default: a new one, printed")
    parser.add_argument("--workers", type=int, default=1, help="operations fuzzed side by side")
    parser.add_argument("--no-stateful", action="store_true", help="skip the stateful (linked calls) phase")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    stack = None
    try:
        if args.url:
            if not (args.token or args.password):
                parser.error("--url needs --token (or FUZZ_API_TOKEN), or --password (or DEMO_PASSWORD)")
            url, auth = args.url, args.token or (args.user, args.password)
        else:
            run_dir = ROOT / "var" / "fuzz" / datetime.now().strftime("%Y%m%d-%H%M%S")
            run_dir.mkdir(parents=True, exist_ok=True)
            stack, url, auth = own_stack(run_dir)
            print(f"stack on {url}; logs in {run_dir}", flush=True)
        config = fuzz_config(auth=auth, max_examples=args.max_examples, seed=seed, workers=args.workers,
                             stateful=not args.no_stateful)
        started = time.monotonic()
        result = fuzz(load_schema(url, auth=auth, config=config))
        seconds = time.monotonic() - started
        print(result.report() if result.failures else "")
        print(f"fuzz_api: {result.summary()} in {seconds:.0f} s (seed {seed}, {args.max_examples} examples, "
              f"load average {os.getloadavg()[0]:.2f}, {url})")
        return 1 if result.failures else 0
    except KeyboardInterrupt:
        return 130
    finally:
        if stack:
            stack.stop()


if __name__ == "__main__":
    sys.exit(main())
