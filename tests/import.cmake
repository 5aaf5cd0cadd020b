# import / info / dataset metadata and checksums (src/io/import.c, src/io/dataset.c)
er_add_mpi_test(test_import test_import.c RANKS 1 2 4)
er_add_sh_test(bad_input_import bad_input_import.sh)
