"""Issue 11, point 8: live mode refuses to start without its secrets, and a server that is not
in live mode refuses live keys (so no live customer's number is ever encrypted with the
development key that ships in the source)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smilepay.bootstrap import LiveSecretsMissing, build_container
from smilepay.config import Settings
from smilepay.domain.tenants import KeyKind, Scope
from smilepay.services.phones import DEV_ONLY_MASTER_KEY
from smilepay.services.seed import seed_merchant
from smilepay.services.tenants import issue_api_key

REAL_KEY = base64.b64encode(os.urandom(32)).decode()


def test_live_mode_without_a_phone_key_does_not_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    with pytest.raises(LiveSecretsMissing, match="SMILEPAY_PHONE_KEY"):
        build_container(url, settings=Settings(live=True, phone_key=""))
    dev = base64.b64encode(DEV_ONLY_MASTER_KEY).decode()
    with pytest.raises(LiveSecretsMissing, match="SMILEPAY_PHONE_KEY"):
        build_container(url, settings=Settings(live=True, phone_key=dev))
    with pytest.raises(LiveSecretsMissing, match="SMILEPAY_PHONE_KEY"):
        build_container(url, settings=Settings(live=True, phone_key="c2hvcnQ="))  # 5 bytes
    with pytest.raises(LiveSecretsMissing, match="ALLOW_LOOPBACK"):
        build_container(url, settings=Settings(live=True, phone_key=REAL_KEY,
                                               webhooks_allow_loopback=True))
    built = build_container(url, settings=Settings(live=True, phone_key=REAL_KEY))
    assert built.live and not built.ctx.phones.is_dev_key
    built.close()


def test_the_app_factory_stops_without_the_live_secrets(tmp_path: Path) -> None:
    """The app factory ``smilepay serve`` runs, with SMILEPAY_LIVE=true and no phone key in
    the environment, stops naming the missing secret (and so never serves)."""
    env = {**os.environ, "SMILEPAY_LIVE": "true", "SMILEPAY_PHONE_KEY": "",
           "SMILEPAY_VAR_DIR": str(tmp_path), "SMILEPAY_DATABASE_URL":
           f"sqlite:///{tmp_path / 'live.db'}"}
    code = ("from smilepay.api.app import create_app\n"
            "create_app()\n")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert run.returncode != 0
    assert "LiveSecretsMissing" in run.stderr and "SMILEPAY_PHONE_KEY" in run.stderr


def test_a_test_mode_server_refuses_live_keys(tmp_path: Path) -> None:
    from smilepay.api.app import create_app

    container = build_container(f"sqlite:///{tmp_path / 'test.db'}",
                                settings=Settings(live=False))
    live = seed_merchant(container.store, container.ctx, "Live shop", livemode=True)
    client = TestClient(create_app(container))
    refused = client.post("/v1/customers", json={"phone": "+4915100000009"},
                          headers={"Authorization": f"Bearer {live.secret_key}"})
    assert refused.status_code == 401, refused.text
    assert "SMILEPAY_LIVE" in refused.json()["error"]["message"]
    terminal_key = container.store.run(lambda tx: issue_api_key(
        tx, Scope(live.scope.tenant_id, True), KeyKind.SECRET, 0).raw)
    assert client.get("/v1/face/terminal", headers={
        "Authorization": f"Bearer {terminal_key}"}).status_code == 401
    test_shop = seed_merchant(container.store, container.ctx, "Test shop")
    assert client.get("/v1/customers", headers={
        "Authorization": f"Bearer {test_shop.secret_key}"}).status_code == 200
    container.close()


def test_a_live_server_with_its_secrets_serves_live_keys(tmp_path: Path) -> None:
    from smilepay.api.app import create_app

    container = build_container(f"sqlite:///{tmp_path / 'live.db'}",
                                settings=Settings(live=True, phone_key=REAL_KEY))
    live = seed_merchant(container.store, container.ctx, "Live shop", livemode=True)
    client = TestClient(create_app(container))
    made = client.post("/v1/customers", json={"phone": "+4915100000010"},
                       headers={"Authorization": f"Bearer {live.secret_key}"})
    assert made.status_code == 200 and made.json()["livemode"] is True
    container.close()
