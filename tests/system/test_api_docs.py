"""/docs and /redoc are served from the app's own assets, under a policy that allows nothing
beyond this origin (the browser test, tests/browser/test_api_docs_browser.py, renders them)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.conftest import clear_app_caches


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as client:
        yield client
    clear_app_caches()


def test_swagger_ui_uses_local_assets_and_allows_its_script_by_hash(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert not re.search(r"(src|href)=\"https?:", page.text)  # nothing from a CDN
    policy = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    inline = re.search(r"<script>(.*?)</script>", page.text, re.DOTALL).group(1)
    digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy
    assert '"validatorUrl": null' in page.text  # no schema sent to validator.swagger.io


def test_redoc_uses_local_assets_and_no_google_fonts(client):
    page = client.get("/redoc")
    assert page.status_code == 200
    assert "fonts.googleapis" not in page.text
    assert not re.search(r"(src|href)=\"https?:", page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]


@pytest.mark.parametrize("name,kind", [("swagger-ui-bundle.js", "text/javascript"),
                                       ("swagger-ui.css", "text/css"),
                                       ("redoc.standalone.js", "text/javascript"),
                                       ("favicon.png", "image/png")])
def test_assets_are_served(client, name, kind):
    asset = client.get(f"/docs/assets/{name}")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    assert len(asset.content) > 1000


def test_nothing_else_of_the_package_is_served(client):
    for name in ("core.py", "..%2F__init__.py", "consts.py"):
        assert client.get(f"/docs/assets/{name}").status_code == 404
