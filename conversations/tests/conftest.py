import secrets
from pathlib import Path

import pytest
from django.conf import settings

from conversations.assistant.engine.resolve import resolve_memo


@pytest.fixture
def knowledge_base(db):
    """The starter knowledge documents, indexed (straight from disk: the index is what the assistant reads)."""
    from knowledge.services import document_index_bytes

    for path in sorted(Path(settings.KNOWLEDGE_DIR).glob("*.md")):
        document_index_bytes(key=f"{settings.KNOWLEDGE_PREFIX}{path.name}", data=path.read_bytes())


@pytest.fixture(autouse=True)
def fresh_resolve_memo():
    resolve_memo.clear()
    yield
    resolve_memo.clear()


def _unique_pk() -> int:
    # DynamoDB outlives each test's database transaction: a fresh id keeps earlier tests' conversations apart.
    return secrets.randbelow(10**9) + 10**6


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="a-long-password-1", pk=_unique_pk())


@pytest.fixture
def other(django_user_model):
    return django_user_model.objects.create_user("mallory", password="a-long-password-2", pk=_unique_pk())


@pytest.fixture
def chat(aws, knowledge_base, user):
    """Send a message through the service as ``user``: chat("...", conversation_id=...) -> result."""
    from conversations.services import chat_send

    def send(message, conversation_id=None, who=None):
        return chat_send(user=who or user, message=message, conversation_id=conversation_id)

    return send
