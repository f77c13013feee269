import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from stocktool.settings.env import env_bool, env_int, env_url

ROOT = Path(__file__).resolve().parent.parent


def _settings_with(**env):
    """Import the base settings in a fresh interpreter with ``env``; return (returncode, stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "DYNAMODB_", "SQS_", "SNS_"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "stocktool.settings.base", "DEBUG": "true", **env})
    code = "import django; django.setup(); from django.conf import settings; print(settings.AWS_ENDPOINT_URL, settings.CELERY_BROKER_URL)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True)
    return run.returncode, run.stdout.strip(), run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""


@pytest.mark.parametrize("raw,expected", [("true", True), ("1", True), ("off", False), ("No", False), ("", True)])
def test_booleans_parse(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", True) is expected


def test_a_bad_boolean_names_its_variable(monkeypatch):
    monkeypatch.setenv("S3_ENABLED", "maybe")
    with pytest.raises(ImproperlyConfigured, match="S3_ENABLED"):
        env_bool("S3_ENABLED", True)


def test_bad_numbers_and_urls_name_their_variable(monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "lots")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "localhost:4566")
    with pytest.raises(ImproperlyConfigured, match="AWS_MAX_ATTEMPTS"):
        env_int("AWS_MAX_ATTEMPTS", 3)
    with pytest.raises(ImproperlyConfigured, match="AWS_ENDPOINT_URL"):
        env_url("AWS_ENDPOINT_URL")


def test_start_up_fails_on_a_bad_flag_with_its_name():
    code, _, err = _settings_with(SQS_ENABLED="perhaps")
    assert code != 0
    assert "SQS_ENABLED" in err


def test_secret_key_is_required_when_debug_is_off():
    code, _, err = _settings_with(DEBUG="false", SECRET_KEY="")
    assert code != 0 and "SECRET_KEY" in err


def test_the_default_is_the_embedded_emulator():
    code, out, _ = _settings_with()
    assert code == 0
    assert out == "http://127.0.0.1:4566 sqs://test:test@127.0.0.1:4566"


def test_use_localstack_false_with_no_endpoint_targets_real_aws():
    code, out, _ = _settings_with(USE_LOCALSTACK="false")
    assert code == 0
    assert out == "None sqs://"


def test_an_explicit_endpoint_wins():
    code, out, _ = _settings_with(AWS_ENDPOINT_URL="http://localstack:4566")
    assert code == 0
    assert out == "http://localstack:4566 sqs://test:test@localstack:4566"
