"""The API's reference pages, /docs (Swagger UI) and /redoc (ReDoc), served whole by the app.

FastAPI's own pages load their JavaScript and CSS from a CDN (and ReDoc's fonts from Google),
so on a trust network without internet they were blank. The assets here come from the
installed `fastapi-offline` package, a pinned dependency, and nothing on either page reaches
beyond this origin. `api.main` includes this router only when `settings.serve_api_docs`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

OPENAPI_URL = "/openapi.json"
ASSETS_URL = "/docs/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
               "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
TITLE = "Rebook API"

router = APIRouter(include_in_schema=False)


def _policy(script_hash: str = "") -> str:
    # Scripts: this origin, plus Swagger UI's one inline start-up script by its hash. Styles:
    # both UIs set style attributes and inject <style> elements at run time, which no hash can
    # name. ReDoc runs its search index in a worker built from a blob.
    scripts = f"'self' '{script_hash}'" if script_hash else "'self'"
    return (f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
            "connect-src 'self'; frame-ancestors 'none'; form-action 'self'")


def _inline_script_hash(html: str) -> str:
    inline = re.search(r"<script>(.*?)</script>", html, re.DOTALL)
    if inline is None:
        return ""
    digest = hashlib.sha256(inline.group(1).encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


def _page(response: HTMLResponse, script_hash: str = "") -> HTMLResponse:
    response.headers["Content-Security-Policy"] = _policy(script_hash)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    response = get_swagger_ui_html(
        openapi_url=OPENAPI_URL, title=f"{TITLE} - Swagger UI", oauth2_redirect_url=None,
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        # Swagger UI would otherwise send the schema to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None})
    return _page(response, _inline_script_hash(response.body.decode()))


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    return _page(get_redoc_html(
        openapi_url=OPENAPI_URL, title=f"{TITLE} - ReDoc",
        redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS_URL}/favicon.png", with_google_fonts=False))


@router.get(ASSETS_URL + "/{name}")
def asset(name: str) -> FileResponse:
    # A fixed list, not a mounted directory: nothing else of the package is served.
    if name not in ASSET_TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name],
                        headers={"Cache-Control": "max-age=3600"})
