#!/bin/sh
# Rebuild the dsinfer demo model from scratch: corpus -> tokenizer -> training -> export -> check.
#
#   tools/train/reproduce.sh [OUT]        (OUT defaults to /work/demo-model; ~75 min on one core)
#
# Needs (Debian bookworm): python3-torch python3-numpy python3-regex bible-kjv, and
# apt-get download access for libopenblas0-serial (see README.md: Debian's torch falls back to
# the reference BLAS, ~10x slower; we load OpenBLAS for this process only via LD_LIBRARY_PATH).
# Set DSINFER=path/to/dsinfer for the export check (default build/dsinfer of this checkout).
set -eu
OUT=${1:-/work/demo-model}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=/usr/bin/python3
DSINFER=${DSINFER:-$REPO/build/dsinfer}
mkdir -p "$OUT"

# OpenBLAS (serial) from the Debian package, unpacked under OUT, used by this process only.
BLAS="$OUT/openblas/root/usr/lib/x86_64-linux-gnu/openblas-serial"
if [ ! -e "$BLAS/libblas.so.3" ]; then
  mkdir -p "$OUT/openblas"
  (cd "$OUT/openblas" && apt-get download libopenblas0-serial && dpkg -x libopenblas0-serial_*.deb root)
fi
export LD_LIBRARY_PATH="$BLAS" OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

$PY "$HERE/corpus.py" "$OUT/corpus"
$PY "$HERE/tokenizer_train.py" train --corpus "$OUT/corpus" \
    --v3-tokenizer "${V3_TOKENIZER:-$REPO/../shared/fixtures/tokenizer-deepseek-v3}" --out "$OUT/tokenizer" --vocab-size 4096
$PY "$HERE/tokenizer_train.py" encode --tokenizer "$OUT/tokenizer" --corpus "$OUT/corpus" --out "$OUT/data" --seed 1234
mkdir -p "$OUT/run"
nice -n 10 $PY "$HERE/train.py" --data "$OUT/data" --tokenizer "$OUT/tokenizer" --out "$OUT/run" \
    --seed 1234 --steps 700 --batch 8 --seq 256 --gamma 1e-2 --eval-every 100 --eval-windows 48 --ckpt-every 50 \
    > "$OUT/run/train.log" 2>&1
$PY "$HERE/export_hf.py" "$OUT/run/final.pt" --tokenizer "$OUT/tokenizer" --out "$OUT/hf" \
    --card "$HERE/model_card.md" --log "$OUT/run/train.log"
$PY "$HERE/check_export.py" "$OUT/run/final.pt" "$OUT/hf" --dsinfer "$DSINFER" --data "$OUT/data"
