"""Sending a notification to a subscriber's callbackUrl: guarded, bounded, retried.

Retries are tenacity's (exponential backoff) on transport errors, 5xx and 429; any other
4xx is the receiver's refusal and is not retried. Redirects are not followed (a redirect
could lead past the host guard). A webhook that still fails is logged with its subscription
and dropped: a subscriber that was down reads the objects it missed (the spec's model).
"""

from __future__ import annotations

import httpx
import structlog
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from api.openadr.callbacks import CallbackGuard
from api.openadr.metrics import WEBHOOKS
from api.openadr.notifications import Delivery

log = structlog.get_logger(__name__)


class _Retry(Exception):
    """The receiver answered with a status worth trying again (5xx, 429)."""


class WebhookSender:
    def __init__(
        self,
        guard: CallbackGuard,
        *,
        attempts: int,
        timeout_s: float,
        first_wait_s: float,
        max_wait_s: float,
    ) -> None:
        self.guard = guard
        self.client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self.attempts, self.first_wait_s, self.max_wait_s = attempts, first_wait_s, max_wait_s

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=self.first_wait_s, max=self.max_wait_s),
            retry=retry_if_exception_type((_Retry, httpx.TransportError)),
            reraise=True,
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def send(self, d: Delivery) -> bool:
        """Whether the receiver took it (2xx)."""
        where = {"subscription_id": d.subscription_id, "object_type": d.notification["objectType"]}
        if (why := self.guard.refusal(d.url)) is not None:  # the allowed hosts may have changed
            log.warning("webhook.refused", reason=why, **where)
            WEBHOOKS.labels("refused").inc()
            return False
        headers = {"Authorization": f"Bearer {d.token}"} if d.token else {}
        try:
            async for attempt in self._retrying():
                with attempt:
                    response = await self.client.post(d.url, json=d.notification, headers=headers)
                    if response.status_code >= 500 or response.status_code == 429:
                        raise _Retry(f"HTTP {response.status_code}")
        except (_Retry, httpx.HTTPError) as err:
            log.warning("webhook.failed", error=str(err) or type(err).__name__, **where)
            WEBHOOKS.labels("failed").inc()
            return False
        if not response.is_success:
            log.warning("webhook.refused_by_receiver", status=response.status_code, **where)
            WEBHOOKS.labels("refused_by_receiver").inc()
            return False
        log.info("webhook.sent", operation=d.notification["operation"], **where)
        WEBHOOKS.labels("sent").inc()
        return True
