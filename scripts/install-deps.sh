#!/usr/bin/env bash
# Installs the C libraries RobustMRI links against, from Debian's packages. Run as root (or with sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(pkg-config libopenblas-dev liblapacke-dev libhdf5-dev libturbojpeg0-dev libjpeg62-turbo-dev libpng-dev libcairo2-dev libdcmtk-dev libnifti2-dev fonts-dejavu-core chromium)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
