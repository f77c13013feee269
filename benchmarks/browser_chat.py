"""The chat in a real browser, as a new user would use it (Playwright driving Debian's Chromium).

    .venv/bin/pip install playwright && apt-get install chromium      # once; no browser download needed
    .venv/bin/python benchmarks/browser_chat.py [--chromium /usr/bin/chromium] [--screenshots var/browser]

Starts its own emulator and web server on free ports (a scratch database), logs in, asks "What is AAPL stock
price?" and watches the answer stream in with its price and as-of time, asks "compare it with MSFT over the last
year", asks what a Sharpe ratio is (the answer cites the knowledge document), reloads and checks the whole
history is there. Exits non-zero on the first failed check.
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "browser-check-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:  # refused, reset, or an HTTP error while starting
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds:g} s")


def prepare_environment(scratch: Path, emulator_url: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "stocktool.settings.base", "AWS_ENDPOINT_URL": emulator_url,
           "DATABASE_URL": f"sqlite:///{scratch / 'browser.sqlite3'}", "SECRET_KEY": "browser-check-only",
           "DEBUG": "false", "SECURE_COOKIES": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost",
           "LLM_PROVIDER": "local", "LOG_LEVEL": "WARNING", "DEMO_PASSWORD": PASSWORD}
    for name in ("S3_BUCKET_NAME", "DYNAMODB_TABLE_CONVERSATIONS", "DYNAMODB_TABLE_CACHE",
                 "DYNAMODB_TABLE_DJANGO_CACHE", "SQS_QUEUE_ANALYSIS", "SQS_QUEUE_ANALYSIS_DLQ", "SQS_QUEUE_EVENTS",
                 "SNS_TOPIC_NOTIFICATIONS"):
        env[name] = "browser-" + name.lower().replace("_", "-")
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "prepare", "--wait", "30"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return env


def check(condition, what: str) -> None:
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


def ask(page, question: str, shots: Path | None, name: str) -> tuple[str, float, bool]:
    """Type and send; return the final answer's text, ms to its first visible text, and whether it streamed."""
    answers = page.locator("article.msg-assistant")
    before = answers.count()
    page.fill("#message", question)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => { const a = document.querySelectorAll('article.msg-assistant'); "
        "return a.length > n && a[a.length - 1].querySelector('.msg-body').textContent.length > 0; }",
        arg=before, timeout=10_000)
    first_text = (time.perf_counter() - started) * 1000
    streamed = page.locator("article.msg-assistant.streaming").count() > 0 or \
        page.locator("article.msg-assistant .tool").count() > 0
    page.wait_for_function("() => !document.querySelector('article.msg-assistant.streaming')", timeout=10_000)
    if shots:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    return answers.nth(before).inner_text(), first_text, streamed


def run(chromium: str, shots: Path | None) -> None:
    from playwright.sync_api import sync_playwright

    from stocktool.aws.emulator import Emulator

    scratch = Path(tempfile.mkdtemp(prefix="stocktool-browser-"))
    emulator = Emulator(free_port(), log_path=str(scratch / "moto.log"))
    emulator_url = emulator.start()
    web = None
    try:
        env = prepare_environment(scratch, emulator_url)
        port = free_port()
        web = subprocess.Popen([str(ROOT / ".venv" / "bin" / "uvicorn"), "stocktool.asgi:application", "--host",
                                "127.0.0.1", "--port", str(port), "--lifespan", "off", "--no-access-log"],
                               cwd=ROOT, env=env)
        site = f"http://127.0.0.1:{port}"
        wait_for(site + "/health")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(site + "/")
            check("/accounts/login/" in page.url, "the chat asks for a login first")
            page.fill("#id_username", env.get("DEMO_USERNAME", "demo"))
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("#message")
            check(page.locator("label[for=message]").count() == 1, "logged in: the question box has a label")

            text, first, streamed = ask(page, "What is AAPL stock price?", shots, "1-price")
            check(streamed, "the answer streamed in (tools shown while it was written)")
            check(re.search(r"AAPL last traded at \$\d+\.\d\d", text), "the answer gives AAPL's price")
            check(re.search(r"as of \d{4}-\d\d-\d\d \d\d:\d\d UTC", text), "... with its as-of time")
            check(page.locator("article.msg-assistant figure.card svg").count() >= 1, "... and a quote card with a chart")
            check(first < 2000, f"first text after {first:.0f} ms")
            check(re.search(r"/chat/[0-9a-f]{32}/$", page.url), "the page moved to the new conversation's URL")

            text, _, _ = ask(page, "compare it with MSFT over the last year", shots, "2-compare")
            check("MSFT" in text and "AAPL" in text and "did best" in text, "the follow-up compared AAPL (it) with MSFT")
            check(page.locator("article.msg-assistant").last.locator(".legend").count() == 1, "... on one chart")

            text, _, _ = ask(page, "what is a Sharpe ratio?", shots, "3-sharpe")
            check("risk-adjusted return" in text and "Sharpe ratio" in text, "the Sharpe ratio is explained")
            check(page.locator("article.msg-assistant").last.locator("cite", has_text="Sharpe ratio").count() == 1
                  or "Source: Sharpe ratio" in text, "... citing the knowledge document")

            page.reload()
            page.wait_for_selector("article.msg-assistant")
            history = page.locator("#messages").inner_text()
            check(page.locator("article.msg").count() == 6, "after a reload all six messages are there")
            for piece in ("What is AAPL stock price?", "compare it with MSFT over the last year",
                          "what is a Sharpe ratio?", "did best", "risk-adjusted return"):
                check(piece in history, f"... including {piece!r}")
            check(page.locator("#conversation-list a[aria-current=page]").count() == 1, "the list marks this chat")
            if shots:
                page.screenshot(path=str(shots / "4-reloaded.png"), full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.screenshot(path=str(shots / "5-phone.png"), full_page=False)
            browser.close()
        print("browser check passed")
    finally:
        if web:
            web.terminate()
            web.wait(10)
        emulator.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--screenshots", type=Path, default=None)
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        raise SystemExit(f"no browser at {args.chromium}: apt-get install chromium")
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    run(args.chromium, args.screenshots)


if __name__ == "__main__":
    main()
