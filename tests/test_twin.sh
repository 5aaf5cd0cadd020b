#!/bin/bash
# test_twin.sh: the first training step on Cora (asymmetric noise 0.3, 1 rank) dumped with
# --dump-step and recomputed by the PyTorch twin (benchmarks/torch_twin.py check) in float64 and
# float32 autograd: passes iff loss and every parameter gradient are within the twin's bounds,
# the dumped dropout input matches the normalized features, and the twin's own noise, denoising
# and semantic labels give our L (near-ties aside).
# Skips (77) without Cora or without torch / h5py for /usr/bin/python3.
set -u
: "${ERASE_BIN:?}" "${ER_SOURCE_DIR:?}"
[ -f "${ER_CORA_DIR:-}/graph.edges" ] || { echo "SKIP: Cora not found"; exit 77; }
PY=${ER_PYTHON:-/usr/bin/python3}
"$PY" -c "import torch, h5py, numpy" 2>/dev/null || { echo "SKIP: torch/h5py/numpy missing for $PY"; exit 77; }
T=$(mktemp -d /tmp/er_twin.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$ERASE_BIN" import --dir "$ER_CORA_DIR" --out "$T/cora.h5" > /dev/null || exit 1
"$ERASE_BIN" train --data "$T/cora.h5" --epochs 1 --noise asymm --noise-ratio 0.3 --quiet 1 \
  --dump-step "$T/step.h5" > "$T/train.out" || { cat "$T/train.out"; exit 1; }
[ -f "$T/step.h5" ] || { echo "train did not write --dump-step file"; exit 1; }
"$PY" "$ER_SOURCE_DIR/benchmarks/torch_twin.py" check --data "$T/cora.h5" --step "$T/step.h5" \
  --threads 1 --noise asymm --noise-ratio 0.3
