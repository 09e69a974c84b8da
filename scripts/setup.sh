#!/usr/bin/env bash
# Installs the Debian packages kiln needs for a job, skipping those already
# installed:   scripts/setup.sh [test|demo|bench|fuzz]   (default: test)
#
# Runs apt-get as root, or through sudo when not root; apt-get update only
# when something is missing. Exits 1 with a message when packages are
# missing and neither root nor sudo is available.
set -euo pipefail

job="${1:-test}"
build_packages=(cmake g++ make pkg-config libboost-graph-dev catch2 libbenchmark-dev libopenblas-dev
                libcli11-dev nlohmann-json3-dev graphviz python3 python3-numpy zlib1g-dev
                libxsmm-dev libdnnl-dev pybind11-dev python3-pybind11 python3-dev python3-pytest)
case "$job" in
  # OpenMPI: data-parallel training over MPI and its mpirun tests (kiln
  # builds and its other tests pass without it)
  test) packages=("${build_packages[@]}" libopenmpi-dev openmpi-bin) ;;
  demo) packages=("${build_packages[@]}" dataset-fashion-mnist) ;;  # what `kiln train mlp` reads
  # PyTorch is the peer kiln is timed against, on Fashion-MNIST among others
  bench) packages=("${build_packages[@]}" python3-torch dataset-fashion-mnist) ;;
  fuzz) packages=("${build_packages[@]}" clang libclang-rt-14-dev) ;;  # libFuzzer
  *)
    echo "setup.sh: unknown job '$job': expected test, demo, bench or fuzz" >&2
    exit 2
    ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup.sh: dpkg-query not found: this script installs Debian packages (Debian 12 or a derivative);" \
       "elsewhere install the equivalents of: ${packages[*]}" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup.sh: all ${#packages[@]} packages for '$job' are installed"
  exit 0
fi

if [[ "$(id -u)" == "0" ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "setup.sh: missing packages: ${missing[*]}; installing them needs root, and sudo is not available." \
       "Run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup.sh: installing ${missing[*]}"
# sudo resets the environment, so the frontend setting is passed through env.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
