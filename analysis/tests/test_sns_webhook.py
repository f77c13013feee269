"""The SNS webhook trusts only messages signed for our topic with an SNS certificate (v1 and v2)."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from channels.layers import get_channel_layer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from stocktool.aws import get_sns_service
from stocktool.aws.sns_verify import canonical_string, trust_certificate

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"


def _key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


TRUSTED_KEY, TRUSTED_PEM = _key_and_cert()
OTHER_KEY, _ = _key_and_cert()


def _sign(message: dict, key=TRUSTED_KEY, version="2") -> dict:
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
    message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
    signature = key.sign(canonical_string(message), padding.PKCS1v15(), algorithm)
    return {**message, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
def webhook(aws, settings):
    settings.SNS_WEBHOOK_ENABLED = True
    trust_certificate(CERT_URL, TRUSTED_PEM)
    return get_sns_service().topic_arn


def _notification(topic, body=None, **extra):
    return {"Type": "Notification", "MessageId": "m-1", "TopicArn": topic, "Subject": "Analysis Ready",
            "Message": json.dumps(body or {"event_type": "analysis_finished", "user_id": "7", "analysis_id": "a-1",
                                           "status": "succeeded"}),
            "Timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"), **extra}


def _post(client, message):
    return client.post("/sns/webhook", json.dumps(message), content_type="text/plain; charset=UTF-8")


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_signed_notification_is_accepted_and_pushed_to_the_users_pages(client, webhook, version):
    layer = get_channel_layer()
    from asgiref.sync import async_to_sync

    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("user-7", channel)
    resp = _post(client, _sign(_notification(webhook), version=version))
    assert resp.status_code == 200, resp.content
    assert resp.json() == {"status": "accepted", "outcome": "pushed"}
    event = async_to_sync(layer.receive)(channel)
    assert event["payload"] == {"type": "analysis_finished", "analysis_id": "a-1", "status": "succeeded"}


def test_a_message_signed_with_another_key_is_refused(client, webhook):
    resp = _post(client, _sign(_notification(webhook), key=OTHER_KEY))
    assert resp.status_code == 403 and "signature" in resp.json()["error"]


def test_an_altered_message_is_refused(client, webhook):
    signed = _sign(_notification(webhook))
    signed["Message"] = signed["Message"].replace('"7"', '"8"')
    assert _post(client, signed).status_code == 403


def test_an_unsigned_message_is_refused(client, webhook):
    message = _sign(_notification(webhook))
    del message["Signature"]
    assert _post(client, message).status_code == 403


@pytest.mark.parametrize("url", [
    "http://sns.us-east-1.amazonaws.com/cert.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
    "https://example.com/SimpleNotificationService.pem",
])
def test_a_certificate_from_anywhere_but_sns_over_https_is_refused(client, webhook, url):
    message = _sign(_notification(webhook))
    message["SigningCertURL"] = url
    resp = _post(client, message)
    assert resp.status_code == 403 and "certificate URL" in resp.json()["error"]


def test_another_topic_is_refused_even_when_signed(client, webhook):
    other = webhook.rsplit(":", 1)[0] + ":someone-else"
    resp = _post(client, _sign(_notification(other)))
    assert resp.status_code == 403 and "topic" in resp.json()["error"]


def test_an_old_message_is_refused(client, webhook):
    old = (datetime.now(UTC) - timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    assert _post(client, _sign(_notification(webhook, Timestamp=old))).status_code == 403


def test_a_confirmation_pointing_outside_sns_is_refused(client, webhook):
    message = {"Type": "SubscriptionConfirmation", "MessageId": "c-1", "TopicArn": webhook, "Token": "t",
               "Message": "confirm", "SubscribeURL": "https://evil.example/confirm",
               "Timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    resp = _post(client, _sign(message))
    assert resp.status_code == 403 and "SubscribeURL" in resp.json()["error"]


def test_the_webhook_is_off_unless_enabled(client, aws, settings):
    settings.SNS_WEBHOOK_ENABLED = False
    assert client.post("/sns/webhook", "{}", content_type="application/json").status_code == 404
