/* fuzz_h5_raw.c (manual: not in CI or the campaign): raw bytes through er_h5_open, then
 * er_dataset_meta and er_h5_verify, i.e. HDF5 1.10's own file parser on damaged files. HDF5 has
 * known crashes on corrupted files; a crash whose stack is inside libhdf5 below H5Fopen/H5Dread
 * is HDF5's, not ours (report it as such). What it shows is which of our readers hand a
 * damaged file to HDF5 before a check of ours could refuse it. Seeds: a dataset and a
 * checkpoint written by erase-mpi. */
#include <stdlib.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "fuzz.h"

void fz_run(const uint8_t *data, size_t size) {
  const char *path = fz_path("raw.h5");
  fz_write_file(path, data, size);
  hid_t fid = -1;
  er_err err = er_h5_open(MPI_COMM_SELF, path, 0, &fid);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT), 0, "er_h5_open");
  if (err != ER_OK) return;
  er_meta meta;
  err = er_dataset_meta(MPI_COMM_SELF, fid, &meta);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT) | FZ_CODE(ER_ERR_IO), 0, "er_dataset_meta");
  er_error_clear();
  int checked, unsealed;
  err = er_h5_verify(fid, path, &checked, &unsealed);
  fz_check_verdict(err, FZ_CODE(ER_ERR_INPUT) | FZ_CODE(ER_ERR_IO), 0, "er_h5_verify");
  er_h5_close(&fid);
}
