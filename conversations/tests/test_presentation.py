"""Messages as the page and the WebSocket's final render show them: citations link to the document."""

import pytest

from conversations.presentation import done_message, message_html

SHARPE = {"kind": "knowledge", "title": "Sharpe ratio", "heading": "How to read it", "key": "kb/sharpe.md",
          "version_id": "v1", "url": "/knowledge/7/#passage-2"}
QUOTE = {"kind": "market_data", "title": "demo market data", "source": "demo",
         "as_of": "2026-01-02T20:00:00Z", "demo": True, "symbols": ["AAPL"]}


def _html(*sources) -> str:
    return message_html({"id": "2026-01-02T20:00:00.000000Z#00abc", "role": "assistant",
                         "content": "A measure of return per unit of risk.", "sources": list(sources)})


def test_a_knowledge_source_links_to_its_passage_and_shows_open():
    html = _html(SHARPE)
    assert ('Knowledge base: <a href="/knowledge/7/#passage-2"><cite>Sharpe ratio</cite></a> (How to read it)'
            in html)
    assert '<details class="sources" open>' in html


def test_market_data_sources_stay_folded():
    html = _html(QUOTE)
    assert '<details class="sources">' in html and "Market data: demo" in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://evil.example/", "//evil.example/x",
                                 "/\\evil.example", "/\t/evil.example", "", None])
def test_a_source_url_that_is_not_a_path_here_is_not_a_link(url):
    html = _html({**SHARPE, "url": url})
    assert "<a " not in html and "evil" not in html and "javascript" not in html
    assert "Knowledge base: <cite>Sharpe ratio</cite> (How to read it)" in html


def test_titles_and_urls_are_escaped():
    html = _html({**SHARPE, "title": "<script>x()</script>", "url": '/knowledge/7/?a="><script>'})
    assert "<script>" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert 'href="/knowledge/7/?a=&quot;&gt;&lt;script&gt;"' in html


def test_the_streamed_answer_is_rendered_by_the_same_template():
    html = message_html(done_message({"message_id": "m1", "answer": "Sharpe.", "sources": [SHARPE]}))
    assert '<a href="/knowledge/7/#passage-2"><cite>Sharpe ratio</cite></a>' in html
