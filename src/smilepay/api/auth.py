"""Authentication dependencies, reusable by every router.

``require_secret_key``: a merchant server's ``sk_`` key. ``require_terminal_key``: a kiosk's
``tk_`` key, or a secret key (a server may act for its terminals). Both give a ``Caller``.
Use ``container_of(request)`` to reach the composition root's objects.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from smilepay.bootstrap import Container
from smilepay.domain.money_errors import AuthenticationFailed, PermissionDenied
from smilepay.domain.tenants import KeyKind, hash_api_key
from smilepay.ports.money import MoneyTx
from smilepay.services.tenants import Caller, authenticate

bearer = HTTPBearer(auto_error=False, description="An API key: sk_test_..., tk_live_...")


def container_of(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


WALLET_PREFIX = "ws_"


def check_credential(container: Container, token: str) -> Caller | None:
    """The caller an API key opens (None for a live wallet session token); raises
    ``AuthenticationFailed`` for anything else. Run by the edge middleware before any body is
    read (``api.edge``), and again (from its cache) by the route's own dependency."""
    if token.startswith(WALLET_PREFIX):
        from smilepay.adapters.sql.identity_store import SqlIdentityStore

        found = SqlIdentityStore(container.store.engine).find_wallet_session(
            hash_api_key(token))  # = services.enrol.hash_token
        if found is None or found.expires_at_ms < container.ctx.clock.now_ms():
            raise AuthenticationFailed(
                "expected a live wallet session, got an unknown or old one")
        if found.scope.livemode and not container.live:
            raise AuthenticationFailed("expected a test-mode wallet session: this server does "
                                       "not serve live mode (SMILEPAY_LIVE is off)")
        return None
    return lookup_caller(container, token)


def lookup_caller(container: Container, raw: str) -> Caller:
    key_hash = hash_api_key(raw)
    cached = container.callers.get(key_hash)
    if cached is not None:
        return cached

    def lookup(tx: MoneyTx) -> Caller:
        return authenticate(tx, raw)

    caller = container.store.run(lookup, write=False)
    if caller.scope.livemode and not container.live:
        raise AuthenticationFailed("expected a test key: this server does not serve live mode "
                                   "(SMILEPAY_LIVE is off, see docs/security.md)")
    container.callers.put(key_hash, caller)
    return caller


def _caller(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    if credentials is None or not credentials.credentials:
        raise AuthenticationFailed("expected an Authorization: Bearer <API key> header, got none")
    raw = credentials.credentials
    checked = request.scope.get("state", {}).get("smilepay_credential")
    if checked is not None and checked[0] == raw and isinstance(checked[1], Caller):
        return checked[1]  # the edge checked this key moments ago (api.edge)
    if raw.startswith(WALLET_PREFIX):
        raise AuthenticationFailed("expected an API key (sk_... or tk_...), got a wallet session")
    return lookup_caller(container_of(request), raw)


def require_terminal_key(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Caller:
    return _caller(request, credentials)


def require_secret_key(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Caller:
    caller = _caller(request, credentials)
    if caller.key_kind is not KeyKind.SECRET:
        raise PermissionDenied("expected a secret key (sk_...) for this call, got a terminal key")
    return caller
