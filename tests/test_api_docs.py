"""The API's documentation pages work offline: /docs (Swagger UI) and /redoc load every asset
from the API itself, never from a CDN."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from meeting_storage import MeetingStorage
from tests.test_api import make_client

EXPECTED_TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
}


class _AssetLinks(HTMLParser):
    """The URLs a page makes the browser fetch: <script src>, <link href>, <img src>."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


@pytest.fixture
def anonymous(moto_storage: MeetingStorage) -> Iterator[TestClient]:
    """The pages need no token: a browser opening /docs sends none."""
    with make_client(moto_storage) as client:
        client.headers.pop("Authorization")
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_the_api_itself(anonymous: TestClient, page: str) -> None:
    response = anonymous.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "://" not in response.text  # no absolute URL: nothing from another origin
    parser = _AssetLinks()
    parser.feed(response.text)
    scripts = [url for url in parser.urls if url.endswith(".js")]
    assert scripts and any(url.endswith(".png") for url in parser.urls)
    if page == "/docs":
        assert any(url.endswith(".css") for url in parser.urls)

    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//"), url
        asset = anonymous.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        content_type = asset.headers["content-type"].split(";")[0]
        assert content_type in EXPECTED_TYPES[suffix], (url, content_type)
        assert len(asset.content) > 1000, url


def test_swagger_ui_reads_the_api_s_own_openapi_document(anonymous: TestClient) -> None:
    page = anonymous.get("/docs").text
    assert "url: '/openapi.json'" in page
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "meeting-storage"
