"""Where configuration comes from: flags, then the environment, then a `.env` file (as the seed did).

Secrets are read here and nowhere else; `redact` scrubs every known secret value from text before it is shown or
stored.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from llamacompare.errors import MissingKeyError

SECRET_ENV_VARS = ("TOGETHER_API_KEY", "OPENAI_API_KEY", "VLLM_API_KEY", "ANTHROPIC_API_KEY", "LLAMACOMPARE_API_KEY")


@lru_cache(maxsize=1)
def load_dotenv_once() -> None:
    """Read `.env` from the working directory upwards without overriding the real environment."""
    from dotenv import find_dotenv, load_dotenv  # python-dotenv: only where .env is read

    path = find_dotenv(usecwd=True)
    if path:
        load_dotenv(path, override=False)


def get_env(name: str) -> str | None:
    load_dotenv_once()
    value = os.environ.get(name)
    return value or None


def require_key(env_var: str, *, provider: str) -> str:
    value = get_env(env_var)
    if not value:
        raise MissingKeyError(
            f"{provider} needs an API key: set {env_var} in the environment or in a .env file"
        )
    return value


def _secret_values() -> list[str]:
    load_dotenv_once()
    vals = [os.environ.get(v, "") for v in SECRET_ENV_VARS]
    return sorted({v for v in vals if len(v) >= 6}, key=len, reverse=True)


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    """Replace every known secret (env keys and `extra`) in `text` with `***`."""
    for secret in (*extra, *_secret_values()):
        if secret and len(secret) >= 6 and secret in text:
            text = text.replace(secret, "***")
    return text


def data_dir() -> Path:
    """Where runs are stored by default (the user data dir, or $LLAMACOMPARE_HOME)."""
    home = os.environ.get("LLAMACOMPARE_HOME")
    if home:
        return Path(home)
    from platformdirs import user_data_dir  # platformdirs: only where a directory is resolved

    return Path(user_data_dir("llamacompare", appauthor=False))


def cache_dir() -> Path:
    home = os.environ.get("LLAMACOMPARE_HOME")
    if home:
        return Path(home) / "cache"
    from platformdirs import user_cache_dir  # platformdirs: only where a directory is resolved

    return Path(user_cache_dir("llamacompare", appauthor=False))
