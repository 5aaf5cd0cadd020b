# PyTorch twin: our first training step on Cora against autograd (issue: benchmarks).
er_add_sh_test(test_twin test_twin.sh LABELS slow)
