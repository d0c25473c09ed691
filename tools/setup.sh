#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root), builds Release, then runs one job:
#   tools/setup.sh demo    the main job: dsinfer run on the bundled demo model
#   tools/setup.sh test    the whole test suite (what CI runs; also installs an aarch64 g++ and qemu-user
#                          for the NEON kernels, about 320 MB, and clang 14 with its sanitizer and
#                          libFuzzer runtimes), then the suite again under ASan + UBSan (but six
#                          slow numerical tests) with short fuzz runs of every parser
#   tools/setup.sh build   only install and build
#   tools/setup.sh train   also install PyTorch and retrain the demo model (tools/train, ~75 min)
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-build}"
build_dir="${DSINFER_BUILD_DIR:-build}"
fixtures="${DSINFER_FIXTURES:-$(cd .. && pwd)/shared/fixtures}"
# Each step's time on stderr, to see where a slow CI run went.
step_start=$SECONDS
step_done() { echo "setup: $1 in $((SECONDS - step_start)) s" >&2; step_start=$SECONDS; }

packages=(g++ cmake ninja-build pkg-config libomp-dev libgtest-dev libgmock-dev libbenchmark-dev
          nlohmann-json3-dev libcli11-dev libfmt-dev libxsimd-dev libpcre2-dev libedit-dev libdnnl-dev libcpuinfo-dev)
if [ "$job" = test ]; then
  # The NEON kernels, cross-compiled for aarch64 and run under qemu (test simd_neon_cross).
  packages+=(g++-aarch64-linux-gnu qemu-user)
  # The sanitizer and fuzz build: clang with compiler-rt (ASan, UBSan, libFuzzer).
  packages+=(clang-14 libclang-rt-14-dev)
fi
if [ "$job" = train ]; then
  packages+=(python3-torch python3-numpy python3-regex bible-kjv)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  step_done "installed"
fi

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDSINFER_WERROR=ON \
  -DDSINFER_FIXTURES="$fixtures" >/dev/null
if [ "$job" = demo ]; then
  cmake --build "$build_dir" -j "$(nproc)" --target dsinfer  # the demo needs the program only
else
  cmake --build "$build_dir" -j "$(nproc)"
fi
step_done "built"

case "$job" in
  build) ;;
  demo)
    # The bundled demo model (models/demo): a small DeepSeek-V3-shaped model trained on the KJV.
    "$build_dir/dsinfer" run -p "And God said" -n 64
    ;;
  train)
    DSINFER="$build_dir/dsinfer" sh tools/train/reproduce.sh "${DSINFER_TRAIN_DIR:-$(pwd)/build-train-data}"
    ;;
  test)
    ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
    step_done "the suite passed"
    # CMake's default generator (Unix Makefiles) too, for what generators differ on: configure
    # (the layers' include links), a layer library, and the NEON cross check's custom commands,
    # which it then runs. The same sources' compilation was checked above: the program is not
    # built twice (1 min 43 s on 2 cores). grep reads all of make's help: with pipefail, grep -q
    # stopping at the first match made make fail on a broken pipe, and the check was skipped.
    make_dir="$build_dir-make"
    cmake -S . -B "$make_dir" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release -DDSINFER_WERROR=ON \
      -DDSINFER_FIXTURES="$fixtures" >/dev/null
    cmake --build "$make_dir" -j "$(nproc)" --target dsinfer_kernels >/dev/null
    if cmake --build "$make_dir" --target help | grep neon_kernels_check >/dev/null; then
      cmake --build "$make_dir" -j "$(nproc)" --target neon_kernels_check >/dev/null
      ctest --test-dir "$make_dir" --output-on-failure -R simd_neon_cross
    fi
    step_done "the Unix Makefiles build works too"
    # The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer (clang), with
    # the libFuzzer targets run briefly on seeds made from the fixtures (ctest label "fuzz").
    san_dir="$build_dir-san"
    cmake -S . -B "$san_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDSINFER_WERROR=ON \
      -DCMAKE_CXX_COMPILER=clang++-14 -DDSINFER_SANITIZE=address,undefined -DDSINFER_FUZZ=ON \
      -DDSINFER_BENCHMARKS=OFF -DDSINFER_FIXTURES="$fixtures" >/dev/null
    cmake --build "$san_dir" -j "$(nproc)" >/dev/null
    step_done "sanitizer and fuzz build"
    # All but six tests, to keep this part near 8 minutes on 2 cores: each takes 15 to 69 s
    # under the sanitizers (under 6 s without) for arithmetic whose code other tests here run
    # too: synth (its tiny preset, with and without a tokenizer, in the expert store, tokenizer
    # and inspect tests), the Q4_0 scale search (in every q4_0 and mix quantization), and the
    # 5,000 seeded generations of the speculation sampling test (rejection sampling and
    # speculative generation run in the other speculation tests).
    san_skip='^(Synth\.(RoutesLikeATrainedModel|DeterministicInSeed|TinyPresetRunsFiniteAndSpreadsRouting)|QuantizeKl\..*|SpeculationSampling\..*)$'
    ctest --test-dir "$san_dir" --output-on-failure -j "$(nproc)" -E "$san_skip"
    step_done "the suite passes under ASan + UBSan (all but the six slowest numerical tests), and the fuzz targets found nothing"
    ;;
  *)
    echo "usage: tools/setup.sh demo|test|build|train" >&2
    exit 2
    ;;
esac
