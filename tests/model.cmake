# Whole-model tests (issue: training).
er_add_mpi_test(test_gradcheck_model test_gradcheck_model.c RANKS 1 3)
er_add_sh_test(bad_input_train bad_input_train.sh)
set_property(TEST bad_input_train APPEND PROPERTY ENVIRONMENT "ER_MKFIXTURE=$<TARGET_FILE:mkfixture>")
er_add_sh_test(test_train_ranks test_train_ranks.sh LABELS slow)
er_add_sh_test(test_checkpoint test_checkpoint.sh)
er_add_mpi_test(test_eval_rows test_eval_rows.c RANKS 1 2 4)
er_add_sh_test(test_presets test_presets.sh)
set_property(TEST test_presets APPEND PROPERTY ENVIRONMENT "ER_MKFIXTURE=$<TARGET_FILE:mkfixture>")
