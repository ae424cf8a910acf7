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


def _caller(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Caller:
    if credentials is None or not credentials.credentials:
        raise AuthenticationFailed("expected an Authorization: Bearer <API key> header, got none")
    raw = credentials.credentials
    container = container_of(request)
    key_hash = hash_api_key(raw)
    cached = container.callers.get(key_hash)
    if cached is not None:
        return cached

    def lookup(tx: MoneyTx) -> Caller:
        return authenticate(tx, raw)

    caller = container.store.run(lookup, write=False)
    container.callers.put(key_hash, caller)
    return caller


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
