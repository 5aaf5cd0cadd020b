# Distributed graph, halo plan and propagation tests (issue: foundation).
er_add_mpi_test(test_halo test_halo.c RANKS 1 2 3 4)
er_add_mpi_test(test_prop test_prop.c RANKS 1 2 4)
