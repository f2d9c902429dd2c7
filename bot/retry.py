"""Bounded retries with a wait between attempts: the only place in the bot where time passes
without waiting for a page state (a site that says "try again in N s" gives no state to wait
for)."""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class RetryAfter(Exception):
    """Raised by an attempt the site asked to repeat later (`seconds` from the site itself)."""

    def __init__(self, seconds: float, reason: str):
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason


def with_retries(attempt: Callable[[], T], *, attempts: int = 3, max_wait_s: float = 10.0,
                 margin_s: float = 0.3, on_wait: Callable[[float, str], None] | None = None) -> T:
    """Call `attempt` until it returns; on RetryAfter wait what the site asked (plus a margin,
    capped) and try again, at most `attempts` times; the last RetryAfter propagates."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except RetryAfter as delay:
            if number == attempts:
                raise
            wait = min(delay.seconds + margin_s, max_wait_s)
            if on_wait:
                on_wait(wait, delay.reason)
            time.sleep(wait)
    raise AssertionError("unreachable")


def backoff_s(attempt: int, base_s: float = 1.0, cap_s: float = 15.0) -> float:
    """The wait before retry number `attempt` (1, 2, …): 1 s, 3 s, 9 s… capped."""
    return min(base_s * 3 ** (attempt - 1), cap_s)


def wait_before_retry(attempt: int) -> float:
    """Sleep the backoff of a bounded retry (the caller bounds the number of attempts)."""
    seconds = backoff_s(attempt)
    time.sleep(seconds)
    return seconds


def retry_with_backoff(attempt: Callable[[], T], *, attempts: int, retry_on: tuple[type[BaseException], ...],
                       on_wait: Callable[[float, BaseException], None] | None = None) -> T:
    """Call `attempt` until it returns, at most `attempts` times, waiting the backoff between
    tries when it raises one of `retry_on`; the last such exception propagates. Only for
    operations the caller knows are safe to repeat (a read, a download)."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except retry_on as problem:
            if number == attempts:
                raise
            seconds = backoff_s(number)
            if on_wait:
                on_wait(seconds, problem)
            time.sleep(seconds)
    raise AssertionError("unreachable")
