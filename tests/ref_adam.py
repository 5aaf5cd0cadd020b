#!/usr/bin/python3
"""ref_adam.py OUT: torch.optim.Adam(amsgrad=True, weight_decay=5e-4) reference trajectories on
random diagonal quadratics (grad = (p - c) * a, float32), for tests/test_adam.c.
Writes a binary file; if torch is missing it writes 'SKIP' so the C test reports a skip."""
import struct
import sys

out = sys.argv[1]
try:
    import numpy as np
    import torch
except Exception as e:  # noqa: BLE001 - any import problem means: no reference available
    with open(out, "wb") as f:
        f.write(b"SKIP" + str(e).encode()[:200])
    sys.exit(0)

torch.set_num_threads(1)
STEPS = 50
# (n, lr, beta1, beta2, eps, weight_decay, amsgrad)
CONFIGS = [(1003, 0.05, 0.9, 0.999, 1e-8, 5e-4, 1),
           (517, 1e-3, 0.9, 0.999, 1e-8, 5e-4, 1),
           (64, 0.02, 0.8, 0.99, 1e-6, 0.0, 0)]

with open(out, "wb") as f:
    f.write(b"ADAM")
    f.write(struct.pack("<qq", len(CONFIGS), STEPS))
    for ci, (n, lr, b1, b2, eps, wd, ams) in enumerate(CONFIGS):
        rng = np.random.default_rng(1234 + ci)
        a = rng.uniform(0.1, 10.0, n).astype(np.float32)
        c = rng.standard_normal(n).astype(np.float32)
        p0 = rng.standard_normal(n).astype(np.float32)
        p = torch.tensor(p0.copy(), requires_grad=True)
        at, ct = torch.from_numpy(a), torch.from_numpy(c)
        opt = torch.optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd,
                               amsgrad=bool(ams))
        traj = []
        for _ in range(STEPS):
            p.grad = (p.detach() - ct) * at
            opt.step()
            traj.append(p.detach().numpy().copy())
        st = opt.state[p]
        f.write(struct.pack("<qdddddq", n, lr, b1, b2, eps, wd, ams))
        for arr in (a, c, p0):
            f.write(arr.astype("<f4").tobytes())
        f.write(np.stack(traj).astype("<f4").tobytes())
        f.write(st["exp_avg"].numpy().astype("<f4").tobytes())
        f.write(st["exp_avg_sq"].numpy().astype("<f4").tobytes())
        vmax = st["max_exp_avg_sq"].numpy() if ams else np.zeros(n, np.float32)
        f.write(vmax.astype("<f4").tobytes())
        f.write(struct.pack("<q", int(st["step"].item())))
