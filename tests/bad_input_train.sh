#!/bin/bash
# bad_input_train.sh: `erase-mpi train` and `propagate` on bad options and bad datasets at 2
# ranks: one clear error line from rank 0, every rank exits non-zero, no hang.
set -u
: "${ER_MKFIXTURE:?}"
source "$(dirname "$0")/badinput_lib.sh"
T=$ER_T
"$MPIEXEC" -n 1 "$ER_MKFIXTURE" "$T/g.h5" 6 6 > /dev/null || { echo "mkfixture failed"; exit 1; }
for v in nolabels notrain missingclass; do
  MKFIXTURE_VARIANT=$v "$MPIEXEC" -n 1 "$ER_MKFIXTURE" "$T/$v.h5" 6 6 > /dev/null || exit 1
done
D=$T/g.h5
quick=(--epochs 2 --hidden 8 --heads 2 --embed 8 --quiet 1)

er_case good ok "" -- train --data "$D" "${quick[@]}"
er_case unknown_option fail "unknown option '--bogus'" -- train --data "$D" --bogus 1
er_case missing_value fail "lr" -- train --data "$D" --lr
er_case negative_lr fail "--lr must be > 0 \\(got -0.1\\)" -- train --data "$D" --lr -0.1
er_case eps_zero fail "--eps must be > 0" -- train --data "$D" --eps 0
er_case alpha_high fail "--alpha: 1.5 is outside" -- train --data "$D" --alpha 1.5
er_case alpha_negative fail "--alpha: -0.1 is outside" -- train --data "$D" --alpha -0.1
er_case heads_divide fail "--heads 3 does not divide --hidden 256" -- train --data "$D" --heads 3
er_case not_a_number fail "--epochs: 'ten' is not an integer" -- train --data "$D" --epochs ten
er_case bad_noise fail "--noise: 'pairflip'" -- train --data "$D" --noise pairflip
er_case no_data fail "--data is required" -- train --epochs 2
er_case missing_file fail "cannot open" -- train --data "$T/none.h5"
er_case log_json_unwritable fail "cannot write --log-json file '$T/nodir/log.jsonl'" -- \
  train --data "$D" "${quick[@]}" --log-json "$T/nodir/log.jsonl"
printf 'not hdf5\n' > "$T/text.h5"
er_case not_hdf5 fail "not an HDF5 file" -- train --data "$T/text.h5"
er_case no_labels fail "no labels|has no label" -- train --data "$T/nolabels.h5" "${quick[@]}"
er_case no_train_split fail "no training split" -- train --data "$T/notrain.h5" "${quick[@]}"
er_case class_without_train fail "class 2 has no training node" -- train --data "$T/missingclass.h5" "${quick[@]}"
printf '[train]\nlr = 0.01\nbogus_key = 3\n' > "$T/bad.ini"
er_case config_unknown_key fail "unknown key 'bogus_key'" -- train --data "$D" --config "$T/bad.ini"
printf '[train]\nepochs = 2\nhidden = 8\nheads = 2\nembed = 8\nquiet = 1\n' > "$T/good.ini"
er_case config_good ok "" -- train --data "$D" --config "$T/good.ini"
# the partition a run asks for must exist and match the rank count
# (a copy: the runs above with --partition auto made and stored a partition for 2 ranks beside $D)
cp "$D" "$T/nopart.h5"
er_case partition_missing fail "no partition for 2 parts" -- \
  train --data "$T/nopart.h5" --partition 2 "${quick[@]}"
er_case partition_wrong_count fail "partition 4 needs 4 ranks" -- propagate --data "$D" --partition 4
er_case propagate_bad_alpha fail "--alpha" -- propagate --data "$D" --alpha 2
# a feature that is not finite, in a block large enough that each rank checks its rows in
# several chunks (3000 rows x 24 features: 1366 rows a chunk): named by node and feature
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
  "$MPIEXEC" -n 2 "$ERASE_BIN" generate --nodes 3000 --classes 4 --features 24 --avg-degree 6 \
    --out "$T/big.h5" > /dev/null || { echo "generate failed"; exit 1; }
  for bad in "nan 2900 7" "inf 10 3" "-inf 1499 23"; do
    set -- $bad
    cp "$T/big.h5" "$T/nonfinite.h5"
    /usr/bin/python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r+"); f["/features"][int(sys.argv[3]), int(sys.argv[4])] = float(sys.argv[2])' \
      "$T/nonfinite.h5" "$1" "$2" "$3"
    er_case "feature_$1_at_$2" fail "node $2, feature $3 is not finite" -- \
      train --data "$T/nonfinite.h5" --partition block "${quick[@]}"
  done
else
  echo "skip feature_nonfinite cases: no h5py"
fi
er_summary bad_input_train
