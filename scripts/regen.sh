#!/usr/bin/env bash
# Regenerate boonamber/v2 (client) and docs/v2 (API reference) from openapi/amber-v2.yaml.
#
#   scripts/regen.sh           validate the spec, wipe and regenerate both folders
#   scripts/regen.sh --check   regenerate into a temporary folder and fail, listing the
#                              files, if anything differs from the working tree
#
# Needs Python 3.11+ and a Java 17+ runtime (Debian: apt-get install -y default-jre-headless).
# See docs/regenerating.md.
set -euo pipefail

GENERATOR_VERSION="7.26.0"   # openapi-generator-cli on PyPI (bundles the generator jar)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPEC="$ROOT/openapi/amber-v2.yaml"
GEN_INPUTS="$ROOT/openapi/generator"
MODE="write"
case "${1:-}" in
  "") ;;
  --check) MODE="check" ;;
  -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
  *) echo "regen.sh: unknown argument '$1' (use --check or nothing)" >&2; exit 2 ;;
esac

if ! command -v java >/dev/null 2>&1; then
  echo "regen.sh: no Java runtime found; openapi-generator needs Java 17+." >&2
  echo "  Debian/Ubuntu: apt-get update && apt-get install -y default-jre-headless" >&2
  exit 3
fi

# The generator: the pinned PyPI package, from the current Python if it has exactly that
# version, else from a private virtualenv made once under .cache/.
PY="${PYTHON:-python3}"
have_version="$("$PY" -c 'import importlib.metadata as m; print(m.version("openapi-generator-cli"))' 2>/dev/null || true)"
if [ "$have_version" != "$GENERATOR_VERSION" ] || ! "$PY" -c 'import openapi_spec_validator' 2>/dev/null; then
  TOOL_VENV="$ROOT/.cache/regen-$GENERATOR_VERSION"
  if [ ! -x "$TOOL_VENV/bin/python" ]; then
    python3 -m venv "$TOOL_VENV"
    "$TOOL_VENV/bin/pip" install --quiet "openapi-generator-cli==$GENERATOR_VERSION" \
      "openapi-spec-validator>=0.7,<1" >&2
  fi
  PY="$TOOL_VENV/bin/python"
fi
GENERATOR="$(dirname "$PY")/openapi-generator-cli"

# The generated client carries the release of boonamber/_version.py (2.1.0 for 2.1.0.dev0).
PACKAGE_VERSION="$(sed -n 's/^__version__ = "\([0-9][0-9.]*[0-9]\).*"$/\1/p' "$ROOT/boonamber/_version.py")"
[ -n "$PACKAGE_VERSION" ] || { echo "regen.sh: no __version__ in boonamber/_version.py" >&2; exit 1; }

# 1. Validate the spec.
"$PY" -m openapi_spec_validator "$SPEC" >/dev/null

# 2. Generate into a scratch folder (the ignore file goes in first: the generator reads it
#    from the output folder).
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out"
cp "$GEN_INPUTS/.openapi-generator-ignore" "$WORK/out/.openapi-generator-ignore"
"$GENERATOR" generate \
  --input-spec "$SPEC" \
  --config "$GEN_INPUTS/config.yaml" \
  --additional-properties "packageVersion=$PACKAGE_VERSION" \
  --template-dir "$GEN_INPUTS/templates" \
  --output "$WORK/out" \
  --global-property apiTests=false,modelTests=false \
  >"$WORK/generator.log" 2>&1 || { cat "$WORK/generator.log" >&2; exit 1; }

# 3. Deterministic assembly: the package, the reference docs (README.md with its docs/
#    folder, so its relative links keep working) and a record of what made them.
TREE="$WORK/tree"
mkdir -p "$TREE/boonamber" "$TREE/docs/v2"
mv "$WORK/out/boonamber/v2" "$TREE/boonamber/v2"
mv "$WORK/out/README.md" "$TREE/docs/v2/README.md"
mv "$WORK/out/docs" "$TREE/docs/v2/docs"
spec_sha="$(sha256sum "$SPEC" | cut -d' ' -f1)"
cat >"$TREE/boonamber/v2/GENERATED" <<REC
# Generated code: do not edit. Change the spec or openapi/generator/, then run scripts/regen.sh.
generator: openapi-generator-cli $(cat "$WORK/out/.openapi-generator/VERSION")
spec: openapi/amber-v2.yaml
spec-sha256: $spec_sha
REC

if [ "$MODE" = "check" ]; then
  status=0
  for dir in boonamber/v2 docs/v2; do
    if [ ! -d "$ROOT/$dir" ]; then
      echo "regen.sh --check: $dir is missing" >&2; status=1; continue
    fi
    changed="$(diff -rq -x __pycache__ "$TREE/$dir" "$ROOT/$dir" || true)"
    if [ -n "$changed" ]; then
      echo "regen.sh --check: $dir differs from a fresh generation:" >&2
      echo "$changed" | sed -e "s#$TREE/##g" -e "s#$ROOT/##g" -e 's/^/  /' >&2
      status=1
    fi
  done
  if [ "$status" -ne 0 ]; then
    echo "Run scripts/regen.sh and commit the result (never edit generated files by hand)." >&2
    exit 1
  fi
  echo "regen.sh --check: boonamber/v2 and docs/v2 match a fresh generation (spec $spec_sha)."
  exit 0
fi

rm -rf "$ROOT/boonamber/v2" "$ROOT/docs/v2"
mkdir -p "$ROOT/docs"
cp -R "$TREE/boonamber/v2" "$ROOT/boonamber/v2"
cp -R "$TREE/docs/v2" "$ROOT/docs/v2"
echo "regen.sh: regenerated boonamber/v2 and docs/v2 with openapi-generator $GENERATOR_VERSION (spec $spec_sha)."
