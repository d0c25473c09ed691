#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root), builds Release, then runs one job:
#   tools/setup.sh demo    the main job: dsinfer run on the demo model
#   tools/setup.sh test    the whole test suite (what CI runs)
#   tools/setup.sh build   only install and build
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-build}"
build_dir="${DSINFER_BUILD_DIR:-build}"
fixtures="${DSINFER_FIXTURES:-$(cd .. && pwd)/shared/fixtures}"

packages=(g++ cmake ninja-build pkg-config libomp-dev libgtest-dev libgmock-dev libbenchmark-dev
          nlohmann-json3-dev libcli11-dev libfmt-dev libxsimd-dev libpcre2-dev libedit-dev libdnnl-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDSINFER_WERROR=ON \
  -DDSINFER_FIXTURES="$fixtures" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

case "$job" in
  build) ;;
  demo)
    # Until the bundled demo model exists, the main job runs a fixture checkpoint.
    "$build_dir/dsinfer" run "$fixtures/tiny-v3-fp8" --tokens 0,98,220,140,78,284 -n 16
    ;;
  test)
    ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
    ;;
  *)
    echo "usage: tools/setup.sh demo|test|build" >&2
    exit 2
    ;;
esac
