"""Issue 11, point 4: one-time codes are tried and used atomically in the database, and
sign-ups are rate-limited per phone number and per terminal (SMS bombing).

The attacks: 30 parallel wrong codes on one sign-up were all checked (limit 5); one correct
code used 10 times in parallel opened 6 wallet sessions; 20 sign-ups for one number in 0.08 s.
Both engines, through the HTTP API, with real threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from facepay_support import FaceApp
from flow_support import bearer, build_flow_app, second_terminal

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def app(money_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaceApp]:
    built = build_flow_app(money_url, tmp_path_factory.mktemp("codes"))
    yield built
    built.close()


def signup(app: FaceApp, phone: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else app.as_terminal()
    r = app.client.post("/v1/face/signups", json={"phone": phone}, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def verify_in_parallel(app: FaceApp, signup_id: str, codes: list[str]) -> list[dict[str, object]]:
    def one(code: str) -> dict[str, object]:
        r = app.client.post(f"/v1/face/signups/{signup_id}/verify", json={"code": code},
                            headers=app.as_terminal())
        return {"status": r.status_code, **r.json()}

    with ThreadPoolExecutor(max_workers=len(codes)) as pool:
        return list(pool.map(one, codes))


def stored_attempts(app: FaceApp, signup_id: str) -> int:
    from smilepay.adapters.sql.identity_schema import signup_codes

    with app.container.store.engine.connect() as conn:
        return int(conn.execute(select(signup_codes.c.attempts)
                                .where(signup_codes.c.id == signup_id)).scalar_one())


def test_thirty_parallel_wrong_codes_check_at_most_the_limit(app: FaceApp) -> None:
    from smilepay.domain.identity import OTP_MAX_ATTEMPTS

    made = signup(app, "+4915100000201")
    wrong = f"{(int(made['test_code']) + 1) % 10**6:06d}"
    answers = verify_in_parallel(app, made["id"], [wrong] * 30)
    reasons = [str(a["error"]) for a in answers]
    assert all(a["status"] != 200 for a in answers)
    checked = [r for r in reasons if "got a wrong code" in r]  # the others were not checked
    assert len(checked) <= OTP_MAX_ATTEMPTS, reasons
    assert stored_attempts(app, made["id"]) == OTP_MAX_ATTEMPTS
    late = verify_in_parallel(app, made["id"], [made["test_code"]])  # the right code, too late
    assert late[0]["status"] != 200 and "too many" in str(late[0]["error"])


def test_one_correct_code_used_ten_times_in_parallel_opens_one_wallet_session(
    app: FaceApp,
) -> None:
    from smilepay.adapters.sql.identity_schema import wallet_sessions

    made = signup(app, "+4915100000202")
    answers = verify_in_parallel(app, made["id"], [made["test_code"]] * 10)
    opened = [a for a in answers if a["status"] == 200]
    assert len(opened) == 1, answers
    assert "customer" not in opened[0]  # the terminal gets the wallet session, not the id
    wallet = app.client.get("/v1/face/wallet", headers=bearer(str(opened[0]["session_token"])))
    with app.container.store.engine.connect() as conn:
        sessions = conn.execute(select(func.count()).select_from(wallet_sessions).where(
            wallet_sessions.c.customer_id == wallet.json()["customer"]["id"])).scalar_one()
    assert sessions == 1
    for refused in (a for a in answers if a["status"] != 200):  # used, or past the tries
        assert "used" in str(refused["error"]) or "too many" in str(refused["error"]), refused


def test_sign_ups_are_limited_per_number_and_per_terminal(app: FaceApp) -> None:
    phone = "+4915100000203"
    answers = [app.client.post("/v1/face/signups", json={"phone": phone},
                               headers=app.as_terminal()) for _ in range(20)]
    sent = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(sent) == 3, [a.text for a in answers]  # 3 codes per number in 15 minutes
    assert {a.status_code for a in refused} == {429}
    assert refused[0].json()["error"]["code"] == "rate_limited"
    app.clock.now += 16 * 60_000  # the window has passed: one more code may go
    assert app.client.post("/v1/face/signups", json={"phone": phone},
                           headers=app.as_terminal()).status_code == 200

    _, key = second_terminal(app, "Sign-up desk")
    codes = [app.client.post("/v1/face/signups", json={"phone": f"+49151000100{i:02d}"},
                             headers={"Authorization": f"Bearer {key}"}) for i in range(62)]
    assert [c.status_code for c in codes].count(200) == 60  # 60 codes per terminal an hour
    assert codes[-1].status_code == 429 and codes[-1].json()["error"]["code"] == "rate_limited"
