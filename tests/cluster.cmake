# cluster.cmake: tests on a multi-node Slurm in network namespaces on this one machine
# (scripts/cluster-up.sh). Each starts and stops its own cluster; all skip (77) where root,
# `ip netns`, Slurm or Cora is missing.
er_add_sh_test(cluster_smoke test_cluster_smoke.sh LABELS cluster)
set_tests_properties(cluster_smoke PROPERTIES TIMEOUT 180)
