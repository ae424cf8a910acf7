"""The pages and their static files: served from the package, allow-listed, locked down."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smilepay.api.routes_pages import PAGES, STATIC_FILES, router


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.include_router(router)
    return TestClient(app)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_is_served_with_a_strict_content_policy(client: TestClient, page: str) -> None:
    r = client.get(f"/{page}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = r.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "http" not in policy  # no CDN anywhere
    assert "<script src=\"/static/api.js\"></script>" in r.text
    for ref in ('src="http', "src='http", 'href="http', "cdn"):
        assert ref not in r.text.lower()


@pytest.mark.parametrize("name", sorted(STATIC_FILES))
def test_every_listed_static_file_exists_and_loads_nothing_from_elsewhere(
    client: TestClient, name: str
) -> None:
    r = client.get(f"/static/{name}")
    assert r.status_code == 200, name
    assert "https://" not in r.text and "cdn." not in r.text


def test_files_off_the_list_are_not_served(client: TestClient) -> None:
    for name in ("../routes_pages.py", "__init__.py", "kiosk.html", "%2e%2e%2fconfig.py"):
        assert client.get(f"/static/{name}").status_code == 404


def test_every_script_a_page_loads_is_on_the_list(client: TestClient) -> None:
    import re

    for page in PAGES:
        for src in re.findall(r'src="/static/([^"]+)"', client.get(f"/{page}").text):
            assert src in STATIC_FILES, (page, src)
