# Whole-model tests (issue: training).
er_add_mpi_test(test_gradcheck_model test_gradcheck_model.c RANKS 1 3)
