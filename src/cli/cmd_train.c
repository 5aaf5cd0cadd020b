/* cmd_train.c: `erase-mpi train`: options (src/train/config.c) -> er_train. */
#include "erase/cli.h"
#include "erase/train.h"

er_err er_cmd_train(MPI_Comm comm, int argc, char **argv) {
  er_err err = ER_OK;
  er_train_config cfg;
  er_train_result res = {0};
  er_train_config_defaults(&cfg);
  err = er_train_config_parse(comm, argc, argv, &cfg);
  if (err == ER_HELP_SHOWN) return err;
  ER_CALL(err);
  ER_CALL(er_train(comm, &cfg, &res));
cleanup:
  er_train_result_free(&res);
  return err;
}
