"""Reading a long conversation a page at a time, from DynamoDB (the emulator) and from the in-memory store."""

import uuid

import pytest
from django.conf import settings

from conversations import selectors
from conversations.store import ConversationReads, MemoryConversationStore

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["dynamodb", "memory"])
def new_store(request):
    """A store for each read (as each request gets one), over one table or one memory."""
    if request.param == "memory":
        memory = MemoryConversationStore()
        return lambda: memory
    request.getfixturevalue("aws")
    return lambda: ConversationReads(settings.DYNAMODB_TABLE_CONVERSATIONS)


def _conversation(store, user, count: int) -> str:
    conversation_id = uuid.uuid4().hex
    messages = [{"role": "user" if i % 2 else "assistant", "content": f"message {i}"}
                for i in range(1, count + 1)]
    store.put_conversation(conversation_id, messages, user_id=str(user.pk), title="long")
    return conversation_id


def _page(new_store, user, conversation_id, before=None):
    header, messages, earlier = selectors.conversation_page_for_user(
        user=user, conversation_id=conversation_id, limit=3, before=before, store=new_store())
    return [m["content"] for m in messages], earlier


def test_a_long_conversation_reads_back_a_page_at_a_time(new_store, user):
    conversation_id = _conversation(new_store(), user, 7)
    pages, before = [], None
    while True:
        contents, before = _page(new_store, user, conversation_id, before)
        pages.append(contents)
        if before is None:
            break
    assert pages == [["message 5", "message 6", "message 7"], ["message 2", "message 3", "message 4"],
                     ["message 1"]]


def test_a_conversation_that_fits_on_a_page_has_no_earlier_page(new_store, user):
    conversation_id = _conversation(new_store(), user, 3)
    assert _page(new_store, user, conversation_id) == (["message 1", "message 2", "message 3"], None)
    conversation_id = _conversation(new_store(), user, 6)
    _, before = _page(new_store, user, conversation_id)
    assert _page(new_store, user, conversation_id, before) == (["message 1", "message 2", "message 3"], None)


def test_paging_is_only_for_the_owner_and_only_by_message_id(new_store, user, other):
    conversation_id = _conversation(new_store(), user, 7)
    _, before = _page(new_store, user, conversation_id)
    assert selectors.conversation_page_for_user(user=other, conversation_id=conversation_id, before=before,
                                                store=new_store()) is None
    for bad in ("#meta", "", "2026-01-01", "x" * 300):
        with pytest.raises(ValueError):
            selectors.conversation_page_for_user(user=user, conversation_id=conversation_id, before=bad,
                                                 store=new_store())
