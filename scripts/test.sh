#!/usr/bin/env bash
# Set up and run every check of the project: lint, format, types, the test suite (which
# includes the generated-code drift check). This is the README's test command and what
# CI runs (.ci/run).
#
# Needs Python 3.11+ with pip; installs a Java runtime (for the drift check) with apt-get
# when it is missing and this runs as root. Extra pytest arguments pass through:
#   bash scripts/test.sh -k facade -x
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing a Java runtime for the drift check (default-jre-headless)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
  else
    echo "== no Java runtime: the drift check will be skipped (apt-get install -y default-jre-headless)" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
echo "== installing boonamber[dev] into .venv"
# editable_mode=compat: a plain path entry, so mypy sees the installed package (README)
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
  --config-settings editable_mode=compat

echo "== ruff check"
.venv/bin/ruff check .
echo "== ruff format --check"
.venv/bin/ruff format --check .
echo "== mypy (boonamber/facade, boonamber/local)"
.venv/bin/mypy
echo "== pytest"
export PYTHON="$PWD/.venv/bin/python"
.venv/bin/pytest "$@"
