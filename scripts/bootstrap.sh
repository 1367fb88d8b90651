#!/usr/bin/env bash
# Creates .venv and installs the chassis, every service and the gateway (editable),
# plus the pinned dev tools. Safe to run again: it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
stamp=$VENV/.installed
inputs=(requirements/dev.txt shared/pyproject.toml gateway/pyproject.toml services/*/pyproject.toml)
existing=()
for f in "${inputs[@]}"; do [ -f "$f" ] && existing+=("$f"); done
digest=$(cat "${existing[@]}" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
args=(-r requirements/dev.txt -e "shared[testing]")
for project in services/*/ gateway/; do
  [ -f "$project/pyproject.toml" ] && args+=(-e "$project")
done
"$VENV/bin/python" -m pip install --quiet "${args[@]}"
echo "$digest" > "$stamp"
