#!/usr/bin/env bash
# Installs what `make test` / `make demo` need on a fresh Debian machine, and nothing twice:
# Rust targets for the no_std cross-builds, LLVM tools for code size, a pinned cbindgen for
# the header check, and the Debian packages for the MicroPython build and the local peers.
set -euo pipefail

CBINDGEN_VERSION=0.29.4
RUST_TARGETS=(thumbv7em-none-eabi riscv32imc-unknown-none-elf)
DEBIAN_PACKAGES=(build-essential pkg-config libffi-dev dpkg-dev libcoap3-bin dnsmasq-base mosquitto python3-cryptography)

installed_targets=$(rustup target list --installed)
for target in "${RUST_TARGETS[@]}"; do
    grep -qx "$target" <<<"$installed_targets" || rustup target add "$target"
done
rustup component list --installed | grep -q '^llvm-tools' || rustup component add llvm-tools

if ! cbindgen --version 2>/dev/null | grep -q " $CBINDGEN_VERSION\$"; then
    cargo install --locked --quiet cbindgen --version "$CBINDGEN_VERSION"
fi

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
