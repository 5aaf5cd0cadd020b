#!/usr/bin/python3
"""collect_scaling.py: turn the runs of scaling studies (submit_scaling.sh result directories)
into one CSV row per run (ranks, nodes, epoch time, compute/communication split, speedup,
efficiency) and a PNG plot. It reads outputs only: it runs nothing and judges no accuracy.

Per run it reads rP.log.json (JSON lines of erase-mpi train --log-json), and for the rank count
and graph size rP.h5 (RUN.h5 attributes) when present, else the last "train: ... N=... on P
ranks" header in rP.out. Epoch time is compute_s + comm_s of an epoch (both are the slowest
rank's); the medians skip the first SKIP epochs of every run (warm-up). Against the smallest rank
count b of a study: strong speedup = T_b / T_P and efficiency = speedup * b / P; weak
efficiency = T_b / T_P and (scaled) speedup = efficiency * P / b.

usage: collect_scaling.py DIR [DIR ...] [--csv FILE] [--png FILE] [--skip 2] [--mode strong|weak]
"""
import argparse
import csv
import glob
import json
import os
import re
import statistics
import sys

HEADER = re.compile(r"^train: (?P<data>\S+) N=(?P<nodes>\d+) E=(?P<edges>\d+) .* on "
                    r"(?P<ranks>\d+) ranks \(partition (?P<partition>[^)]*)\)")
HOSTS = re.compile(r"^train-job: job \S+ on \S+ \((?P<hosts>\d+) hosts\)")
COLUMNS = ["mode", "ranks", "hosts", "nodes", "edges", "partition", "epochs_timed", "epoch_s",
           "compute_s", "comm_s", "comm_frac", "speedup", "efficiency", "test_acc", "log"]


class CollectError(Exception):
    """A study or run that cannot be summarized; main prints it as one line."""


def read_log(path):
    """Epoch records keyed by (run, epoch) (a resumed run may repeat epochs: the last wins) and
    the summary object, if the run finished."""
    epochs, summary = {}, None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except json.JSONDecodeError as e:
                raise CollectError(f"{path}:{n}: not JSON ({e.msg})") from None
            if "epoch" in o and "compute_s" in o:
                epochs[(o["run"], o["epoch"])] = o
            elif "test_mean" in o:
                summary = o
    return epochs, summary


def read_out(path):
    """The last train header and host count in a job output file (requeues append)."""
    info = {}
    if not os.path.exists(path):
        return info
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = HEADER.match(line)
            if m:
                info.update({k: m[k] for k in ("nodes", "edges", "ranks", "partition")})
            m = HOSTS.match(line)
            if m:
                info["hosts"] = m["hosts"]
    return info


def read_h5(path):
    """Rank count, graph size and partition from the RUN.h5 root attributes."""
    info = {}
    if not os.path.exists(path):
        return info
    import h5py  # only needed when RUN.h5 files exist
    with h5py.File(path, "r") as f:
        for key, name in (("ranks", "ranks"), ("nodes", "num_nodes"), ("partition", "partition")):
            if name in f.attrs:
                v = f.attrs[name]
                info[key] = v.decode() if isinstance(v, bytes) else str(v)
    return info


def summarize_run(log, skip):
    """One run's medians: epoch time, compute, communication, and how many epochs were timed."""
    epochs, summary = read_log(log)
    if not epochs:
        raise CollectError(f"{log}: no epoch records (did the run fail?)")
    timed = [o for (_, e), o in sorted(epochs.items()) if e > skip]
    if not timed:
        print(f"collect_scaling: warning: {log}: only {len(epochs)} epochs, none after the first "
              f"{skip}: timing all of them", file=sys.stderr)
        timed = list(epochs.values())
    comp = statistics.median(o["compute_s"] for o in timed)
    comm = statistics.median(o["comm_s"] for o in timed)
    total = statistics.median(o["compute_s"] + o["comm_s"] for o in timed)
    return {"epochs_timed": len(timed), "epoch_s": total, "compute_s": comp, "comm_s": comm,
            "comm_frac": comm / total if total > 0 else 0.0,
            "test_acc": summary["test_mean"] if summary else ""}


def collect_study(d, skip, mode_arg):
    """Rows of one results directory, sorted by ranks, with speedup and efficiency."""
    study = {}
    if os.path.exists(os.path.join(d, "study.json")):
        with open(os.path.join(d, "study.json"), encoding="utf-8") as f:
            study = json.load(f)
    mode = study.get("mode") or mode_arg
    if mode not in ("strong", "weak"):
        raise CollectError(f"{d}: no study.json with a mode: pass --mode strong|weak")
    logs = sorted(glob.glob(os.path.join(d, "r*.log.json")))
    if not logs:
        raise CollectError(f"{d}: no r<P>.log.json files")
    rows = []
    for log in logs:
        stem = log[:-len(".log.json")]
        info = read_out(stem + ".out")
        info.update(read_h5(stem + ".h5"))
        if "ranks" not in info:
            m = re.search(r"r(\d+)$", stem)
            if not m:
                raise CollectError(f"{log}: rank count unknown (no header, no RUN.h5)")
            info["ranks"] = m[1]
        try:
            row = summarize_run(log, skip)
        except CollectError as e:
            print(f"collect_scaling: warning: {e}", file=sys.stderr)
            continue
        row.update(mode=mode, ranks=int(info["ranks"]), hosts=int(info.get("hosts", 1)),
                   nodes=info.get("nodes", ""), edges=info.get("edges", ""),
                   partition=info.get("partition", ""), log=os.path.relpath(log, d))
        rows.append(row)
    if not rows:
        raise CollectError(f"{d}: no run has epoch records")
    rows.sort(key=lambda r: r["ranks"])
    missing = sorted(set(study.get("ranks", [])) - {r["ranks"] for r in rows})
    if missing:
        print(f"collect_scaling: warning: {d}: no results for ranks {missing}", file=sys.stderr)
    b, tb = rows[0]["ranks"], rows[0]["epoch_s"]
    for r in rows:
        ratio = tb / r["epoch_s"] if r["epoch_s"] > 0 else 0.0
        if mode == "strong":
            r["speedup"], r["efficiency"] = ratio, ratio * b / r["ranks"]
        else:
            r["speedup"], r["efficiency"] = ratio * r["ranks"] / b, ratio
    return rows


def write_csv(path, rows):
    with open(path + ".tmp", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    os.replace(path + ".tmp", path)


def write_png(path, studies):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax_t, ax_e) = plt.subplots(1, 2, figsize=(10, 4))
    for i, (name, rows) in enumerate(studies):
        color = f"C{i}"
        p = [r["ranks"] for r in rows]
        b, tb = p[0], rows[0]["epoch_s"]
        label = f"{rows[0]['mode']} ({name})"
        ax_t.plot(p, [r["epoch_s"] for r in rows], "o-", color=color, label=f"{label}: epoch")
        ax_t.plot(p, [r["compute_s"] for r in rows], "s--", color=color, alpha=0.6,
                  label="compute")
        ax_t.plot(p, [r["comm_s"] for r in rows], "^:", color=color, alpha=0.6,
                  label="communication")
        ideal = [tb * b / q for q in p] if rows[0]["mode"] == "strong" else [tb] * len(p)
        ax_t.plot(p, ideal, "-", color="gray", linewidth=0.8)
        ax_e.plot(p, [r["efficiency"] for r in rows], "o-", color=color, label=label)
    # communication at 1 rank is ~0: keep the axis on the scale of the epoch times
    low = min(min(r["epoch_s"], r["compute_s"]) for _, rows in studies for r in rows) / 10
    ax_t.set(xscale="log", yscale="log", xlabel="ranks", ylabel="seconds per epoch (median)",
             title="epoch time (gray: ideal)", ylim=(low if low > 0 else None, None))
    ax_e.axhline(1.0, color="gray", linewidth=0.8)
    ax_e.set(xscale="log", xlabel="ranks", ylabel="parallel efficiency", ylim=(0, None),
             title="efficiency")
    for ax in (ax_t, ax_e):
        ranks = sorted({r["ranks"] for _, rows in studies for r in rows})
        ax.set_xticks(ranks, [str(q) for q in ranks])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=100)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", metavar="DIR", help="result directories of studies")
    ap.add_argument("--csv", help="output CSV (default DIR/scaling.csv for one DIR, else "
                    "./scaling.csv)")
    ap.add_argument("--png", help="output plot (default beside the CSV, scaling.png)")
    ap.add_argument("--skip", type=int, default=2, help="warm-up epochs left out (default 2)")
    ap.add_argument("--mode", choices=("strong", "weak"), help="mode of DIRs without study.json")
    a = ap.parse_args(argv)
    try:
        studies = [(os.path.basename(os.path.abspath(d)), collect_study(d, a.skip, a.mode))
                   for d in a.dirs]
    except (CollectError, OSError) as e:
        print(f"collect_scaling: error: {e}", file=sys.stderr)
        return 1
    out_csv = a.csv or os.path.join(a.dirs[0] if len(a.dirs) == 1 else ".", "scaling.csv")
    out_png = a.png or os.path.join(os.path.dirname(out_csv), "scaling.png")
    rows = [r for _, rs in studies for r in rs]
    write_csv(out_csv, rows)
    write_png(out_png, studies)
    for r in rows:
        print(f"{r['mode']:6} P={r['ranks']:<4} N={r['nodes']:<9} epoch {r['epoch_s']:.4f} s "
              f"(compute {r['compute_s']:.4f}, comm {r['comm_s']:.4f}) speedup "
              f"{r['speedup']:.2f} efficiency {r['efficiency']:.2f}")
    print(f"collect_scaling: wrote {out_csv} and {out_png} ({len(rows)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
