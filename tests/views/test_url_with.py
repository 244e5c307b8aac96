"""Links that keep the page's query (pagination, filters) treat every visitor's argument as data."""
from __future__ import annotations

from tests.helpers import soup


def test_special_looking_query_keys_are_kept_as_query_data(client):
    response = client.get("/search?q=计量&_scheme=x&_external=1&_anchor=y")
    assert response.status_code == 200
    links = [a["href"] for a in soup(response).select("a[href]")]
    assert not any(link.startswith(("x:", "http://localhost")) for link in links)
    kept = [link for link in links if link.startswith("/search?")]
    assert kept and all("_scheme=x" in link for link in kept if "q=" in link)
