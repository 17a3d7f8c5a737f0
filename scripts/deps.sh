#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs to build, run and test, and only those that
# are missing, so a second run does nothing. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev libssl-dev rapidjson-dev librocksdb-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev
  curl python3 openssl procps
  swaks msmtp libnet-ssleay-perl libio-socket-ssl-perl  # SMTP clients for tests/integration/test_smtp*.py
  chromium
  dovecot-imapd  # the baseline IMAP server of tests/integration/test_mime_dovecot.py and the IMAP benchmarks
  isync mutt  # IMAP clients for tests/integration/test_imap*.py
  nginx libnginx-mod-mail  # the mail proxy in front of two bridges in tests/integration/test_mail_proxy.py
  systemd  # systemd-analyze verify/security on dist/systemd/mailtrixy.service (tests/integration/test_install.py)
)
# Node.js and npm run the browser test (tests/browser). A Node.js from elsewhere (e.g. NodeSource,
# which bundles npm) is fine; only when npm is missing altogether are Debian's packages installed.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "deps: run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
