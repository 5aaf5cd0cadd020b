# import / info / dataset metadata and checksums (src/io/import*.c, ingest.c, text.c, npy.c,
# ogb.c, dataset.c)
er_add_mpi_test(test_import test_import.c RANKS 1 2 4)
er_add_sh_test(bad_input_import bad_input_import.sh)
#   import_ranks  the same file at 1-4 ranks and from text, CRLF, gzip and .npy inputs
#   import_ogb    the OGB layout (gzip and plain CSV) equals the text import
er_add_sh_test(import_ranks test_import_ranks.sh LABELS import)
er_add_sh_test(import_ogb test_import_ogb.sh LABELS import)
