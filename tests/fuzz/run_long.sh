#!/usr/bin/env bash
# A longer fuzz run of one target, from a build configured with -DDSINFER_FUZZ=ON (see
# tests/fuzz/CMakeLists.txt), after `ctest -R fuzz_corpus` wrote the seeds:
#   tests/fuzz/run_long.sh BUILD_DIR TARGET SECONDS [LIBFUZZER_FLAGS...]
# TARGET: gguf, checkpoint, tokenizer, batch_record or chat_command. Prints libFuzzer's final
# line (executions, coverage) and its stats; the grown corpus stays in BUILD_DIR/tests/fuzz/long_TARGET.
# Extra flags come last and so win, e.g. -timeout=600 on a machine whose processes may be
# paused: libFuzzer's per-input timeout is wall-clock time.
set -euo pipefail
build="$1" target="$2" seconds="$3"
shift 3
dir="$build/tests/fuzz"
work="$dir/long_$target"
mkdir -p "$work"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
"$dir/fuzz_$target" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=3072 -print_final_stats=1 \
  -artifact_prefix="$dir/long_$target-" "$@" "$work" "$dir/corpus/$target" 2>&1 |
  grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|^stat::|ERROR|SUMMARY|crash-|timeout-|leak-|oom-|Test unit written'
