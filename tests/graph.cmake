# Distributed graph, halo plan, local row order and propagation tests.
er_add_mpi_test(test_halo test_halo.c RANKS 1 2 3 4)
er_add_mpi_test(test_prop test_prop.c RANKS 1 2 4)
# Halo exchange timer for benchmarks (not a test).
add_executable(bench_halo ${CMAKE_SOURCE_DIR}/benchmarks/bench_halo.c)
target_link_libraries(bench_halo PRIVATE erase)
er_add_mpi_test(test_order test_order.c RANKS 1 2 4)
