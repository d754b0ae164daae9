"""Rate limits on the public routes: booking, looking up a code or a ticket, cancelling.

The numbers are `[rate_limits]` in hall.toml (the `limits` package's notation, "20/hour"),
counted per network address in a moving window, in this server's memory (an instance that
restarts forgets; a hall with several instances gives each its own count). Staff and enrolled
devices are not limited here: they have accounts, and their own throttles.

Each limited route declares `rate_limit("booking")`: a dependency whose name starts with
`rate_limit`, so the API documentation can list its 429 answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse, storage, strategies

from onestop.web.access import TooManyAttempts, client_address, resolve
from onestop.web.deps import hall_of

KINDS = ("booking", "lookup", "cancel")
MESSAGES = {
    "booking": ("预约过于频繁，请稍后再试或到咨询台预约",
                "too many bookings from this network; try again later or ask at the desk"),
    "lookup": ("查询过于频繁，请稍后再试", "too many look-ups from this network; try again later"),
    "cancel": ("操作过于频繁，请稍后再试", "too many requests from this network; try again later"),
}


class RateLimits:
    """One moving-window limiter for the server; a hit per request of a limited kind."""

    def __init__(self, rules: dict[str, str], enabled: bool = True) -> None:
        self.enabled = enabled
        self.items: dict[str, RateLimitItem] = {kind: parse(rule) for kind, rule in rules.items()}
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def hit(self, kind: str, address: str) -> bool:
        """Count one request; False when the address is over its limit for this kind."""
        if not self.enabled:
            return True
        return bool(self._limiter.hit(self.items[kind], kind, address))


def rate_limit(kind: str) -> Any:
    """Dependency: 429 (with a message a resident understands) when this address has made too
    many requests of this kind; staff and devices pass."""
    if kind not in KINDS:
        raise ValueError(f"unknown rate limit {kind!r}")

    async def dependency(request: Request) -> None:
        principal = await resolve(request)
        if principal.kind != "public":
            return
        hall = hall_of(request)
        if not hall.rate_limits.hit(kind, client_address(request, hall.trusted_proxies)):
            raise TooManyAttempts(*MESSAGES[kind])

    dependency.__name__ = f"rate_limit_{kind}"
    return Depends(dependency)
