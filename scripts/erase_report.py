#!/usr/bin/python3
"""erase_report.py: the pictures of a finished ERASE-MPI run (RUN.h5 of `erase-mpi train --out`,
optionally its --log-json and a scaling study) as DIR/index.html with PNGs, self-contained.
It reads outputs only and keeps memory bounded: label vectors are read whole, the embeddings in
one streaming pass of row chunks (class sums for the cosine map, plus the sampled rows).

usage: erase_report.py RUN.h5 --out DIR [--log LOG.jsonl] [--study DIR] [--tsne-sample 5000]
       [--pca-sample 20000]
Run by `erase-mpi report` (rank 0). On failure the last line on stderr is `report: <problem>`
naming the file, and the exit status is 1.
"""
import argparse
import glob
import html
import json
import math
import os
import shutil
import struct
import sys
import time
import traceback

DPI = 100
SAMPLE_SEED = 20240531  # sampling and t-SNE are reproducible: same run file, same pictures
CHUNK_BYTES = 64 << 20  # embeddings are streamed in row chunks of at most this many bytes
CHUNK_ROWS_MAX = 65536
WRONG_SHARE = 4  # wrongly-labelled training nodes fill at most 1/WRONG_SHARE of a sample
SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST = 1, 2, 4
LABEL_SETS = ("clean", "noisy", "denoised", "semantic", "predicted", "split")
EPOCH_COLS = ("run", "epoch", "loss", "R", "Rc", "delta_R", "train_acc", "val_acc", "test_acc",
              "semantic_train_acc", "semantic_all_acc")
PHASES = ("encoder_fwd", "labels", "loss", "encoder_bwd", "grad_allreduce", "adam", "eval_fwd",
          "probe")
# Every figure's file and fixed pixel size (figsize = size / DPI, saved without tight bbox), so
# the size is exact and known: the test reads it back from the PNG header.
SIZES = {
    "curves.png": (1200, 700),
    "accuracy.png": (1200, 480),
    "labels.png": (1000, 450),
    "pca.png": (1000, 750),
    "tsne.png": (1000, 750),
    "cosine.png": (800, 700),
    "confusion.png": (800, 700),
    "phases.png": (1200, 700),
}


class ReportError(Exception):
    """A problem with the inputs or the output directory; main prints it as one line."""


class ArgParser(argparse.ArgumentParser):
    def error(self, message):
        raise ReportError(f"bad arguments: {message}")


def say(msg):
    print(f"report: {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# Reading the run
# ---------------------------------------------------------------------------------------------

def attr(obj, name, default=None):
    """A scalar HDF5 attribute as a Python int/float/str (default when absent)."""
    if name not in obj.attrs:
        return default
    v = obj.attrs[name]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if hasattr(v, "item"):
        v = v.item()
        if isinstance(v, bytes):
            return v.decode("utf-8", "replace")
    return v


def parse_config(text):
    """The `key = value` lines of the config attribute as a dict."""
    conf = {}
    for line in (text or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            conf[k.strip()] = v.strip()
    return conf


def open_run(path):
    """Opens RUN.h5 and checks it is a run output; returns the h5py.File."""
    import h5py
    if not os.path.exists(path):
        raise ReportError(f"{path}: no such file")
    if os.path.isdir(path):
        raise ReportError(f"{path}: is a directory, not a run file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ReportError(f"{path}: cannot open as HDF5 ({e})") from None
    try:
        check_run(f, path)
    except BaseException:
        f.close()
        raise
    return f


def check_run(f, path):
    import h5py
    hint = "not a run output of `erase-mpi train --out`"
    if isinstance(f.get("graph"), h5py.Group) and isinstance(f.get("features"), h5py.Dataset):
        raise ReportError(f"{path}: is a dataset (it has /graph and /features), {hint}")
    emb = f.get("embeddings")
    if not isinstance(emb, h5py.Dataset) or emb.ndim != 2:
        raise ReportError(f"{path}: {hint} (no 2-D /embeddings)")
    n = emb.shape[0]
    if not isinstance(f.get("labels"), h5py.Group):
        raise ReportError(f"{path}: {hint} (no /labels group)")
    for name in LABEL_SETS:
        d = f["labels"].get(name)
        if not isinstance(d, h5py.Dataset) or d.shape != (n,):
            raise ReportError(f"{path}: {hint} (no /labels/{name} of {n} entries)")
    ep = f.get("metrics/epoch")
    if not isinstance(ep, h5py.Group):
        raise ReportError(f"{path}: {hint} (no /metrics/epoch)")
    lens = set()
    for c in EPOCH_COLS:
        if not isinstance(ep.get(c), h5py.Dataset):
            raise ReportError(f"{path}: {hint} (no /metrics/epoch/{c})")
        lens.add(ep[c].shape)
    if len(lens) != 1 or next(iter(lens))[0] == 0:
        raise ReportError(f"{path}: /metrics/epoch columns are empty or of different lengths")
    for a in ("best_run", "best_epoch", "best_val_acc", "num_classes"):
        if a not in f.attrs:
            raise ReportError(f"{path}: {hint} (no root attribute {a})")
    if int(attr(f, "num_classes")) < 1:
        raise ReportError(f"{path}: num_classes is {attr(f, 'num_classes')}")


def read_run(f, path):
    """Everything but the embeddings: labels (whole vectors), metrics, attributes."""
    import numpy as np
    r = {"path": path, "N": f["embeddings"].shape[0], "d": f["embeddings"].shape[1],
         "K": int(attr(f, "num_classes"))}
    r["labels"] = {k: f["labels"][k][()].astype(np.int64) for k in LABEL_SETS}
    r["label_attrs"] = {k: attr(f["labels"], k) for k in
                        ("noisy_train_acc", "denoised_train_acc", "denoised_train_coverage")}
    r["epoch"] = {c: f["metrics/epoch"][c][()] for c in f["metrics/epoch"]}
    runs = f.get("metrics/runs")
    r["runs"] = ({c: runs[c][()] for c in runs} if runs is not None and "best_epoch" in runs
                 else None)
    r["runs_attrs"] = ({k: attr(runs, k) for k in ("test_mean", "test_std")}
                       if runs is not None else {})
    r["attrs"] = {k: attr(f, k) for k in f.attrs}
    r["config"] = parse_config(r["attrs"].get("config"))
    r["best_run"], r["best_epoch"] = int(r["attrs"]["best_run"]), int(r["attrs"]["best_epoch"])
    r["best_val"] = float(r["attrs"]["best_val_acc"])
    clean = r["labels"]["clean"]
    if clean.size and (clean.min() < -1 or clean.max() >= r["K"]):
        raise ReportError(f"{path}: /labels/clean holds {clean.min()}..{clean.max()}, outside "
                          f"-1..{r['K'] - 1} (num_classes = {r['K']})")
    e = r["epoch"]
    hit = np.flatnonzero((e["run"] == r["best_run"]) & (e["epoch"] == r["best_epoch"]))
    r["best_row"] = int(hit[-1]) if len(hit) else None
    return r


def plan_samples(lab, m_pca, m_tsne):
    """Sorted node ids for the PCA and t-SNE pictures, and the wrongly-labelled mask. Labelled
    nodes only; the wrongly-labelled training nodes first (all of them, up to a quarter of the
    sample: more would hide the classes), the rest a uniform draw; the smaller sample is a
    subset of the larger. Seeded: the same run file gives the same pictures."""
    import numpy as np
    clean, noisy, split = lab["clean"], lab["noisy"], lab["split"]
    wrong_mask = ((split & SPLIT_TRAIN) != 0) & (clean >= 0) & (noisy >= 0) & (noisy != clean)
    rng = np.random.default_rng(SAMPLE_SEED)
    wrong = rng.permutation(np.flatnonzero(wrong_mask))
    other = rng.permutation(np.flatnonzero((clean >= 0) & ~wrong_mask))

    def take(m):
        a = min(len(wrong), m // WRONG_SHARE)
        b = min(len(other), m - a)
        a = min(len(wrong), m - b)
        return np.sort(np.concatenate([wrong[:a], other[:b]]))

    return take(m_pca), take(m_tsne) if m_tsne > 0 else None, wrong_mask


def stream_embeddings(ds, clean, K, need):
    """One pass over /embeddings in row chunks: rows are L2-normalized; per class the sum of the
    normalized rows, the row count and the count of non-zero rows; and the normalized rows of
    the sorted node ids `need`. Non-finite rows count as zero rows."""
    import numpy as np
    import scipy.sparse as sp
    N, d = ds.shape
    step = max(1, min(CHUNK_ROWS_MAX, CHUNK_BYTES // max(1, 4 * d)))
    sums = np.zeros((K, d))
    nonzero = np.zeros(K)
    rows = np.empty((len(need), d), np.float32)
    bad = 0
    for lo in range(0, N, step):
        hi = min(N, lo + step)
        x = np.asarray(ds[lo:hi], dtype=np.float32)
        finite = np.isfinite(x).all(axis=1)
        if not finite.all():
            bad += int((~finite).sum())
            x[~finite] = 0
        norm = np.sqrt(np.einsum("ij,ij->i", x, x))
        nz = norm > 0
        norm[~nz] = 1
        x /= norm[:, None]
        c = clean[lo:hi]
        idx = np.flatnonzero(c >= 0)
        onehot = sp.csr_matrix((np.ones(len(idx), np.float32), (c[idx], idx)),
                               shape=(K, hi - lo))
        sums += onehot @ x
        nonzero += np.bincount(c[idx][nz[idx]], minlength=K)[:K]
        a, b = np.searchsorted(need, [lo, hi])
        rows[a:b] = x[need[a:b] - lo]
    counts = np.bincount(clean[clean >= 0], minlength=K)[:K].astype(np.float64)
    return sums, counts, nonzero, rows, bad, step


def class_cosine(sums, counts, nonzero):
    """Mean cosine over pairs of distinct nodes of classes a and b: (s_a . s_b) / (n_a n_b) off
    the diagonal, (|s_a|^2 - z_a) / (n_a (n_a - 1)) on it (z_a: non-zero rows, each of which is
    its own pair with cosine 1). NaN where a class has too few nodes."""
    import numpy as np
    g = sums @ sums.T
    with np.errstate(divide="ignore", invalid="ignore"):
        c = g / np.outer(counts, counts)
        diag = (np.diag(g) - nonzero) / (counts * (counts - 1))
    c[np.diag_indices_from(c)] = diag
    c[~np.isfinite(c)] = np.nan
    return c


def epoch_record_ok(o):
    """An epoch line whose run, epoch, phases and halo waits are numbers."""
    def num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    waits = o.get("halo_wait") or {}
    return (isinstance(o["epoch"], int) and isinstance(o.get("run", 0), int) and
            isinstance(waits, dict) and all(num(v) for v in o["phases"].values()) and
            all(num(v) for v in waits.values()) and
            all(num(o.get(k, 0)) for k in ("compute_s", "comm_s")))


def read_log(path):
    """Epoch records with phases from a --log-json file, by (run, epoch) (a resumed run may repeat
    an epoch: the last wins), and the setup line. Lines that do not parse are skipped."""
    if not os.path.isfile(path):
        raise ReportError(f"{path}: no such file" if not os.path.exists(path)
                          else f"{path}: not a regular file")
    epochs, setup, skipped = {}, None, 0
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        raise ReportError(f"{path}: cannot read ({e.strerror or e})") from None
    with f:
        for line in f:
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except ValueError:
                skipped += 1
                continue
            if not isinstance(o, dict):
                skipped += 1
            elif "epoch" in o and isinstance(o.get("phases"), dict):
                if epoch_record_ok(o):
                    epochs[(o.get("run", 0), o["epoch"])] = o
                else:
                    skipped += 1
            elif "setup_s" in o:
                setup = o
    if not epochs:
        raise ReportError(f"{path}: no epoch lines with \"phases\" (is it the JSON log of "
                          "`erase-mpi train --log-json`?)")
    return [epochs[k] for k in sorted(epochs)], setup, skipped


def png_size(path):
    """Width and height from a PNG's IHDR chunk, or None if the file is not a PNG."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def find_study(d):
    """The scaling study's PNGs and CSVs (top level of d); checked before any output."""
    if not os.path.exists(d):
        raise ReportError(f"{d}: no such study directory")
    if not os.path.isdir(d):
        raise ReportError(f"{d}: not a directory (--study wants a scaling study's results "
                          "directory)")
    files = sorted(glob.glob(os.path.join(d, "*.png")) + glob.glob(os.path.join(d, "*.csv")))
    if not files:
        raise ReportError(f"{d}: no PNG or CSV in the study directory (run "
                          "jobs/collect_scaling.py on it first)")
    return files


def copy_study(files, out):
    """Copies the study files into out/study/ so the report is self-contained."""
    dest = os.path.join(out, "study")
    os.makedirs(dest, exist_ok=True)
    items = []
    for src in files:
        name = os.path.basename(src)
        dst = os.path.join(dest, name)
        if not (os.path.exists(dst) and os.path.samefile(src, dst)):
            shutil.copyfile(src, dst)
        items.append((name, "study/" + name))
    return items


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

def new_fig(name, nrows=1, ncols=1, **kw):
    import matplotlib.pyplot as plt
    w, h = SIZES[name]
    return plt.subplots(nrows, ncols, figsize=(w / DPI, h / DPI), dpi=DPI, **kw)


def save(fig, out, name, figs, title, caption):
    import matplotlib.pyplot as plt
    path = os.path.join(out, name)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    figs.append({"file": name, "size": SIZES[name], "title": title, "caption": caption})


def run_colors(nruns):
    import matplotlib.pyplot as plt
    cmap = plt.get_cmap("tab10" if nruns <= 10 else "viridis")
    return [cmap(i if nruns <= 10 else i / max(1, nruns - 1)) for i in range(nruns)]


def class_colors(K):
    import matplotlib.pyplot as plt
    if K <= 10:  # tab10 with its gray (too close to the black crosses) made gold
        return [plt.get_cmap("tab10")(i) if i != 7 else (1.0, 0.78, 0.0, 1.0) for i in range(K)]
    if K <= 20:
        return [plt.get_cmap("tab20")(i) for i in range(K)]
    return [plt.get_cmap("turbo")(i / (K - 1)) for i in range(K)]


def epoch_axis(ax, label="epoch"):
    from matplotlib.ticker import MaxNLocator
    ax.set_xlabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def per_run(r):
    """(run id, row indices in epoch order) for every run in the metrics."""
    import numpy as np
    e = r["epoch"]
    out = []
    for run in np.unique(e["run"]):
        rows = np.flatnonzero(e["run"] == run)
        out.append((int(run), rows[np.argsort(e["epoch"][rows], kind="stable")]))
    return out


def fig_curves(r, out, figs):
    e, runs = r["epoch"], per_run(r)
    colors = run_colors(len(runs))
    fig, axes = new_fig("curves.png", 2, 2, sharex=True)
    panels = (("loss", "loss = -gamma2 R + gamma1 Rc (minimized)", "loss"),
              ("R", "R: coding rate of all embeddings", "R"),
              ("Rc", "Rc: coding rate within the semantic classes", "Rc"),
              ("delta_R", "Delta R = R_th - Rc (R_th: R without gamma1)", "Delta R"))
    for ax, (col, title, ylabel) in zip(axes.flat, panels):
        for (run, rows), color in zip(runs, colors):
            ax.plot(e["epoch"][rows], e[col][rows], color=color, lw=1.3,
                    label=f"run {run}" if len(runs) <= 10 else None)
        if r["best_row"] is not None:
            b = r["best_row"]
            ax.plot(e["epoch"][b], e[col][b], "*", color="black", ms=13, zorder=5,
                    label="best model")
        ax.set_title(title, fontsize=11)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        epoch_axis(ax)
    handles, labels = axes[0][0].get_legend_handles_labels()
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8,
                   frameon=False)
    fig.suptitle("Training curves (one line per run; star: the best model)", fontsize=12)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save(fig, out, "curves.png", figs, "Training curves",
         "The coding-rate-reduction loss and its terms R (all embeddings), Rc (within the "
         "semantic classes) and Delta R per epoch, one line per run, with the saved best model "
         "starred.")


def fig_accuracy(r, out, figs):
    import numpy as np
    e, runs = r["epoch"], per_run(r)
    colors = run_colors(len(runs))
    fig, (a1, a2) = new_fig("accuracy.png", 1, 2, sharey=True)
    best = dict(runs).get(r["best_run"])
    if best is not None:
        # metric colours apart from the run colours of the right panel
        for col, color, name in (("train_acc", "dimgray", "train (noisy labels)"),
                                 ("val_acc", "tab:purple", "validation"),
                                 ("test_acc", "tab:cyan", "test")):
            a1.plot(e["epoch"][best], e[col][best], color=color, lw=1.5, label=name)
        a1.axvline(r["best_epoch"], color="black", ls=":", lw=1)
        if r["best_row"] is not None:
            b = r["best_row"]
            a1.plot(e["epoch"][b], e["val_acc"][b], "*", color="black", ms=13, zorder=5,
                    label=f"best: epoch {r['best_epoch']}, val {e['val_acc'][b]:.2f}%, "
                          f"test {e['test_acc'][b]:.2f}%")
    a1.set_title(f"run {r['best_run']} (the best model's run)", fontsize=11)
    best_epochs = ({int(k): int(v) for k, v in zip(r["runs"]["run"], r["runs"]["best_epoch"])}
                   if r["runs"] is not None else {})
    for (run, rows), color in zip(runs, colors):
        lab = f"run {run}" if len(runs) <= 10 else None
        a2.plot(e["epoch"][rows], e["val_acc"][rows], color=color, lw=1.2, label=lab)
        a2.plot(e["epoch"][rows], e["test_acc"][rows], color=color, lw=1.0, ls="--")
        be = best_epochs.get(run)
        hit = rows[e["epoch"][rows] == be] if be is not None else []
        if len(hit):
            a2.plot(be, e["val_acc"][hit[-1]], "o", color=color, ms=6, mec="black", zorder=4)
    a2.plot([], [], color="gray", lw=1.2, label="validation")
    a2.plot([], [], color="gray", lw=1.0, ls="--", label="test")
    a2.plot([], [], "o", color="gray", mec="black", label="each run's best epoch")
    a2.set_title("validation and test accuracy of every run", fontsize=11)
    for ax in (a1, a2):
        epoch_axis(ax)
        ax.grid(alpha=0.3)
    a1.set_ylabel("accuracy (%)")
    cols = [e[c] for c in ("train_acc", "val_acc", "test_acc")]
    lo, hi = float(np.nanmin([c.min() for c in cols])), float(np.nanmax([c.max() for c in cols]))
    a1.set_ylim(max(0.0, lo - 5), min(100.0, hi + 5))
    fig.subplots_adjust(left=0.06, right=0.99, top=0.93, bottom=0.25, wspace=0.06)
    # legends under the axes: curves may be anywhere in the panels
    a1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    a2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=5, frameon=False)
    save(fig, out, "accuracy.png", figs, "Accuracy",
         "Linear-probe accuracy on the training (noisy labels), validation and test nodes per "
         "epoch of the best model's run (left, best epoch starred) and validation (solid) and "
         "test (dashed) accuracy of every run with each run's best epoch dotted (right).")


def fig_labels(r, out, figs):
    e, runs = r["epoch"], per_run(r)
    la = r["label_attrs"]
    fig, ax = new_fig("labels.png")
    fig.subplots_adjust(left=0.07, right=0.66, top=0.92, bottom=0.12)
    which = f" (bold: run {r['best_run']})" if len(runs) > 1 else ""
    for run, rows in sorted(runs, key=lambda t: t[0] == r["best_run"]):  # best run on top
        best = run == r["best_run"]
        style = {"lw": 1.8 if best else 1.0, "alpha": 1.0 if best else 0.45}
        ax.plot(e["epoch"][rows], e["semantic_train_acc"][rows], color="C0", **style,
                label=f"semantic labels, training nodes{which}" if best else None)
        ax.plot(e["epoch"][rows], e["semantic_all_acc"][rows], color="C4", ls="--", **style,
                label=f"semantic labels, all labelled nodes{which}" if best else None)
    if la["noisy_train_acc"] is not None:
        ax.axhline(la["noisy_train_acc"], color="C3", ls=":", lw=2,
                   label=f"noisy training labels ({la['noisy_train_acc']:.2f}%)")
    if la["denoised_train_acc"] is not None:
        cov = la["denoised_train_coverage"]
        cov = f", covers {cov:.1f}%" if cov is not None else ""
        ax.axhline(la["denoised_train_acc"], color="C2", ls="-.", lw=2,
                   label=f"denoised training labels ({la['denoised_train_acc']:.2f}%{cov})")
    ax.axvline(r["best_epoch"], color="black", ls=":", lw=1,
               label=f"best epoch ({r['best_epoch']}, run {r['best_run']})")
    epoch_axis(ax, "epoch" + (f" (one line per run, {len(runs)} runs)" if len(runs) > 1 else ""))
    ax.set_ylabel("agreement with the clean labels (%)")
    ax.set_title("Label quality: how many labels equal the clean labels", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    save(fig, out, "labels.png", figs, "Label quality",
         "Share of labels equal to the clean labels: the noisy training labels and the denoised "
         "(propagated) ones, fixed for the run, against the semantic labels the loss uses at each "
         "epoch, on the training nodes and on all labelled nodes.")


def scatter(name, xy, nodes, r, wrong_mask, title, xlabel, ylabel, out, figs, caption):
    import numpy as np
    from matplotlib.lines import Line2D
    K = r["K"]
    clean = r["labels"]["clean"][nodes]
    wrong = wrong_mask[nodes]
    colors = np.array(class_colors(K))
    fig, ax = new_fig(name)
    fig.subplots_adjust(left=0.07, right=0.76, top=0.93, bottom=0.08)
    order = np.random.default_rng(SAMPLE_SEED).permutation(len(nodes))  # no class always on top
    s = 14 if len(nodes) <= 3000 else 6 if len(nodes) <= 10000 else 3
    ax.scatter(xy[order, 0], xy[order, 1], c=colors[clean[order]], s=s, lw=0, alpha=0.8)
    many = wrong.sum() > 300  # many crosses: thinner, so that the classes stay visible
    ax.scatter(xy[wrong, 0], xy[wrong, 1], marker="x", c="black", s=10 if many else 3 * s + 10,
               lw=0.5 if many else 0.9, alpha=0.7 if many else 1.0)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.set_xticks([])
    ax.set_yticks([])
    counts = np.bincount(clean, minlength=K)
    handles = [Line2D([], [], marker="x", color="black", ls="", ms=7,
                      label=f"wrong training label ({int(wrong.sum())})")]
    if K <= 20:
        handles += [Line2D([], [], marker="o", color=colors[k], ls="", ms=7,
                           label=f"class {k} ({counts[k]})") for k in range(K)]
    else:
        import matplotlib.cm as cm
        import matplotlib.colors as mc
        sm = cm.ScalarMappable(norm=mc.Normalize(0, K - 1), cmap="turbo")
        cax = fig.add_axes([0.80, 0.15, 0.02, 0.6])
        fig.colorbar(sm, cax=cax, label="clean class")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9,
              title=f"clean class ({len(nodes)} nodes)", title_fontsize=9, frameon=False)
    save(fig, out, name, figs, title, caption)


def fig_projections(r, sample, emb_rows, need, wrong_mask, out, figs):
    import numpy as np
    from sklearn.decomposition import PCA
    pca_nodes, tsne_nodes = sample
    nw = int(wrong_mask.sum())
    pos = np.searchsorted(need, pca_nodes)
    x = emb_rows[pos]
    pca = PCA(n_components=2, random_state=SAMPLE_SEED).fit(x)
    xy = pca.transform(x)
    ev = pca.explained_variance_ratio_ * 100
    n_lab = int((r["labels"]["clean"] >= 0).sum())

    def drawn(n):
        if n == n_lab:
            return f"all {n} labelled nodes"
        how = (f"all {nw} wrongly-labelled training nodes" if nw <= n // WRONG_SHARE else
               f"{n // WRONG_SHARE} of the {nw} wrongly-labelled training nodes")
        return f"a seeded sample of {n} of the {n_lab} labelled nodes: {how}, the rest uniform"
    scatter("pca.png", xy, pca_nodes, r, wrong_mask,
            f"PCA of the L2-normalized embeddings ({len(pca_nodes)} nodes)",
            f"PC 1 ({ev[0]:.1f}% of the variance)", f"PC 2 ({ev[1]:.1f}%)", out, figs,
            f"The embeddings (L2-normalized) projected on their first two principal components "
            f"(PCA fit on {drawn(len(pca_nodes))}), coloured by clean class, with the "
            "wrongly-labelled training nodes as black crosses.")
    if tsne_nodes is None:
        return
    if len(tsne_nodes) < 10:
        say(f"t-SNE skipped: only {len(tsne_nodes)} labelled nodes")
        return
    from sklearn.manifold import TSNE
    t0 = time.time()
    x = emb_rows[np.searchsorted(need, tsne_nodes)]
    if x.shape[1] > 50 and len(x) > 50:  # the usual PCA step before t-SNE: same picture, faster
        x = PCA(n_components=50, random_state=SAMPLE_SEED).fit_transform(x)
    perplexity = min(30.0, (len(x) - 1) / 3.0)
    xy = TSNE(n_components=2, perplexity=perplexity, init="pca", learning_rate="auto",
              random_state=SAMPLE_SEED).fit_transform(x)
    say(f"t-SNE of {len(tsne_nodes)} nodes in {time.time() - t0:.1f} s")
    scatter("tsne.png", xy, tsne_nodes, r, wrong_mask,
            f"t-SNE of the L2-normalized embeddings ({len(tsne_nodes)} nodes)", "t-SNE 1",
            "t-SNE 2", out, figs,
            f"t-SNE (perplexity {perplexity:.0f}, fixed seed) of {drawn(len(tsne_nodes))}, "
            "coloured by clean class, with the wrongly-labelled training nodes as black crosses.")


def heatmap(ax, m, K, annot, fmt, vmin, vmax, cmap):
    import numpy as np
    im = ax.imshow(np.ma.masked_invalid(m), vmin=vmin, vmax=vmax, cmap=cmap)
    step = max(1, math.ceil(K / 30))
    ticks = list(range(0, K, step))
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.tick_params(labelsize=8 if K <= 30 else 7)
    if annot is not None and K <= 20:
        size = 9 if K <= 10 else 6
        for i in range(K):
            for j in range(K):
                if np.isfinite(m[i, j]):
                    rgb = im.cmap(im.norm(m[i, j]))[:3]  # text dark on light cells
                    light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 0.5
                    ax.text(j, i, fmt(i, j), ha="center", va="center", fontsize=size,
                            color="black" if light else "white")
    return im


def fig_cosine(r, cos, out, figs):
    import numpy as np
    K = r["K"]
    fig, ax = new_fig("cosine.png")
    vmin = min(0.0, float(np.nanmin(cos))) if np.isfinite(cos).any() else 0.0
    im = heatmap(ax, cos, K, cos, lambda i, j: f"{cos[i, j]:.2f}", vmin, 1.0, "viridis")
    fig.colorbar(im, ax=ax, shrink=0.85, label="mean cosine similarity")
    ax.set(xlabel="clean class", ylabel="clean class",
           title="Mean cosine similarity of the embeddings between classes")
    fig.tight_layout()
    save(fig, out, "cosine.png", figs, "Class-by-class cosine similarity",
         "Mean pairwise cosine similarity of the L2-normalized embeddings between the nodes of "
         "two clean classes, (s_a . s_b) / (n_a n_b) with s the per-class sum of normalized rows "
         "(distinct pairs only on the diagonal), over all labelled nodes: ERASE aims at a bright "
         "diagonal and a dark rest (orthogonal class subspaces).")


def fig_confusion(r, out, figs):
    import numpy as np
    K, lab = r["K"], r["labels"]
    test = ((lab["split"] & SPLIT_TEST) != 0) & (lab["clean"] >= 0)
    y, p = lab["clean"][test], lab["predicted"][test]
    ok = (p >= 0) & (p < K)
    counts = np.bincount(y[ok] * K + p[ok], minlength=K * K).reshape(K, K).astype(float)
    rows = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = counts / rows
    n = int(test.sum())
    acc = 100.0 * np.trace(counts) / n if n else float("nan")
    fig, ax = new_fig("confusion.png")
    fmt = ((lambda i, j: f"{100 * share[i, j]:.0f}%\n{int(counts[i, j])}") if K <= 10 else
           (lambda i, j: f"{int(counts[i, j])}"))
    im = heatmap(ax, share, K, share, fmt, 0.0, 1.0, "Blues")
    fig.colorbar(im, ax=ax, shrink=0.85, label="share of the true class's test nodes")
    extra = f", {int((~ok).sum())} without prediction" if (~ok).any() else ""
    ax.set(xlabel="predicted class (linear probe)", ylabel="clean class",
           title=f"Probe on {n} test nodes: accuracy {acc:.2f}%{extra}")
    fig.tight_layout()
    save(fig, out, "confusion.png", figs, "Confusion matrix of the linear probe",
         "The best model's linear-probe predictions against the clean labels on the test nodes, "
         "each row normalized to the true class's nodes (colour and percent) with the counts.")
    return acc, n


def fig_phases(recs, out, figs):
    import numpy as np
    fig, (a1, a2) = new_fig("phases.png", 2, 1, sharex=True)
    fig.subplots_adjust(left=0.07, right=0.8, top=0.94, bottom=0.08, hspace=0.12)
    x = np.arange(1, len(recs) + 1)
    names = list(PHASES) + sorted({k for o in recs for k in o["phases"]} - set(PHASES))
    ys = [[float(o["phases"].get(k, 0.0)) for o in recs] for k in names]
    a1.stackplot(x, ys, labels=names, alpha=0.85,
                 colors=[f"C{i % 10}" for i in range(len(names))])
    wall = [float(o.get("compute_s", 0.0)) + float(o.get("comm_s", 0.0)) for o in recs]
    a1.plot(x, wall, color="black", lw=1, label="epoch (compute_s + comm_s)")
    a1.set(ylabel="seconds (slowest rank)", title="Per-epoch phase times and halo waits")
    waits = sorted({k for o in recs for k in (o.get("halo_wait") or {})},
                   key=lambda k: names.index(k) if k in names else len(names))
    for k in waits:
        i = names.index(k) if k in names else 0
        a2.plot(x, [float((o.get("halo_wait") or {}).get(k, 0.0)) for o in recs],
                color=f"C{i % 10}", lw=1.2, label=k)
    a2.set_ylabel("halo wait (s, slowest rank)")
    epoch_axis(a2, "epoch, runs one after another (dotted: a run starts)")
    runs = [o.get("run", 0) for o in recs]
    for i in range(1, len(recs)):
        if runs[i] != runs[i - 1]:
            for ax in (a1, a2):
                ax.axvline(x[i] - 0.5, color="gray", ls=":", lw=1)
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    if not waits:
        a2.text(0.5, 0.5, "no halo waits in the log", transform=a2.transAxes, ha="center")
    save(fig, out, "phases.png", figs, "Time per epoch",
         "Wall seconds of each training phase per epoch (stacked, each the slowest rank's, with "
         "the epoch time as a black line) and the time spent waiting for halo exchanges inside "
         "those phases, from the JSON log.")


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------

def fmt_num(v, nd=3):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:.{nd}g}" if not f.is_integer() else str(int(f))


def summary_rows(r, info):
    e, c, la, lab = r["epoch"], r["config"], r["label_attrs"], r["labels"]
    a = r["attrs"]
    split = lab["split"]
    rows = [
        ("run file", os.path.abspath(r["path"])),
        ("dataset", f"{a.get('dataset', '?')} (graph checksum "
                    f"{a.get('dataset_graph_checksum', '?')})"),
        ("nodes N, classes K, embedding width d", f"{r['N']}, {r['K']}, {r['d']}"),
        ("training / validation / test nodes",
         f"{int(((split & SPLIT_TRAIN) != 0).sum())} / {int(((split & SPLIT_VAL) != 0).sum())} / "
         f"{int(((split & SPLIT_TEST) != 0).sum())}"),
        ("ranks (partition)", f"{a.get('ranks', '?')} ({a.get('partition', '?')})"),
        ("label noise", f"{c.get('noise', '?')}, ratio {fmt_num(c.get('noise-ratio', '?'))}, "
                        f"seed {c.get('noise-seed', '?')}"),
        ("epochs, runs", f"{c.get('epochs', '?')} configured x {c.get('runs', '?')} runs "
                         f"({len(e['epoch'])} epochs trained in all)"),
        ("model", f"hidden {c.get('hidden', '?')} x {c.get('heads', '?')} heads, embedding "
                  f"{c.get('embed', '?')}, lr {fmt_num(c.get('lr', '?'))}, denoise "
                  f"{c.get('denoise', '?')}"),
        ("best model", f"run {r['best_run']}, epoch {r['best_epoch']}"),
        ("best validation accuracy", f"{r['best_val']:.2f}%"),
    ]
    if r["best_row"] is not None:
        b = r["best_row"]
        rows.append(("test accuracy at the best epoch", f"{e['test_acc'][b]:.2f}%"))
    ra = r["runs_attrs"]
    if ra.get("test_mean") is not None:
        nr = len(r["runs"]["run"]) if r["runs"] is not None else "?"
        rows.append(("test accuracy over runs", f"{ra['test_mean']:.2f} +- "
                                                f"{ra.get('test_std') or 0:.2f}% ({nr} runs)"))
    rows.append(("probe test accuracy (from /labels/predicted)",
                 f"{info['probe_acc']:.2f}% of {info['probe_n']} test nodes"))
    if la["noisy_train_acc"] is not None:
        rows.append(("noisy training labels correct", f"{la['noisy_train_acc']:.2f}%"))
    if la["denoised_train_acc"] is not None:
        cov = la["denoised_train_coverage"]
        rows.append(("denoised training labels correct",
                     f"{la['denoised_train_acc']:.2f}%" +
                     (f" (coverage {cov:.2f}%)" if cov is not None else "")))
    if r["best_row"] is not None:
        b = r["best_row"]
        rows.append(("semantic labels correct at the best epoch",
                     f"{e['semantic_train_acc'][b]:.2f}% of training nodes, "
                     f"{e['semantic_all_acc'][b]:.2f}% of all labelled nodes"))
    rows.append(("mean cosine within / between classes",
                 f"{info['cos_in']:.3f} / {info['cos_out']:.3f}"))
    if info["bad_rows"]:
        rows.append(("non-finite embedding rows", f"{info['bad_rows']} (treated as zero)"))
    if info.get("setup_s") is not None:
        rows.append(("setup time (log)", f"{info['setup_s']:.2f} s"))
    rows.append(("erase-mpi version", f"{a.get('version', '?')} ({a.get('git_revision', '?')})"))
    return rows


CSS = """body{font-family:sans-serif;max-width:1240px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top;font-size:14px}th{background:#f2f2f2;font-weight:600}
figure{margin:1em 0 2em}img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:14px;color:#444;margin-top:0.3em;max-width:1000px}h2{margin-top:1.5em;
border-bottom:1px solid #ccc}code{font-size:13px}"""


def figure_html(fig):
    w, h = fig["size"]
    return (f'<figure id="{html.escape(fig["file"])}"><img src="{html.escape(fig["file"])}" '
            f'width="{w}" height="{h}" alt="{html.escape(fig["title"])}">\n'
            f'<figcaption>{html.escape(fig["caption"])}</figcaption></figure>')


def csv_table(path, limit=40):
    import csv
    try:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.reader(f))
    except OSError:
        return ""
    if not rows or len(rows) > limit + 1:
        return ""
    out = ["<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr>"]
    out += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
            for row in rows[1:]]
    return "\n".join(out) + "</table>"


def write_html(out, r, info, figs, study, study_dir):
    sections = [("Training", ("curves.png", "accuracy.png")), ("Label quality", ("labels.png",)),
                ("Embeddings", ("pca.png", "tsne.png", "cosine.png", "confusion.png")),
                ("Time", ("phases.png",))]
    by_file = {f["file"]: f for f in figs}
    title = f"ERASE-MPI run report: {os.path.basename(r['path'])}"
    parts = [f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", "<h2>Summary</h2>", "<table>"]
    parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
              for k, v in summary_rows(r, info)]
    parts.append("</table>")
    for name, files in sections:
        present = [by_file[f] for f in files if f in by_file]
        if present:
            parts.append(f"<h2>{html.escape(name)}</h2>")
            parts += [figure_html(f) for f in present]
    if study:
        parts.append("<h2>Scaling study</h2>")
        parts.append(f"<p>Copied from <code>{html.escape(os.path.abspath(study_dir))}</code>."
                     "</p>")
        for name, rel in study:
            path = os.path.join(out, rel)
            if name.endswith(".png"):
                size = png_size(path)
                wh = f' width="{size[0]}" height="{size[1]}"' if size else ""
                parts.append(f'<figure><img src="{html.escape(rel)}"{wh} alt="{html.escape(name)}">'
                             f"<figcaption>The scaling study's plot <code>{html.escape(name)}"
                             "</code> (epoch time and parallel efficiency against the rank "
                             "count, from jobs/collect_scaling.py).</figcaption></figure>")
            else:
                parts.append(f'<p><a href="{html.escape(rel)}">{html.escape(name)}</a>: the '
                             "study's table (one row per run).</p>")
                parts.append(csv_table(path))
    parts.append("<p style=\"color:#777;font-size:12px\">Written by scripts/erase_report.py "
                 f"(PCA sample {info['pca_n']}, t-SNE sample {info['tsne_n']}, sampling seed "
                 f"{SAMPLE_SEED}).</p></body></html>\n")
    path = os.path.join(out, "index.html")
    tmp = path + f".tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------------------------

def make_report(a):
    import numpy as np
    if a.tsne_sample < 0 or a.pca_sample < 1:
        raise ReportError("--tsne-sample must be >= 0 and --pca-sample >= 1")
    t0 = time.time()
    f = open_run(a.run)
    try:
        try:
            r = read_run(f, a.run)
        except OSError as e:
            raise ReportError(f"{a.run}: cannot read ({e})") from None
        recs = setup = None
        if a.log:
            recs, setup, skipped = read_log(a.log)
            say(f"{a.log}: {len(recs)} epoch records" +
                (f" ({skipped} lines that do not parse skipped)" if skipped else ""))
        study_files = find_study(a.study) if a.study else None
        if os.path.exists(a.out) and not os.path.isdir(a.out):
            raise ReportError(f"{a.out}: exists and is not a directory (--out wants a directory)")
        try:
            os.makedirs(a.out, exist_ok=True)
        except OSError as e:
            raise ReportError(f"{a.out}: cannot create the output directory "
                              f"({e.strerror or e})") from None
        if not os.access(a.out, os.W_OK):
            raise ReportError(f"{a.out}: the output directory is not writable")
        say(f"{a.run}: N={r['N']} d={r['d']} K={r['K']}, {len(r['epoch']['epoch'])} epochs, "
            f"best run {r['best_run']} epoch {r['best_epoch']}")
        pca_nodes, tsne_nodes, wrong_mask = plan_samples(r["labels"], a.pca_sample,
                                                         a.tsne_sample)
        need = np.union1d(pca_nodes, tsne_nodes) if tsne_nodes is not None else pca_nodes
        t1 = time.time()
        try:
            sums, counts, nonzero, emb_rows, bad, step = stream_embeddings(
                f["embeddings"], r["labels"]["clean"], r["K"], need)
        except OSError as e:
            raise ReportError(f"{a.run}: cannot read /embeddings ({e})") from None
        say(f"embeddings: one pass in chunks of {step} rows ({time.time() - t1:.1f} s), "
            f"{len(need)} sampled rows kept")
    finally:
        f.close()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 10})
    cos = class_cosine(sums, counts, nonzero)
    K = r["K"]
    off = ~np.eye(K, dtype=bool)
    info = {"bad_rows": bad, "pca_n": len(pca_nodes),
            "tsne_n": len(tsne_nodes) if tsne_nodes is not None else 0,
            "cos_in": float(np.nanmean(np.diag(cos))) if np.isfinite(np.diag(cos)).any()
            else float("nan"),
            "cos_out": float(np.nanmean(cos[off])) if K > 1 and np.isfinite(cos[off]).any()
            else float("nan"),
            "setup_s": setup.get("setup_s") if setup else None}
    figs = []
    fig_curves(r, a.out, figs)
    fig_accuracy(r, a.out, figs)
    fig_labels(r, a.out, figs)
    if len(pca_nodes) >= 3 and r["d"] >= 2:
        fig_projections(r, (pca_nodes, tsne_nodes), emb_rows, need, wrong_mask, a.out, figs)
    fig_cosine(r, cos, a.out, figs)
    info["probe_acc"], info["probe_n"] = fig_confusion(r, a.out, figs)
    if recs:
        fig_phases(recs, a.out, figs)
    study = copy_study(study_files, a.out) if study_files else None
    path = write_html(a.out, r, info, figs, study, a.study)
    say(f"wrote {path} with {len(figs)} figures" +
        (f" and {len(study)} study files" if study else "") + f" ({time.time() - t0:.1f} s)")


def main(argv=None):
    ap = ArgParser(prog="erase_report.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("run", metavar="RUN.h5")
    ap.add_argument("--out", required=True, metavar="DIR")
    ap.add_argument("--log", metavar="LOG.jsonl")
    ap.add_argument("--study", metavar="DIR")
    ap.add_argument("--tsne-sample", type=int, default=5000)
    ap.add_argument("--pca-sample", type=int, default=20000)
    try:
        make_report(ap.parse_args(argv))
        return 0
    except ReportError as e:
        msg = str(e)
    except OSError as e:  # an output (or input) file: name it
        name = e.filename or ""
        msg = f"{name}: {e.strerror or e}" if name else f"{e}"
    except MemoryError:
        msg = "out of memory (try a smaller --pca-sample / --tsne-sample)"
    except Exception as e:  # a bug: keep the traceback above the one-line verdict
        traceback.print_exc(file=sys.stderr)
        msg = f"internal error: {type(e).__name__}: {e}"
    sys.stdout.flush()
    print(f"report: {' '.join(msg.split())}", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
