#!/usr/bin/env bash
# Set up (first time only, with the test tools) and run the whole test suite, slow tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check src tests bench
.venv/bin/mypy  # src/, as configured in pyproject.toml
exec .venv/bin/python -m pytest -q "$@"
