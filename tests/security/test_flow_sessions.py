"""Issue 11, points 2 and 11: a face or enrolment session belongs to the terminal (or wallet
session) that opened it, and sessions cannot be flooded.

The attacks: another terminal of the same merchant, a wallet token or the secret key posted
frames into a kiosk's session (terminal 2 answered terminal 1's challenge and confirmed it);
2,000 enrolment sessions from one wallet token in 7.6 s, rows left open. Both engines, through
the HTTP API (the ownership checks answer before any frame is analysed).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from facepay_support import FaceApp, jpeg
from flow_support import bearer, build_flow_app, consent, new_payment, second_terminal, wallet_of

pytestmark = pytest.mark.integration
FRAME = {"Content-Type": "image/jpeg"}


@pytest.fixture(scope="module")
def app(money_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaceApp]:
    from smilepay.domain.risk import FlowRateLimits

    built = build_flow_app(money_url, tmp_path_factory.mktemp("sessions"),
                           rate_limits=FlowRateLimits(sessions_per_terminal=((60_000, 5),)))
    yield built
    built.close()


def a_frame() -> bytes:
    import numpy as np

    return jpeg(np.full((480, 640, 3), 90, np.uint8))


def open_rows(app: FaceApp, **where: str) -> int:
    from smilepay.adapters.sql.identity_schema import face_challenges as t

    query = select(func.count()).select_from(t).where(t.c.state == "open")
    for column, value in where.items():
        query = query.where(t.c.__getattr__(column) == value)
    with app.container.store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_a_kiosk_session_answers_only_its_own_terminal(app: FaceApp) -> None:
    _, other_key = second_terminal(app)
    _, token = wallet_of(app, "+4915100000301")
    pi = new_payment(app)
    session = app.client.post("/v1/face/payments", json={"payment_intent": pi["id"]},
                              headers=app.as_terminal())
    assert session.status_code == 200, session.text
    sid = session.json()["id"]
    for intruder in (bearer(other_key), bearer(token), app.as_merchant()):
        frame = app.client.post(f"/v1/face/sessions/{sid}/frames", content=a_frame(),
                                headers={**intruder, **FRAME})
        assert frame.status_code == 404, frame.text
        assert frame.json()["error"]["code"] == "not_found"
        confirm = app.client.post(f"/v1/face/payments/{sid}/confirm", json={"phone": "5678"},
                                  headers=intruder)
        assert confirm.status_code in (401, 404), confirm.text  # a wallet token: not a key
    mine = app.client.post(f"/v1/face/payments/{sid}/confirm", json={"phone": "5678"},
                           headers=app.as_terminal())
    assert mine.status_code == 200 and mine.json()["reason"] == "challenge_not_passed"


def test_an_enrolment_session_answers_only_its_own_wallet_session(app: FaceApp) -> None:
    _, token = wallet_of(app, "+4915100000302")
    consent(app, token)
    _, stranger = wallet_of(app, "+4915100000303")
    r = app.client.post("/v1/face/signups", json={"phone": "+4915100000302"},
                        headers=app.as_terminal())  # the same customer, signed in again
    again = app.client.post(f"/v1/face/signups/{r.json()['id']}/verify",
                            json={"code": r.json()["test_code"]}, headers=app.as_terminal())
    second_session = again.json()["session_token"]
    session = app.client.post("/v1/face/enrolments", headers=bearer(token))
    assert session.status_code == 200, session.text
    sid = session.json()["id"]
    for intruder in (bearer(stranger), bearer(second_session), app.as_terminal(),
                     app.as_merchant()):
        frame = app.client.post(f"/v1/face/sessions/{sid}/frames", content=a_frame(),
                                headers={**intruder, **FRAME})
        assert frame.status_code == 404, frame.text
    for intruder in (bearer(stranger), bearer(second_session)):
        done = app.client.post(f"/v1/face/enrolments/{sid}/complete", headers=intruder)
        assert done.status_code == 404, done.text
    mine = app.client.post(f"/v1/face/enrolments/{sid}/complete", headers=bearer(token))
    assert mine.status_code == 400 and "passed enrolment challenge" in mine.text


def test_enrolment_sessions_cannot_be_flooded_from_one_wallet(app: FaceApp) -> None:
    customer, token = wallet_of(app, "+4915100000304")
    consent(app, token)
    answers = [app.client.post("/v1/face/enrolments", headers=bearer(token)).status_code
               for _ in range(30)]
    assert answers.count(200) == 20 and answers[20:] == [429] * 10  # 20 per 10 minutes
    assert open_rows(app, subject_id=customer, purpose="enrol") <= 2  # older ones superseded
    app.clock.now += 11 * 60_000
    assert app.client.post("/v1/face/enrolments", headers=bearer(token)).status_code == 200
    assert open_rows(app, subject_id=customer, purpose="enrol") == 1  # the rest expired


def test_kiosk_sessions_are_capped_and_limited_per_terminal(app: FaceApp) -> None:
    app.clock.now += 2 * 60_000  # a fresh minute for this terminal
    statuses = []
    for _ in range(3):
        pi = new_payment(app)
        statuses += [app.client.post("/v1/face/payments", json={"payment_intent": pi["id"]},
                                     headers=app.as_terminal()).status_code for _ in range(2)]
    assert statuses == [200] * 5 + [429]  # 5 a minute in this test's policy
    assert open_rows(app, terminal_id=app.keys.terminal_id, purpose="pay") <= 2
