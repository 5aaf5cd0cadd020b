# partition.cmake: er_partition_run (METIS, PT-Scotch, block) / er_csr_read tests, the
# `erase-mpi partition` bad-input test, the sidecar test (dataset untouched, concurrent
# runs, full disk, fault injection) and the --ncuts test (keep the best of N, on Cora).
er_add_mpi_test(test_partition test_partition.c RANKS 1 2 4)

# mkfixture: writes grid / random datasets for shell tests and benchmarks (see mkfixture.c).
add_executable(mkfixture mkfixture.c)
target_link_libraries(mkfixture PRIVATE er_testutil)

er_add_sh_test(bad_input_partition bad_input_partition.sh)
set_property(TEST bad_input_partition APPEND PROPERTY ENVIRONMENT
  "ER_MKFIXTURE=$<TARGET_FILE:mkfixture>")
er_add_sh_test(test_partfile test_partfile.sh LABELS mpi)
set_property(TEST test_partfile APPEND PROPERTY ENVIRONMENT
  "ER_MKFIXTURE=$<TARGET_FILE:mkfixture>")
er_add_sh_test(test_ncuts test_ncuts.sh LABELS mpi)
