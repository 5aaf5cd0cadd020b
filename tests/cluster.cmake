# cluster.cmake: tests on a multi-node Slurm in network namespaces on this one machine
# (scripts/cluster-up.sh). Each starts and stops its own cluster (one at a time); all skip (77)
# where root, `ip netns`, Slurm or Cora is missing.
er_add_sh_test(cluster_smoke test_cluster_smoke.sh LABELS cluster)
set_tests_properties(cluster_smoke PROPERTIES TIMEOUT 180 RESOURCE_LOCK cluster)
er_add_sh_test(cluster_jobs test_cluster_jobs.sh LABELS cluster)
set_tests_properties(cluster_jobs PROPERTIES TIMEOUT 420 RESOURCE_LOCK cluster)
er_add_sh_test(cluster_smoke_delay test_cluster_smoke.sh LABELS cluster)
set_tests_properties(cluster_smoke_delay PROPERTIES TIMEOUT 180 RESOURCE_LOCK cluster
  ENVIRONMENT "${ER_TEST_ENV};ER_CLUSTER_LINK_DELAY=1ms;ER_CLUSTER_LINK_RATE=200mbit")
