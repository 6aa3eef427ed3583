"""Side-by-side timing: alternate rounds of each contender so that load drift hits all alike."""

import statistics
import time
from collections.abc import Callable


def median_seconds_per_call(contenders: dict[str, Callable[[], None]], calls_per_round: int,
                            rounds: int) -> dict[str, float]:
    """Median over rounds of the mean seconds per call, for each contender, rounds interleaved."""
    per_round = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, call in contenders.items():
            started = time.perf_counter()
            for _ in range(calls_per_round):
                call()
            per_round[name].append((time.perf_counter() - started) / calls_per_round)
    return {name: statistics.median(times) for name, times in per_round.items()}
