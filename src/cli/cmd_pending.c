/* cmd_pending.c: TEMPORARY during parallel development of the foundation: commands whose
 * implementation has not landed yet report so. Each cmd_*.c that lands removes its entry. */
#include "erase/cli.h"

er_err er_cmd_import(MPI_Comm comm, int argc, char **argv) {
  (void)comm, (void)argc, (void)argv;
  return ER_ERROR(ER_ERR_INTERNAL, "import is not implemented yet");
}
er_err er_cmd_generate(MPI_Comm comm, int argc, char **argv) {
  (void)comm, (void)argc, (void)argv;
  return ER_ERROR(ER_ERR_INTERNAL, "generate is not implemented yet");
}
er_err er_cmd_info(MPI_Comm comm, int argc, char **argv) {
  (void)comm, (void)argc, (void)argv;
  return ER_ERROR(ER_ERR_INTERNAL, "info is not implemented yet");
}
er_err er_cmd_propagate(MPI_Comm comm, int argc, char **argv) {
  (void)comm, (void)argc, (void)argv;
  return ER_ERROR(ER_ERR_INTERNAL, "propagate is not implemented yet");
}
