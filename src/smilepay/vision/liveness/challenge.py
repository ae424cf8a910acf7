"""Drawing a challenge, and the chance that a fixed recording answers one.

Challenges are drawn with ``secrets`` (a CSPRNG), never ``random``. The verifier is strict:
during a step, any *other* deliberate action (smile, turn, open mouth) fails the step, so a
fixed recording answers at most the challenges whose deliberate actions come in the order
the recording shows. Blinks are involuntary and tolerated everywhere; a recording is assumed
to blink whenever it likes, so a blink step is free for the attacker. ``replay_pass_chance``
is the exact worst case over recordings under that model, before any timing check (timing
only lowers it).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise, product

from smilepay.errors import InvalidInput
from smilepay.vision.liveness.types import Action, Challenge, ChallengePolicy

INVOLUNTARY = frozenset({Action.BLINK})


def validate_policy(policy: ChallengePolicy) -> None:
    if policy.steps < 1:
        raise InvalidInput(f"expected at least 1 challenge step, got {policy.steps}")
    if len(set(policy.actions)) != len(policy.actions) or len(policy.actions) < 2:
        raise InvalidInput(f"expected 2 or more distinct actions, got {policy.actions}")
    if policy.step_timeout_ms < 500:
        raise InvalidInput(f"expected step_timeout_ms >= 500, got {policy.step_timeout_ms}")


def draw_challenge(policy: ChallengePolicy, nonce: str, now_ms: int) -> Challenge:
    """A fresh random challenge for ``nonce`` (payment or enrolment id), issued at ``now_ms``."""
    validate_policy(policy)
    if not nonce:
        raise InvalidInput("expected a non-empty nonce (payment or enrolment id), got ''")
    steps: list[Action] = []
    for _ in range(policy.steps):
        choices = [a for a in policy.actions if policy.allow_repeats or not steps or a != steps[-1]]
        steps.append(choices[secrets.randbelow(len(choices))])
    expires = now_ms + policy.steps * policy.step_timeout_ms + policy.slack_ms
    return Challenge(nonce=nonce, steps=tuple(steps), issued_at_ms=now_ms,
                     step_timeout_ms=policy.step_timeout_ms, expires_at_ms=expires)


def possible_sequences(policy: ChallengePolicy) -> Iterator[tuple[Action, ...]]:
    """Every sequence ``draw_challenge`` can return, each equally likely."""
    for seq in product(policy.actions, repeat=policy.steps):
        if policy.allow_repeats or all(a != b for a, b in pairwise(seq)):
            yield seq


def count_sequences(policy: ChallengePolicy) -> int:
    """m * (m-1)^(k-1) without repeats, m^k with."""
    m, k = len(policy.actions), policy.steps
    return int(m**k if policy.allow_repeats else m * (m - 1) ** (k - 1))


def deliberate_pattern(steps: tuple[Action, ...]) -> tuple[Action, ...]:
    """The order of deliberate actions a recording must show to answer ``steps``."""
    return tuple(a for a in steps if a not in INVOLUNTARY)


def replay_pass_chance(policy: ChallengePolicy) -> float:
    """Worst-case chance that one fixed recording answers a random challenge.

    The best recording for an attacker shows the most frequent deliberate pattern (and
    blinks freely), so the chance is (sequences sharing that pattern) / (all sequences).
    """
    validate_policy(policy)
    counts = Counter(deliberate_pattern(seq) for seq in possible_sequences(policy))
    return max(counts.values()) / count_sequences(policy)
