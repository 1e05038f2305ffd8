"""What a gateway's error answer means: its message and code, and the typed error to raise.

NewAPI and OpenAI put ``{"error": {"message", "type", "code"}}`` in the body, and NewAPI does so
with HTTP 200 too; the class is decided by code and type first, then by wording, then by the
status. Push-back (rate limits, saturated or overloaded upstreams) is transient; quota, balance
and credentials are permanent (retrying spends nothing but the operator's time).
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tui_updater.errors import (
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderResponseError,
    ProviderUnavailable,
)

QUOTA_CODES = frozenset(
    {"insufficient_user_quota", "insufficient_quota", "quota_exceeded", "billing_hard_limit"}
)
AUTH_CODES = frozenset(
    {
        "invalid_api_key",
        "invalid_token",
        "unauthorized",
        "authentication_error",
        "permission_denied",
        "permission_error",
        "access_terminated",
        "account_deactivated",
    }
)
PUSH_BACK_CODES = frozenset(
    {"rate_limit", "rate_limit_exceeded", "rate_limit_error", "overloaded", "overloaded_error"}
)
UPSTREAM_CODES = frozenset(
    {
        "server_error",
        "upstream_error",
        "do_request_failed",
        "bad_response",
        "bad_response_status_code",
        "get_channel_failed",
        "no_channel",
        "service_unavailable",
        "api_error",
    }
)
# NewAPI words its own limiter and its saturated upstream groups like this (any status code).
SATURATED = re.compile(
    r"饱和|rate.?limit|too many requests|saturat|overload|请求过于频繁|限流", re.I
)
QUOTA_WORDS = re.compile(r"quota|insufficient.?balance|余额不足|额度不足|credit balance", re.I)
AUTH_WORDS = re.compile(r"invalid (api[ _-]?key|token)\b|incorrect api key|无效的令牌", re.I)
MESSAGE_LIMIT_CHARS = 300


@dataclass(frozen=True)
class GatewayErrorBody:
    """The parts of an error answer the classification reads."""

    message: str
    code: str  # the error's code, else its type
    kind: str  # its type (may equal code)

    @property
    def words(self) -> str:
        return f"{self.message} {self.code} {self.kind}".lower()


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def error_of(data: Any) -> GatewayErrorBody | None:
    """The error a decoded JSON answer carries, or None when it carries none."""
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    if isinstance(error, str) and error.strip():
        return GatewayErrorBody(error.strip()[:MESSAGE_LIMIT_CHARS], "", "")
    if isinstance(error, dict) and error:
        message = _text(error.get("message") or error.get("msg"))
        kind = _text(error.get("type"))
        code = _text(error.get("code")) or kind
        return GatewayErrorBody(message[:MESSAGE_LIMIT_CHARS], code, kind)
    if data.get("success") is False and "choices" not in data and "data" not in data:
        return GatewayErrorBody(_text(data.get("message"))[:MESSAGE_LIMIT_CHARS], "", "")
    return None


def gateway_message(body: bytes) -> GatewayErrorBody:
    """The gateway's error message and code from an error body (its text when not JSON)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        text = body[:MESSAGE_LIMIT_CHARS].decode("utf-8", "replace").strip()
        return GatewayErrorBody(text, "", "")
    found = error_of(data)
    if found is not None:
        return found
    return GatewayErrorBody(json.dumps(data, ensure_ascii=False)[:MESSAGE_LIMIT_CHARS], "", "")


def parse_retry_after(value: str | None, *, now_s: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP-date); None if absent."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current_s = time.time() if now_s is None else now_s
    return max(0.0, when.timestamp() - current_s)


def classify(
    status_code: int, error: GatewayErrorBody, text: str, retry_after_s: float | None
) -> Exception:
    """The typed error for ``error`` answered with ``status_code`` (200 included)."""
    codes = {error.code.lower(), error.kind.lower()}
    words = error.words
    # Wording alone decides only below 500: a 5xx about quota is the gateway's own fault.
    worded = status_code < 500
    if status_code == 402 or codes & QUOTA_CODES or (worded and QUOTA_WORDS.search(words)):
        return ProviderQuotaExceeded(text)
    if status_code in (401, 403) or codes & AUTH_CODES or (worded and AUTH_WORDS.search(words)):
        return ProviderResponseError(text, status_code=status_code if status_code >= 400 else 401)
    if status_code == 429 or codes & PUSH_BACK_CODES or SATURATED.search(words):
        return ProviderRateLimited(text, retry_after_s=retry_after_s)
    if status_code >= 500 or (status_code < 400 and codes & UPSTREAM_CODES):
        return ProviderUnavailable(
            text,
            status_code=status_code if status_code >= 500 else 502,
            retry_after_s=retry_after_s,
        )
    # Anything else is about the request (bad model, bad parameter); a 200 carrying it counts
    # as the 400 it stands for, so the response_format fallback still recognises it.
    return ProviderResponseError(text, status_code=status_code if status_code >= 400 else 400)


def translate_status(
    status_code: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    host: str,
    now_s: Callable[[], float] = time.time,
) -> Exception:
    """The tui_updater.errors exception for a non-2xx gateway answer."""
    error = gateway_message(body)
    detail = f": {error.message}" if error.message else ""
    code = f" [{error.code}]" if error.code else ""
    text = f"HTTP {status_code} from {host}{detail}{code}"
    retry_after_s = parse_retry_after(headers.get("retry-after"), now_s=now_s())
    return classify(status_code, error, text, retry_after_s)


def translate_error_in_success(
    status_code: int,
    error: GatewayErrorBody,
    headers: Mapping[str, str],
    *,
    host: str,
    path: str,
) -> Exception:
    """The typed error for an error object the gateway sent with a 2xx status."""
    code = f" [{error.code}]" if error.code else ""
    message = error.message or "no message"
    text = f"{host} answered {path} with HTTP {status_code} and an error: {message}{code}"
    retry_after_s = parse_retry_after(headers.get("retry-after"))
    return classify(status_code, error, text, retry_after_s)
