# Memory model tests (buffer tables, erase-mpi estimate):
#   test_mem_model    no training step grows with N or E at fixed per-rank counts; the model
#                     grows with its counts and falls with P; create functions allocate what
#                     their size functions sum
#   test_mem_scaling  peak RSS per rank at 1, 2, 4 ranks on a 40K graph against the model, its
#                     fall with P, and no large allocation outside the tables
er_add_mpi_test(test_mem_model test_mem_model.c RANKS 1)
er_add_sh_test(test_mem_scaling test_mem_scaling.sh LABELS mem)
