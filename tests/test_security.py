"""Production security: the deploy check, response headers, secure cookies, a CSP pages live with, and no secret in
any log line."""

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from analysis.models import AnalysisJob
from conversations.tests.fake_openai import FakeOpenAI, text_chunks
from stocktool.aws.session import client as aws_client
from stocktool.aws.session import reset_clients
from stocktool.security import REDACTED, RedactingStreamHandler

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "a-long-password-1"
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "SECURE_SSL_REDIRECT": "true",
              "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"}


def _production_run(*args, **env) -> subprocess.CompletedProcess:
    """Run manage.py with the base settings and only ``env`` (plus PATH): what a deployment sets."""
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "stocktool.settings.base",
             "AWS_CONFIG_FILE": "/nonexistent/aws-config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-creds",
             **PRODUCTION, **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=120)


def test_the_deploy_check_passes_with_production_settings():
    run = _production_run("check", "--deploy", "--fail-level", "WARNING")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_production_defaults_are_secure():
    code = ("from django.conf import settings as s; import json; print(json.dumps([s.SESSION_COOKIE_SECURE, "
            "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS, "
            "s.SECURE_PROXY_SSL_HEADER]))")
    run = _production_run("shell", "-c", code, SECURE_SSL_REDIRECT="", SECURE_HSTS_PRELOAD="")
    assert json.loads(run.stdout.strip().splitlines()[-1]) == [True, True, True, "Lax", 31_536_000, None], run.stderr
    behind_proxy = _production_run("shell", "-c", code, TRUST_X_FORWARDED_PROTO="true")
    assert json.loads(behind_proxy.stdout.strip().splitlines()[-1])[-1] == ["HTTP_X_FORWARDED_PROTO", "https"]
    debug = _production_run("shell", "-c", code, DEBUG="true", SECURE_SSL_REDIRECT="", SECURE_HSTS_PRELOAD="")
    assert json.loads(debug.stdout.strip().splitlines()[-1])[:2] == [False, False]  # plain http for `make run`
    assert json.loads(debug.stdout.strip().splitlines()[-1])[4] == 0


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password=PASSWORD, pk=secrets.randbelow(10**9) + 10**6)


@pytest.mark.django_db
@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True, SECURE_HSTS_SECONDS=31_536_000,
                   SECURE_HSTS_INCLUDE_SUBDOMAINS=True)
def test_responses_carry_the_security_headers_and_secure_cookies(alice):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/", secure=True)
    assert page.status_code == 200
    assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Frame-Options"] == "DENY"
    assert page["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "default-src 'self'" in page["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    csrf = page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["samesite"] == "Lax"
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD,
                                                 "csrfmiddlewaretoken": csrf.value}, secure=True,
                            headers={"Referer": "https://testserver/accounts/login/"})  # checked over https
    assert signed_in.status_code == 302
    session = signed_in.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert "Secure" in session.output() and "HttpOnly" in session.output() and "SameSite=Lax" in session.output()


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_to_https_when_asked():
    response = Client().get("/accounts/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/accounts/login/"


def _nonce(response) -> str:
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)


@pytest.mark.django_db
def test_every_page_lives_with_the_policy(aws, alice, django_user_model):
    """Each script is a same-origin file or carries this response's nonce; no style or script from elsewhere."""
    staff = django_user_model.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True,
                                                  pk=secrets.randbelow(10**9) + 10**6)
    job = AnalysisJob.objects.create(user=staff, symbols=["AAPL"])
    client = Client()
    client.force_login(staff)
    pages = ["/", "/analysis/", f"/analysis/{job.pk}/", "/monitoring/", "/api/docs/", "/admin/",
             "/admin/knowledge/knowledgedocument/", "/admin/analysis/analysisjob/", "/api/conversations"]
    nonces = set()
    for url in pages:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        nonce = _nonce(response)
        nonces.add(nonce)
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            data_block = 'type="application/json"' in tag  # never run, so outside the policy
            assert 'src="/' in tag or f'nonce="{nonce}"' in tag or data_block, (url, tag)
        assert not re.search(r"<(script|link)\b[^>]*(src|href)=\"(https?:)?//", html), url
    assert 'nonce="' in client.get(f"/analysis/{job.pk}/").content.decode()  # the page with an inline script
    assert len(nonces) == len(pages)  # a new nonce every response


# --- No secret in any log line ------------------------------------------------------------------------------
SECRETS = {name: f"{name.lower()}-{secrets.token_hex(12)}" for name in
           ("SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "OPENAI_API_KEY", "ALPHAVANTAGE_API_KEY",
            "DEMO_PASSWORD")}


class _EchoingAlphaVantage(BaseHTTPRequestHandler):
    """An Alpha Vantage that repeats the request (with its apikey) in its error, as some APIs do."""

    def do_GET(self):
        body = json.dumps({"Error Message": f"Invalid API call: {self.path}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echoing_alphavantage():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingAlphaVantage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def all_logs():
    """Every logger at DEBUG into the configured console handler, whose stream is swapped for a buffer."""
    handlers = {h for lg in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
                if isinstance(lg, logging.Logger) for h in lg.handlers}
    ours = [h for h in handlers if type(h).__module__.split(".")[0] != "_pytest" and not isinstance(h, logging.NullHandler)]
    assert ours and all(isinstance(h, RedactingStreamHandler) for h in ours), ours  # nothing writes unmasked
    buffer, levels = io.StringIO(), {}
    for name in ["", *logging.Logger.manager.loggerDict]:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.DEBUG)
    old_streams = [(h, h.setStream(buffer)) for h in ours]
    try:
        yield buffer
    finally:
        for h, stream in old_streams:
            h.setStream(stream)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.django_db
def test_no_secret_reaches_the_logs(aws, alice, django_user_model, all_logs, echoing_alphavantage,
                                    django_capture_on_commit_callbacks):
    with FakeOpenAI() as fake, override_settings(
            **SECRETS, LLM_PROVIDER="openai", OPENAI_BASE_URL=fake.url, OPENAI_MAX_RETRIES=0,
            MARKET_DATA_PROVIDER="alphavantage", ALPHAVANTAGE_BASE_URL=echoing_alphavantage):
        reset_clients()  # boto3 sessions built from now on carry the secret key and session token
        try:
            _everything_that_logs(fake, alice, django_user_model, django_capture_on_commit_callbacks)
        finally:
            reset_clients()
    lines = all_logs.getvalue()
    assert "botocore" in lines and "django.request" in lines  # the capture saw the AWS SDK and the requests
    assert REDACTED in lines  # and the masking had work to do (botocore shows the session token header)
    for name, value in SECRETS.items():
        assert value not in lines, f"{name} is in the logs"


def _everything_that_logs(fake, alice, django_user_model, capture_on_commit):
    django_user_model.objects.create_user("demo", password=settings.DEMO_PASSWORD)
    # A failed log in, then one with the demo password.
    client = Client()
    assert client.post("/accounts/login/", {"username": "demo", "password": "wrong-password"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "demo", "password": settings.DEMO_PASSWORD}).status_code == 302
    # A chat turn (the model first refuses the key and says it back, as OpenAI's 401 does), then one that works.
    key = settings.OPENAI_API_KEY
    fake.script = [{"status": 401, "json": {"error": {"message": f"Incorrect API key provided: {key}"}}},
                   {"chunks": text_chunks("An ETF ", "is a fund.")}]
    api = Client(headers={"Authorization": f"Token {Token.objects.create(user=alice).key}"})
    assert api.post("/api/chat", {"message": "What is an ETF?"}, content_type="application/json").status_code == 502
    assert api.post("/api/chat", {"message": "What is an ETF?"}, content_type="application/json").status_code == 200
    # API errors: bad input, someone else's (or no) conversation.
    assert api.post("/api/chat", {"message": ""}, content_type="application/json").status_code == 400
    assert api.get("/api/conversations/" + "0" * 32).status_code == 404
    # An analysis, run by the (eager) worker: the market data provider echoes its key in the error.
    with capture_on_commit(execute=True):
        started = api.post("/api/analysis", {"symbols": ["ZQXJ"]}, content_type="application/json")
    assert started.status_code == 202
    assert AnalysisJob.objects.get(pk=started.json()["id"]).status == AnalysisJob.Status.FAILED
    # A failing AWS call.
    with pytest.raises(ClientError):
        aws_client("s3").head_object(Bucket=settings.S3_BUCKET_NAME, Key="no-such-object")
