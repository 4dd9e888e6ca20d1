#!/usr/bin/env bash
# Set up (first time only) and run the built-in comparison on the bundled model: no key, no network needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/llamacompare run "$@"
