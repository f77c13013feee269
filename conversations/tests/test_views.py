"""The chat pages, as a browser without JavaScript uses them: log in, ask, read, continue, delete."""

import re
import uuid

import pytest
from django.urls import reverse

from conversations import selectors
from conversations.store import conversation_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, aws, knowledge_base, user):
    client.force_login(user)
    return client


def _conversation_id(response) -> str:
    return re.search(r"/chat/([0-9a-f]{32})/", response["Location"]).group(1)


def test_pages_need_a_login(client, aws):
    for url in ("/", "/chat/" + "a" * 32 + "/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_logging_in_leads_to_the_chat(client, aws, user):
    page = client.get("/accounts/login/")
    assert b'<label for="id_username">' in page.content and b"csrfmiddlewaretoken" in page.content
    response = client.post("/accounts/login/", {"username": "alice", "password": "a-long-password-1"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"New chat" in client.get("/").content


def test_a_plain_form_post_starts_a_conversation_and_shows_it(logged_in, user):
    response = logged_in.post("/", {"message": "What is AAPL stock price?"})
    assert response.status_code == 302 and response["Location"].endswith("#latest")
    page = logged_in.get(response["Location"].split("#")[0])
    html = page.content.decode()
    assert page.status_code == 200
    assert "What is AAPL stock price?" in html and "<strong>AAPL</strong> last traded at" in html
    assert "<svg" in html and 'role="img"' in html and "get_stock_quote" in html
    assert "as of" in html and "demo data" in html
    assert '<label for="message">' in html and 'role="log"' in html


def test_the_conversation_continues_and_keeps_its_history(logged_in, user):
    url = reverse("conversation", args=[_conversation_id(logged_in.post("/", {"message": "What is AAPL stock price?"}))])
    logged_in.post(url, {"message": "compare it with MSFT over the last year"})
    logged_in.post(url, {"message": "what is a Sharpe ratio?"})
    html = logged_in.get(url).content.decode()
    for text in ("What is AAPL stock price?", "compare it with MSFT over the last year", "did best",
                 "what is a Sharpe ratio?", "<cite>Sharpe ratio</cite>", "risk-adjusted return"):
        assert text in html
    assert html.count('class="msg msg-assistant"') == 3
    assert f'href="{url}"' in logged_in.get("/").content.decode()  # listed, titled by its first question


def test_the_list_shows_only_my_conversations(logged_in, client, user, other):
    logged_in.post("/", {"message": "What is an ETF?"})
    assert "What is an ETF?" in logged_in.get("/").content.decode()
    client.force_login(other)
    assert "What is an ETF?" not in client.get("/").content.decode()


@pytest.mark.parametrize("conversation_id", ["nope", "0" * 32, "%3Cscript%3E"])
def test_garbage_ids_are_404(logged_in, conversation_id):
    assert logged_in.get(f"/chat/{conversation_id}/").status_code == 404
    assert logged_in.post(f"/chat/{conversation_id}/", {"message": "hi"}).status_code == 404


def test_another_users_conversation_is_404_and_unchanged(logged_in, client, user, other):
    url = logged_in.post("/", {"message": "What is AAPL stock price?"})["Location"].split("#")[0]
    client.force_login(other)
    assert client.get(url).status_code == 404
    assert client.post(url, {"message": "hello"}).status_code == 404
    assert client.post(url + "delete/").status_code == 404
    conversation_id = url.rstrip("/").rsplit("/", 1)[1]
    assert len(selectors.conversation_messages_for_user(user=user, conversation_id=conversation_id)[1]) == 2


@pytest.mark.parametrize(("message", "error"), [
    ("", "The message is empty"), ("x" * 102_400, "102,400 characters long; the limit is 4,000"),
])
def test_bad_input_is_explained_and_nothing_is_stored(logged_in, user, message, error):
    response = logged_in.post("/", {"message": message})
    assert response.status_code == 400 and error in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert selectors.conversation_list_for_user(user=user)[0] == []


def test_script_in_a_question_is_shown_as_text(logged_in):
    url = logged_in.post("/", {"message": "<script>alert('x')</script> what is AAPL?"})["Location"].split("#")[0]
    html = logged_in.get(url).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_markdown_from_anywhere_is_sanitised():
    from conversations.rendering import markdown_html

    html = markdown_html("**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
                         "\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n<a href='/analysis/1/' onclick='x()'>job</a>")
    assert "<strong>bold</strong>" in html and "<table>" in html and "<td>1</td>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "onclick" not in html
    assert "<img" not in html and 'href="/analysis/1/"' in html


def test_deleting_a_conversation(logged_in, user):
    url = logged_in.post("/", {"message": "hello"})["Location"].split("#")[0]
    response = logged_in.post(url + "delete/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert logged_in.get(url).status_code == 404


def test_the_form_posts_need_csrf(aws, user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/", {"message": "hello"}).status_code == 403
    page = strict.get("/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert strict.post("/", {"message": "hello", "csrfmiddlewaretoken": token}).status_code == 302


FRIENDLY_404 = "This conversation does not exist or has expired (conversations are kept 24 hours)."


@pytest.mark.parametrize("debug", [True, False])
def test_an_unknown_or_deleted_conversation_is_a_friendly_404_page(logged_in, settings, debug):
    settings.DEBUG = debug
    deleted = logged_in.post("/", {"message": "hello"})["Location"].split("#")[0]
    logged_in.post(deleted + "delete/")
    for response in (logged_in.get(deleted), logged_in.get("/chat/" + "0" * 32 + "/"),
                     logged_in.get("/chat/nope/"), logged_in.post(deleted, {"message": "hi again"}),
                     logged_in.post(deleted + "delete/")):
        html = response.content.decode()
        assert response.status_code == 404 and FRIENDLY_404 in html
        assert 'href="/">Start a new chat</a>' in html and "Your conversations" in html
        assert "Page not found (404)" not in html and "Django" not in html


def test_a_knowledge_answer_links_its_citations_and_shows_them(logged_in):
    url = logged_in.post("/", {"message": "What is a Sharpe ratio?"})["Location"].split("#")[0]
    html = logged_in.get(url).content.decode()
    assert '<details class="sources" open>' in html
    assert re.search(r'Knowledge base: <a href="/knowledge/[^"]+"><cite>Sharpe ratio</cite></a>', html)


def test_without_javascript_the_help_is_true_and_the_examples_work(logged_in):
    html = logged_in.get("/").content.decode()
    # Enter only sends when chat.js runs (it un-hides this); without it, Enter is a new line in the box.
    assert '<span id="enter-help" hidden> Enter sends, Shift+Enter starts a new line.</span>' in html
    assert 'type="button"' not in html  # nothing on the page that only a script makes work
    link = re.search(r'<a class="button example" href="([^"]+)"[^>]*>What is a Sharpe ratio\?</a>', html)[1]
    assert link == "?q=What%20is%20a%20Sharpe%20ratio%3F#message"
    page = logged_in.get("/" + link.split("#")[0]).content.decode()
    assert re.search(r'<textarea id="message"[^>]*>What is a Sharpe ratio\?</textarea>', page)
    too_long = logged_in.get("/?q=" + "x" * 9000).content.decode()
    assert "x" * 4000 in too_long and "x" * 4001 not in too_long  # cut to CHAT_MAX_MESSAGE_CHARS


def _stored_conversation(user, count: int, title: str = "long") -> str:
    conversation_id = uuid.uuid4().hex
    messages = [{"role": "user" if i % 2 else "assistant", "content": f"message {i}."}
                for i in range(1, count + 1)]
    conversation_store().put_conversation(conversation_id, messages, user_id=str(user.pk), title=title)
    return conversation_id


def _shown(html: str) -> list[str]:
    return re.findall(r"message (\d+)\.", html)


def test_a_long_conversation_shows_its_latest_messages_and_pages_back(logged_in, user, monkeypatch):
    monkeypatch.setattr("conversations.views.PAGE_MESSAGES", 3)
    url = reverse("conversation", args=[_stored_conversation(user, 7)])
    html = logged_in.get(url).content.decode()
    assert _shown(html) == ["5", "6", "7"] and "Latest messages" not in html
    pages = []
    earlier = re.compile(r'<p id="earlier" class="page-link"><a href="(\?before=[^"]+)" rel="prev">Earlier '
                         r'messages</a></p>')
    while link := earlier.search(html):
        assert "%23" in link.group(1) and "#" not in link.group(1)  # the id's "#" does not end the address
        html = logged_in.get(url + link.group(1)).content.decode()
        assert f'href="{url}#latest">Latest messages</a>' in html and '<form id="chat-form"' in html
        pages.append(_shown(html))
    assert pages == [["2", "3", "4"], ["1"]]


def test_a_bad_before_shows_the_latest_messages(logged_in, user, monkeypatch):
    monkeypatch.setattr("conversations.views.PAGE_MESSAGES", 3)
    url = reverse("conversation", args=[_stored_conversation(user, 5)])
    for before in ("nonsense", "%23meta", "2026-01-01T00:00:00Z"):
        response = logged_in.get(f"{url}?before={before}")
        assert response.status_code == 200 and _shown(response.content.decode()) == ["3", "4", "5"]


def test_the_conversation_list_pages_with_a_more_link(logged_in, user, other, monkeypatch):
    monkeypatch.setattr("conversations.views.SIDEBAR_CONVERSATIONS", 2)
    for n in (1, 2, 3):
        _stored_conversation(user, 1, title=f"conversation number {n}")
    html = logged_in.get("/").content.decode()
    assert re.findall(r"conversation number (\d)", html) == ["3", "2"]
    assert "Most recent conversations" not in html
    more = re.search(r'<a href="(/\?page=[^"]+)" rel="next">More conversations</a>', html).group(1)
    html = logged_in.get(more.replace("&amp;", "&")).content.decode()
    assert re.findall(r"conversation number (\d)", html) == ["1"] and "More conversations" not in html
    assert '<a href="/">Most recent conversations</a>' in html
    for garbage in ("nonsense", "7", '{"user_id": {"S": "1"}}'):  # an edited cursor: the first page
        page = logged_in.get("/", {"page": garbage})
        assert page.status_code == 200 and "conversation number 3" in page.content.decode()
    logged_in.force_login(other)  # another user's cursor reads nothing of theirs
    assert "conversation number" not in logged_in.get(more.replace("&amp;", "&")).content.decode()
