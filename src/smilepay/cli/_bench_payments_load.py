"""A closed-loop HTTP load generator (httpx, asyncio) for a fixed time, with latencies."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

RequestFactory = Callable[[int], tuple[str, dict[str, Any], dict[str, str]]]


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def per_s(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0


async def _drive(base_url: str, make: RequestFactory, concurrency: int, duration_s: float,
                 warmup_s: float, tick: Callable[[float], None]) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    counter = 0
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:
        start = time.perf_counter()
        measure_from = start + warmup_s
        stop_at = measure_from + duration_s

        async def worker() -> None:
            nonlocal counter
            while (now := time.perf_counter()) < stop_at:
                counter += 1
                path, body, headers = make(counter)
                sent = time.perf_counter()
                try:
                    response = await client.post(path, json=body, headers=headers)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                done = time.perf_counter()
                if sent < measure_from:
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status == 200:
                    result.ok += 1
                    result.latencies_s.append(done - sent)
                else:
                    result.errors += 1
                tick(min(1.0, (now - start) / (warmup_s + duration_s)))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed_s = time.perf_counter() - measure_from
    return result


def run_load(base_url: str, make: RequestFactory, *, concurrency: int, duration_s: float,
             warmup_s: float, tick: Callable[[float], None]) -> LoadResult:
    random.seed(7)
    return asyncio.run(_drive(base_url, make, concurrency, duration_s, warmup_s, tick))
