#!/usr/bin/env bash
# test_report.sh: `erase-mpi report` (scripts/erase_report.py) on a short 2-rank Cora run with
# asymmetric noise 0.3 and 2 runs: exit 0 on every rank; index.html references only files that
# exist in the report directory (relative links, no scripts); every figure is a PNG of the exact
# pixel size the page states and this test expects; the page names the best run, epoch and
# accuracies RUN.h5 holds. The sampling (seeded, nested, wrongly-labelled training nodes first)
# and the streamed class cosine (several chunks) are checked against a dense computation. A
# scaling study is copied in, a log line that does not parse is skipped, and bad inputs give
# one "erase-mpi: error: report: ..." line and a non-zero exit on both ranks.
set -uo pipefail
: "${ERASE_BIN:?}" "${MPIEXEC:?}" "${ER_SOURCE_DIR:?}"
[ -f "${ER_CORA_DIR:-}/graph.edges" ] || { echo "SKIP: Cora not found"; exit 77; }
PY=/usr/bin/python3
$PY -c 'import matplotlib, h5py, sklearn, scipy' ||
  { echo "FAIL: $PY lacks matplotlib/h5py/scikit-learn (scripts/install-deps.sh)"; exit 1; }
source "$(dirname "$0")/badinput_lib.sh"
T=$ER_T # removed on exit by badinput_lib.sh

"$ERASE_BIN" import --dir "$ER_CORA_DIR" --out "$T/cora.h5" >/dev/null || exit 1
"$MPIEXEC" -n 2 "$ERASE_BIN" partition --data "$T/cora.h5" --parts 2 >/dev/null || exit 1
"$MPIEXEC" -n 2 "$ERASE_BIN" train --data "$T/cora.h5" --noise asymm --noise-ratio 0.3 \
  --epochs 30 --runs 2 --hidden 64 --heads 4 --embed 128 --quiet 1 --out "$T/run.h5" \
  --log-json "$T/log.jsonl" >"$T/train.out" 2>&1 || { cat "$T/train.out"; exit 1; }

# the report itself, at 2 ranks (every rank exits 0, no error line)
er_case report ok '' -- report "$T/run.h5" --log "$T/log.jsonl" --out "$T/rep" --tsne-sample 1000
sed 's/^/  /' "$ER_T/out"

# a scaling study (collect_scaling.py over this run's log) and a log with a broken line
mkdir -p "$T/study"
cp "$T/log.jsonl" "$T/study/r2.log.json"
echo '{"mode": "strong", "ranks": [2]}' >"$T/study/study.json"
$PY "$ER_SOURCE_DIR/jobs/collect_scaling.py" "$T/study" >/dev/null ||
  { echo "collect_scaling.py failed"; exit 1; }
{ cat "$T/log.jsonl"; echo '{"run": 1, "epoch": 31, "loss'; } >"$T/broken.jsonl"
er_case report-study ok '' -- report "$T/run.h5" --log "$T/broken.jsonl" --study "$T/study" \
  --out "$T/rep2" --tsne-sample 0
grep -q "1 lines that do not parse skipped" "$ER_T/out" ||
  { echo "FAIL: the broken log line was not reported as skipped"; fail=1; }

$PY - "$T" "$ER_SOURCE_DIR/scripts" <<'PY' || fail=1
import html.parser, os, struct, sys
import h5py, numpy as np
T, scripts = sys.argv[1], sys.argv[2]
ok = True
def check(cond, msg):
    global ok
    if not cond:
        print("FAIL", msg)
        ok = False

# the pixel sizes the script promises (DPI 100, fixed figsize, no tight bbox)
EXPECT = {"curves.png": (1200, 700), "accuracy.png": (1200, 480), "labels.png": (1000, 450),
          "pca.png": (1000, 750), "tsne.png": (1000, 750), "cosine.png": (800, 700),
          "confusion.png": (800, 700), "phases.png": (1200, 700)}

class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.imgs, self.tags = [], [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        for k in ("src", "href"):
            if k in a:
                self.refs.append(a[k])
        if tag == "img":
            self.imgs.append(a)

def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])

def page(d, want_figs):
    path = os.path.join(d, "index.html")
    check(os.path.isfile(path), f"{path} missing")
    if not os.path.isfile(path):
        return ""
    text = open(path, encoding="utf-8").read()
    p = Refs()
    p.feed(text)
    check("script" not in p.tags and "link" not in p.tags, f"{path}: scripts or links")
    for ref in p.refs:
        check("://" not in ref and not ref.startswith("/") and ".." not in ref,
              f"{path}: {ref} is not a relative link inside the report")
        check(os.path.isfile(os.path.join(d, ref)), f"{path}: {ref} does not exist")
    figs = {}
    for img in p.imgs:
        f = os.path.join(d, img["src"])
        size = png_size(f) if os.path.isfile(f) else None
        check(size is not None, f"{img['src']} is not a PNG")
        check(size == (int(img.get("width", -1)), int(img.get("height", -1))),
              f"{img['src']}: {size} pixels, the page says {img.get('width')}x{img.get('height')}")
        figs[img["src"]] = size
    for name in want_figs:
        check(figs.get(name) == EXPECT[name], f"{d}: {name} is {figs.get(name)}, want "
              f"{EXPECT[name]}")
    return text

text = page(f"{T}/rep", EXPECT)
text2 = page(f"{T}/rep2", [k for k in EXPECT if k != "tsne.png"])
check("tsne.png" not in text2, "--tsne-sample 0 still drew a t-SNE")
check('src="study/scaling.png"' in text2 and 'href="study/scaling.csv"' in text2,
      "the study's PNG and CSV are not linked from the report")

# the page names the best model RUN.h5 holds
with h5py.File(f"{T}/run.h5", "r") as f:
    br, be = int(f.attrs["best_run"]), int(f.attrs["best_epoch"])
    bv = float(f.attrs["best_val_acc"])
    e = {c: f["metrics/epoch"][c][()] for c in ("run", "epoch", "test_acc")}
    lab = {k: f["labels"][k][()] for k in f["labels"]}
    emb = f["embeddings"][()]
bt = e["test_acc"][(e["run"] == br) & (e["epoch"] == be)][0]
for row in (f"<tr><th>best model</th><td>run {br}, epoch {be}</td></tr>",
            f"<tr><th>best validation accuracy</th><td>{bv:.2f}%</td></tr>",
            f"<tr><th>test accuracy at the best epoch</th><td>{bt:.2f}%</td></tr>"):
    check(row in text, f"index.html lacks {row}")
print(f"best model: run {br} epoch {be}, val {bv:.2f}%, test {bt:.2f}% (named in index.html)")

# sampling: seeded, the t-SNE sample inside the PCA sample, wrongly-labelled training nodes first
sys.path.insert(0, scripts)
import erase_report as R
lab = {k: v.astype(np.int64) for k, v in lab.items()}
pca, tsne, wrong = R.plan_samples(lab, 2000, 1000)
pca2, tsne2, _ = R.plan_samples(lab, 2000, 1000)
nw = int(wrong.sum())
check(np.array_equal(pca, pca2) and np.array_equal(tsne, tsne2), "sampling is not reproducible")
check(len(pca) == 2000 and len(tsne) == 1000 and np.isin(tsne, pca).all(), "samples not nested")
check(0 < nw <= 250 and wrong[tsne].sum() == nw, f"the t-SNE sample lacks some of the {nw} "
      "wrongly-labelled training nodes")
check(np.array_equal(np.unique(tsne), tsne) and (lab["clean"][tsne] >= 0).all(),
      "samples are not sorted labelled node ids")

# the streamed cosine map over several chunks against the dense one
R.CHUNK_ROWS_MAX = 700
K = int(lab["clean"].max()) + 1
sums, counts, nonzero, rows, bad, step = R.stream_embeddings(emb, lab["clean"], K, tsne)
cos = R.class_cosine(sums, counts, nonzero)
z = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-30)
dense = np.zeros((K, K))
for a in range(K):
    for b in range(K):
        g = z[lab["clean"] == a] @ z[lab["clean"] == b].T
        if a == b:  # distinct pairs only
            dense[a, b] = (g.sum() - np.trace(g)) / (len(g) * (len(g) - 1))
        else:
            dense[a, b] = g.mean()
err = np.abs(cos - dense).max()
check(step == 700 and err < 1e-5, f"streamed cosine differs from the dense one by {err:.2e}")
check(np.abs(rows - z[tsne]).max() < 1e-6, "sampled rows differ from the normalized rows")
print(f"streamed cosine ({(len(emb) + 699) // 700} chunks) vs dense: max difference {err:.1e}")
sys.exit(0 if ok else 1)
PY

# bad inputs: one error line naming the problem, non-zero exit on both ranks
: >"$T/afile"
er_case missing-run fail 'report: .*/nope\.h5: no such file' -- report "$T/nope.h5" --out "$T/x"
er_case dataset-as-run fail 'report: .*/cora\.h5: is a dataset .*not a run output' -- \
  report "$T/cora.h5" --out "$T/x"
er_case out-under-file fail 'report: .*/afile/sub: cannot create the output directory' -- \
  report "$T/run.h5" --out "$T/afile/sub"
er_case missing-log fail 'report: .*/nolog\.jsonl: no such file' -- \
  report "$T/run.h5" --log "$T/nolog.jsonl" --out "$T/x"
er_case study-not-dir fail 'report: .*/afile: not a directory' -- \
  report "$T/run.h5" --study "$T/afile" --out "$T/x"
[ -e "$T/x" ] && { echo "FAIL: a failed report created its output directory"; fail=1; }
er_summary test_report
