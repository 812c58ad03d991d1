#!/usr/bin/env bash
# Installs the Debian packages cquant builds and tests with.
#
# Idempotent: packages already installed are left alone and nothing is
# downloaded. Prints what it installs. Fails with a clear message when it
# cannot install (not root and no sudo, or apt-get missing).
#
# Later features add their packages to PACKAGES below; this list is the one
# place that names what the project needs from the system.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config cmake
  libluajit-5.1-dev          # LuaJIT 2.1 (Debian's upstream build, has the 2025 CVE fixes)
  libuv1-dev
  libwebsockets-dev libwebsockets-evlib-uv
  libcjson-dev
  libssl-dev
  libsqlite3-dev
  zlib1g-dev
  check libsubunit-dev       # Check is static-only and links libsubunit
  clang libclang-rt-14-dev   # sanitizer runtimes (make asan) and libFuzzer (make fuzz)
  chromium                   # headless rendering test of report.html (tests/test_report.c)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup-deps: missing: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-deps: error: apt-get not found; install these packages by hand: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "setup-deps: error: not root and no password-less sudo; as root run:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "setup-deps: installing with apt-get: ${missing[*]}"
# An old or empty package list makes apt-get install fail: refresh it once.
$SUDO apt-get update -qq || { echo "setup-deps: error: apt-get update failed" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
  || { echo "setup-deps: error: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
echo "setup-deps: installed ${#missing[@]} package(s)"
