#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need, if they are missing:
# nginx (the edge in distributed mode), chromium (Playwright's browser) and wrk (make bench).
# Usage: ensure-system-packages.sh [package ...]   (default: nginx chromium)
set -euo pipefail

declare -A binary=([nginx]=/usr/sbin/nginx [chromium]=/usr/bin/chromium [wrk]=/usr/bin/wrk)
wanted=("$@")
((${#wanted[@]})) || wanted=(nginx chromium)

missing=()
for package in "${wanted[@]}"; do
  [ -x "${binary[$package]:-/nonexistent}" ] || missing+=("$package")
done
((${#missing[@]})) || exit 0

if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
