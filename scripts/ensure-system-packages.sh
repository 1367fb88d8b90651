#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need, if they are missing:
# nginx (the edge in distributed mode), chromium (Playwright's browser), wrk (make bench)
# and the Pango/HarfBuzz libraries and fonts WeasyPrint renders the PDFs with.
# Usage: ensure-system-packages.sh [package ...]   (default: nginx chromium + the PDF libraries)
set -euo pipefail

declare -A binary=([nginx]=/usr/sbin/nginx [chromium]=/usr/bin/chromium [wrk]=/usr/bin/wrk)
wanted=("$@")
((${#wanted[@]})) || wanted=(nginx chromium pdf)

missing=()
for package in "${wanted[@]}"; do
  if [ "$package" = pdf ]; then
    for library in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; do
      dpkg-query -W -f='${Status}' "$library" 2>/dev/null | grep -q "ok installed" || missing+=("$library")
    done
    continue
  fi
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
