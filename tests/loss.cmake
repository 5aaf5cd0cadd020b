# MCR² loss tests (src/loss) and the solver-crossover benchmark driver.
er_add_mpi_test(test_loss_gradcheck test_loss_gradcheck.c RANKS 1 3)
er_add_mpi_test(test_loss_paths test_loss_paths.c RANKS 1 2 4)
# 5 ranks: the ScaLAPACK grid is 2x2, so one rank sits outside it and must still get results
er_add_mpi_test(test_loss_known test_loss_known.c RANKS 1 2 5)
er_add_mpi_test(test_loss_errors test_loss_errors.c RANKS 1 2 4)

# Benchmark driver for benchmarks/bench_loss_crossover.sh (not run as a test by itself).
add_executable(bench_loss ${CMAKE_SOURCE_DIR}/benchmarks/bench_loss.c)
target_link_libraries(bench_loss PRIVATE erase)
# Smoke run of the crossover script on tiny sizes: the script and driver keep working.
er_add_sh_test(test_loss_bench_smoke test_loss_bench_smoke.sh)
