"""Django's own error pages: the site's HTML outside /api/, JSON under it."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_the_sites_404(client):
    response = client.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in html and 'href="/">Go to the chat</a>' in html
    assert "Skip to content" in html  # base.html's layout


def test_an_unknown_api_path_is_json(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.json() == {"error": "Not found."}
