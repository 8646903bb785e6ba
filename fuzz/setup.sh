#!/usr/bin/env bash
# Installs cargo-fuzz (pinned) if this machine lacks it. libFuzzer itself is built from source by
# the libfuzzer-sys crate, which needs a C++ compiler (Debian's build-essential).
set -euo pipefail
CARGO_FUZZ_VERSION="0.13.1"
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install --locked --quiet cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi
if ! command -v c++ >/dev/null 2>&1; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq build-essential >/dev/null
fi
