# nn.cmake: tests of the rank-local layer kernels (src/nn). Serial kernels: one rank.
er_add_mpi_test(test_gradcheck_nn test_gradcheck_nn.c RANKS 1 LABELS nn)
er_add_mpi_test(test_nn_kernels test_nn_kernels.c RANKS 1 LABELS nn)
# Timing of the GAT kernels, run by hand (asserts nothing, so not a ctest test).
add_executable(bench_nn bench_nn.c)
target_link_libraries(bench_nn PRIVATE erase)
# Memory-bandwidth probe for benchmarks/bench_stream.sh (not a test).
add_executable(bench_stream ${CMAKE_SOURCE_DIR}/benchmarks/bench_stream.c)
# sgemm rate on an epoch's shapes for benchmarks/bench_gemm.sh and the floor (not a test).
add_executable(bench_gemm ${CMAKE_SOURCE_DIR}/benchmarks/bench_gemm.c)
target_link_libraries(bench_gemm PRIVATE erase)
# bf16 storage and the _bf16 GAT kernels (train --gather-precision bf16).
er_add_mpi_test(test_nn_bf16 test_nn_bf16.c RANKS 1 LABELS nn)
