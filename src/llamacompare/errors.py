"""Typed errors. Every failure a user can meet is one of these, never an answer string."""

from __future__ import annotations


class LlamaCompareError(Exception):
    """Base class for all llamacompare errors."""


class UsageError(LlamaCompareError):
    """Bad input from the user (a suite, a dataset, a flag). The CLI prints it in one line and exits 2."""


class ModelNameError(UsageError):
    """A model name that resolves to nothing; the message lists the closest known names."""


class MissingKeyError(UsageError):
    """An API key is needed and not set; the message names the variable."""


class ProviderError(LlamaCompareError):
    """A request to a model failed. `retryable` says whether trying again may help."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class AuthenticationError(ProviderError):
    """401/403: the key is missing, wrong or lacks access."""


class ModelNotFoundError(ProviderError):
    """404 or not listed by the server: the model is not served (or retired)."""


class BadRequestError(ProviderError):
    """400/422: the server refused the request itself (too long a prompt, a bad parameter). `param` and `code`
    are the error body's, where the server names them."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None,
                 param: str | None = None, code: str | None = None):
        super().__init__(message, status=status, retry_after=retry_after)
        self.param = param
        self.code = code


class RateLimitError(ProviderError):
    """429 after all retries."""

    retryable = True


class RequestTimeoutError(ProviderError):
    """No complete answer within the timeout (named apart from the builtin `TimeoutError`, which it would shadow)."""

    retryable = True


class ServerError(ProviderError):
    """5xx, a dropped connection, or a malformed answer."""

    retryable = True


class ConnectionFailedError(ServerError):
    """The server could not be reached at all; the message names the URL."""


def describe_value(value: object) -> str:
    """A bad value as an error message shows it: its kind for containers, else its repr cut to 60 characters."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
