"""Verify Amazon SNS HTTP(S) messages before trusting them (signature versions 1 and 2).

https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html:
the certificate must come from an SNS host over https, the signature must match the canonical string of the
message's fields, and the topic must be ours. Certificates are cached by URL.
"""

import base64
import re
import threading
import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
MAX_AGE = timedelta(hours=1)
_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"),
}
_HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
_certs: dict[str, x509.Certificate] = {}
_lock = threading.Lock()


class SignatureInvalid(Exception):
    """The message is not a genuine SNS message for our topic."""


def is_sns_url(url: str) -> bool:
    parts = urlsplit(url or "")
    return parts.scheme == "https" and bool(SNS_HOST.match(parts.hostname or ""))


def trust_certificate(url: str, pem: bytes) -> None:
    """Pin the certificate served at ``url`` (tests pin one they made; production fetches from SNS)."""
    with _lock:
        _certs[url] = x509.load_pem_x509_certificate(pem)


def _certificate(url: str) -> x509.Certificate:
    if not is_sns_url(url) or not urlsplit(url).path.endswith(".pem"):
        raise SignatureInvalid(f"certificate URL {url!r} is not an https SNS .pem URL")
    with _lock:
        cert = _certs.get(url)
    if cert is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:  # noqa: S310 (https, SNS host checked above)
                cert = x509.load_pem_x509_certificate(resp.read())
        except (OSError, ValueError) as exc:  # unreachable, 404, not a certificate: nothing to trust
            raise SignatureInvalid(f"certificate {url!r} could not be loaded: {exc}") from exc
        with _lock:
            _certs[url] = cert
    return cert


def canonical_string(message: dict) -> bytes:
    fields = _FIELDS.get(message.get("Type", ""))
    if fields is None:
        raise SignatureInvalid(f"unknown SNS message type {message.get('Type')!r}")
    out = []
    for name in fields:
        if name in message and message[name] is not None:
            out.append(f"{name}\n{message[name]}\n")
        elif name != "Subject":
            raise SignatureInvalid(f"SNS message lacks {name}")
    return "".join(out).encode()


def verify(message: dict, *, topic_arns: set[str], now: datetime | None = None) -> None:
    """Raise SignatureInvalid unless ``message`` is a genuine, fresh SNS message from one of ``topic_arns``."""
    if not isinstance(message, dict):
        raise SignatureInvalid("not an SNS message")
    if message.get("TopicArn") not in topic_arns:
        raise SignatureInvalid(f"topic {message.get('TopicArn')!r} is not ours")
    algorithm = _HASHES.get(str(message.get("SignatureVersion", "")))
    if algorithm is None:
        raise SignatureInvalid(f"unsupported SignatureVersion {message.get('SignatureVersion')!r}")
    try:
        signature = base64.b64decode(message.get("Signature") or "", validate=True)
        sent = datetime.fromisoformat(str(message.get("Timestamp", "")).replace("Z", "+00:00"))
    except ValueError:
        raise SignatureInvalid("malformed Signature or Timestamp") from None
    if not signature:
        raise SignatureInvalid("unsigned message")
    if abs((now or datetime.now(UTC)) - sent) > MAX_AGE:
        raise SignatureInvalid("message timestamp is too old or in the future")
    cert = _certificate(message.get("SigningCertURL", ""))
    try:
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):  # SNS signs with RSA; any other key is not SNS's
            raise SignatureInvalid("the signing certificate's key is not RSA")
        key.verify(signature, canonical_string(message), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise SignatureInvalid("signature does not match the message") from None
