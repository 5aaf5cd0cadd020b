#!/usr/bin/python3
"""ref_probe.py OUT: scikit-learn LogisticRegression(C=1, lbfgs, max_iter=1000) references for
tests/test_probe_ref.c on three random problems (multiclass with an absent class, binary with
two present classes out of four, Cora-sized 7-class). Writes 'SKIP<reason>' if sklearn or numpy
is missing so the C test reports a skip."""
import struct
import sys
import warnings

out = sys.argv[1]
try:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import normalize
except Exception as e:  # noqa: BLE001 - any import problem means: no reference available
    with open(out, "wb") as f:
        f.write(b"SKIP" + str(e).encode()[:200])
    sys.exit(0)

warnings.simplefilter("ignore")
C = 1.0
# (seed, n_train, n_test, d, K, classes used, cluster spread)
PROBLEMS = [(11, 600, 400, 16, 6, [0, 1, 2, 3, 4], 1.6),
            (12, 300, 300, 8, 4, [1, 3], 2.5),
            (13, 140, 1000, 64, 7, list(range(7)), 4.0)]


def make(rng, n, d, classes, spread, means):
    y = rng.choice(classes, n).astype(np.int32)
    x = means[y] + spread * rng.standard_normal((n, d))
    raw = x.astype(np.float32)
    return raw, normalize(raw.astype(np.float64)).astype(np.float32), y


def objective(W, X, y, K, Ceff):
    Xd = X.astype(np.float64)
    Z = Xd @ W[:, :-1].T + W[:, -1]
    zmax = Z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(Z - zmax).sum(axis=1))
    return float(np.sum(lse - Z[np.arange(len(y)), y]) + 0.5 / Ceff * np.sum(W[:, :-1] ** 2))


with open(out, "wb") as f:
    f.write(b"PROB")
    f.write(struct.pack("<q", len(PROBLEMS)))
    for seed, n, nt, d, K, classes, spread in PROBLEMS:
        rng = np.random.default_rng(seed)
        means = rng.standard_normal((K, d))
        raw, X, y = make(rng, n, d, classes, spread, means)
        _, Xt, yt = make(rng, nt, d, classes, spread, means)
        clf = LogisticRegression(penalty="l2", C=C, fit_intercept=True, solver="lbfgs",
                                 max_iter=1000)
        clf.fit(X.astype(np.float64), y)
        W = np.zeros((K, d + 1))
        W[:, -1] = -np.inf
        if len(clf.classes_) == 2:   # one binary vector: symmetric two-vector equivalent
            c0, c1 = clf.classes_
            W[c1, :-1], W[c1, -1] = clf.coef_[0] / 2, clf.intercept_[0] / 2
            W[c0, :-1], W[c0, -1] = -clf.coef_[0] / 2, -clf.intercept_[0] / 2
            loss = objective(W, X, y, K, C / 2)
        else:
            for i, c in enumerate(clf.classes_):
                W[c, :-1], W[c, -1] = clf.coef_[i], clf.intercept_[i]
            loss = objective(W, X, y, K, C)
        pred = clf.predict(X.astype(np.float64)).astype(np.int32)
        predt = clf.predict(Xt.astype(np.float64)).astype(np.int32)
        print(f"problem seed {seed}: n={n} d={d} K={K} classes={len(clf.classes_)} "
              f"n_iter={clf.n_iter_[0]} loss={loss:.10g} train acc={np.mean(pred == y):.3f} "
              f"test acc={np.mean(predt == yt):.3f}")
        f.write(struct.pack("<qqqqqd", n, nt, d, K, int(clf.n_iter_[0]), loss))
        f.write(X.astype("<f4").tobytes())
        f.write(y.astype("<i4").tobytes())
        f.write(Xt.astype("<f4").tobytes())
        f.write(yt.astype("<i4").tobytes())
        f.write(W.astype("<f8").tobytes())
        f.write(pred.astype("<i4").tobytes())
        f.write(predt.astype("<i4").tobytes())
        f.write(raw.astype("<f4").tobytes())
