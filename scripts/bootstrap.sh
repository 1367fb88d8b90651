#!/usr/bin/env bash
# Creates .venv from uv.lock: the chassis, every service and the gateway (editable, with all their
# extras) and the dev group (tests, benchmarks, lint tools), exactly as locked; nothing is resolved.
# Needs python3 (>= 3.11) with pip; where uv is missing it installs the version uv.lock pins (uv is
# in the dev group) from PyPI, its files checked against the lock's hashes.
# Safe to run again: it does nothing while uv.lock and the project files are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=$PWD/.venv
stamp=$VENV/.synced
digest=$(cat uv.lock pyproject.toml shared/pyproject.toml gateway/pyproject.toml services/*/pyproject.toml \
  | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi

uv_version=$("$PYTHON" scripts/uv_requirement.py --version)
uv=${UV:-}
for candidate in "$VENV/bin/uv" uv; do
  if [ -z "$uv" ] && command -v "$candidate" >/dev/null 2>&1 \
    && [ "$("$candidate" --version | cut -d' ' -f2)" = "$uv_version" ]; then
    uv=$candidate
  fi
done
if [ -z "$uv" ]; then
  tools=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/bildungsportal/uv-$uv_version
  if [ ! -x "$tools/bin/uv" ]; then
    echo "bootstrap: installing uv $uv_version into $tools" >&2
    requirement=$(mktemp)
    trap 'rm -f "$requirement"' EXIT
    "$PYTHON" scripts/uv_requirement.py > "$requirement"
    rm -rf "$tools.tmp"
    # --target needs no venv and is allowed where the system Python is externally managed (PEP 668).
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
      --target "$tools.tmp" -r "$requirement"
    rm -rf "$tools" && mv "$tools.tmp" "$tools"
  fi
  uv=$tools/bin/uv
fi

# The environment is this checkout's .venv (whatever the caller's UV_PROJECT_ENVIRONMENT); copies,
# not hard links, since uv's cache is often on another file system.
export UV_PROJECT_ENVIRONMENT=$VENV
export UV_LINK_MODE=${UV_LINK_MODE:-copy}
"$uv" sync --frozen --all-packages --all-extras --group dev --python "$PYTHON"
echo "$digest" > "$stamp"
