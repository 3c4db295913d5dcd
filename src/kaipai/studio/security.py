"""Who may talk to the studio: whoever holds the token printed by ``kaipai studio``.

The studio can change the film and spend money on generation, so every request needs the
token. The browser shows it once in the URL (``?token=``); the studio swaps it for a
same-site cookie and redirects to the clean URL. Requests that change something must
also carry it in the ``X-Kaipai-Token`` header, which a page on another site cannot set, so
a hostile page cannot make the director's browser post a form to the studio (CSRF).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

HEADER = "X-Kaipai-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def new_token() -> str:
    return secrets.token_urlsafe(24)


def cookie_name(token: str) -> str:
    """One cookie per studio (by a fingerprint of its token), so two studios on one machine never clash."""
    return "kaipai_" + hashlib.sha256(token.encode()).hexdigest()[:10]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class TokenGuard:
    """ASGI middleware: refuse any request without the studio's token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.cookie = cookie_name(token)

    def _matches(self, value: str | None) -> bool:
        return bool(value) and secrets.compare_digest(value.encode(), self.token.encode())  # type: ignore[union-attr]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self.check(request)
        if response is not None:
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def check(self, request: Request) -> Response | None:
        """None when the request may go on, else the refusal (or the cookie-setting redirect)."""
        header = request.headers.get(HEADER)
        if request.method not in SAFE_METHODS:
            if self._matches(header):
                return None
            return PlainTextResponse(
                f"this request changes the project and needs the {HEADER} header; use the studio page", status_code=403
            )
        if self._matches(header) or self._matches(request.cookies.get(self.cookie)):
            return None
        if self._matches(request.query_params.get("token")):
            clean = request.url.remove_query_params("token")
            target = clean.path + (f"?{clean.query}" if clean.query else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(self.cookie, self.token, httponly=True, samesite="strict", path="/")
            return redirect
        return PlainTextResponse(
            "the studio needs its access token: open the URL that 'kaipai studio' printed", status_code=401
        )
