"""Console sign-in through the trust's identity provider (OpenID Connect), beside passwords.

Mounted only when OIDC_ISSUER is set. The flow's state, nonce and PKCE verifier travel in a
short-lived signed cookie, so no server-side session store is needed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from api.console.pages import render, safe_next, set_cookie
from api.deps import SessionDep, SettingsDep
from api.staff import auth as staff_auth
from api.staff import oidc, sso

router = APIRouter(prefix="/console/login/oidc", include_in_schema=False)


def _refused(request: Request, exc: oidc.SignInRefused) -> HTMLResponse:
    response = render(request, "oidc_refused.html", {"message": str(exc), "user": None},
                     exc.status_code)
    response.delete_cookie(oidc.FLOW_COOKIE, path=router.prefix)
    return response


@router.get("")
def start(request: Request, settings: SettingsDep, next: str = ""):
    try:
        # A long `next` would make the flow cookie too big to keep: then go to the queue.
        url, cookie = oidc.start(settings=settings,
                                 next_url=safe_next(next if len(next) <= 300 else ""))
    except oidc.SignInRefused as exc:
        return _refused(request, exc)
    response = RedirectResponse(url, status.HTTP_303_SEE_OTHER)
    # SameSite=Lax, not Strict: the provider sends the browser back to the callback from its
    # own site, and a Strict cookie would be withheld from that navigation.
    response.set_cookie(oidc.FLOW_COOKIE, cookie, max_age=oidc.FLOW_MAX_AGE, httponly=True,
                        samesite="lax", path=router.prefix,
                        secure=request.url.scheme == "https"
                        or settings.public_base_url.startswith("https://"))
    return response


@router.get("/callback", response_class=HTMLResponse)
def callback(request: Request, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    try:
        identity, next_url = oidc.finish(settings=settings,
                                         cookie=request.cookies.get(oidc.FLOW_COOKIE),
                                         query=request.query_params)
        user = sso.sign_in(session=session, settings=settings, identity=identity)
    except oidc.SignInRefused as exc:
        session.commit()  # the refusal's audit event
        return _refused(request, exc)
    session.commit()
    # A page that moves on by itself, not a redirect: this request came from the provider's
    # site, and browsers treat a redirect chain that started cross-site as cross-site, so the
    # next page would not get the SameSite=Strict session cookie set here.
    target = safe_next(next_url)
    response = render(request, "oidc_signed_in.html", {"next": target, "user": None})
    set_cookie(request, settings, response, staff_auth.SESSION_COOKIE,
                staff_auth.issue_session(settings=settings, user=user),
                staff_auth.SESSION_MAX_AGE)
    response.delete_cookie(oidc.FLOW_COOKIE, path=router.prefix)
    return response
