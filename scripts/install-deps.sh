#!/usr/bin/env bash
# Installs the Debian packages sluice needs to build, test and benchmark,
# but only those that are missing, in a single apt-get call. Quick (a few
# dpkg queries) when everything is already there. Uses sudo when not root.
set -euo pipefail

packages=(
  # build
  cmake make gcc g++ pkg-config clang libclang-rt-14-dev
  # libraries (see docs/design.md for why each)
  libsimdjson-dev libyaml-dev libpcre2-dev libluajit-5.1-dev
  libmicrohttpd-dev libzstd-dev zlib1g-dev libxxhash-dev
  libutf8proc-dev libsodium-dev libcurl4-openssl-dev
  # tests and benchmarks (chromium renders the HTML report in a test;
  # python3-nltk checks text_quality's datatrove tokenizer against NLTK)
  python3 jq miller zstd gzip chromium python3-nltk
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale or absent on a fresh machine.
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
