# slurm.cmake: tests that run erase-mpi on a private single-node Slurm (scripts/slurm-up.sh).
# Each starts and stops its own cluster; all skip (77) where Slurm or root is missing.
er_add_sh_test(slurm_smoke test_slurm_smoke.sh LABELS slurm)
set_tests_properties(slurm_smoke PROPERTIES TIMEOUT 120)
er_add_sh_test(slurm_prepare test_slurm_prepare.sh LABELS slurm)
set_tests_properties(slurm_prepare PROPERTIES TIMEOUT 180)
er_add_sh_test(slurm_train test_slurm_train.sh LABELS "slurm;slow")
set_tests_properties(slurm_train PROPERTIES TIMEOUT 300)
er_add_sh_test(slurm_scaling test_slurm_scaling.sh LABELS "slurm;slow")
set_tests_properties(slurm_scaling PROPERTIES TIMEOUT 300)
