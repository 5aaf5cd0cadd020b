/* h5.c: collective parallel-HDF5 helpers (open/create/commit, row-block reads and writes,
 * attributes). Knows nothing about the dataset layout; see dataset.c for that. */
#include "erase/h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static hid_t h5_fapl(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  return fapl;
}

/* The communicator a file was opened on (MPI_COMM_NULL for a non-MPI-IO file); free it with
 * MPI_Comm_free. Used to agree on the outcome of a transfer: MPI-IO may fail on one rank only
 * (disk full) and the next collective call would then hang. */
static MPI_Comm h5_file_comm(hid_t fid) {
  MPI_Comm c = MPI_COMM_NULL;
  MPI_Info info = MPI_INFO_NULL;
  hid_t fapl = H5Fget_access_plist(fid);
  if (fapl >= 0 && H5Pget_driver(fapl) == H5FD_MPIO) H5Pget_fapl_mpio(fapl, &c, &info);
  if (info != MPI_INFO_NULL) MPI_Info_free(&info);
  if (fapl >= 0) H5Pclose(fapl);
  return c;
}

static er_err h5_agree(hid_t fid, er_err err) {
  MPI_Comm c = h5_file_comm(fid);
  if (c == MPI_COMM_NULL) return err;
  err = er_agree(c, err);
  MPI_Comm_free(&c);
  return err;
}

static hid_t h5_dxpl(void) {
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  if (dxpl >= 0) H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  return dxpl;
}

/* Select rows [row0, row0 + nrows) of the file space fsp (nd dimensions, ncols per row) and
 * return the matching memory space; nrows = 0 selects nothing on either side, for a rank that
 * takes part in a collective transfer without data. */
static hid_t h5_select_rows(hid_t fsp, int nd, int64_t row0, int64_t nrows, hsize_t ncols) {
  hsize_t start[2] = {(hsize_t)row0, 0}, count[2] = {(hsize_t)nrows, ncols};
  if (nrows > 0) {
    H5Sselect_hyperslab(fsp, H5S_SELECT_SET, start, NULL, count, NULL);
    return H5Screate_simple(nd, count, NULL);
  }
  H5Sselect_none(fsp);
  hid_t msp = H5Screate_simple(1, (hsize_t[]){1}, NULL);
  H5Sselect_none(msp);
  return msp;
}

er_err er_h5_create(MPI_Comm comm, const char *path, hid_t *fid, char **tmp_path) {
  er_err err = ER_OK;
  hid_t fapl = -1;
  int rank;
  char *tmp = NULL;
  *fid = -1;
  *tmp_path = NULL;
  h5_quiet();
  MPI_Comm_rank(comm, &rank);
  size_t len = strlen(path) + 32;
  ER_MALLOC(tmp, len);
  long pid = (long)getpid();
  MPI_Bcast(&pid, 1, MPI_LONG, 0, comm);
  snprintf(tmp, len, "%s.tmp.%ld", path, pid);
  if (rank == 0) { /* probe writability for a clear message */
    FILE *f = fopen(tmp, "w");
    if (!f) err = ER_ERROR(ER_ERR_IO, "cannot create output file '%s': %s", path, strerror(errno));
    else {
      fclose(f);
      unlink(tmp);
    }
  }
  ER_CALL(er_agree(comm, err));
  fapl = h5_fapl(comm);
  *fid = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  err = *fid < 0 ? ER_ERROR(ER_ERR_IO, "HDF5 cannot create '%s'", tmp) : ER_OK;
  ER_CALL(er_agree(comm, err));
  *tmp_path = tmp;
  tmp = NULL;
cleanup:
  if (fapl >= 0) H5Pclose(fapl);
  free(tmp);
  return err;
}

er_err er_h5_commit(MPI_Comm comm, hid_t fid, const char *path, char **tmp_path) {
  er_err err = ER_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (H5Fclose(fid) < 0) err = ER_ERROR(ER_ERR_IO, "closing '%s' failed (disk full?)", *tmp_path);
  err = er_agree(comm, err);
  if (err == ER_OK && rank == 0 && rename(*tmp_path, path) != 0)
    err = ER_ERROR(ER_ERR_IO, "cannot rename '%s' to '%s': %s", *tmp_path, path, strerror(errno));
  err = er_agree(comm, err);
  if (err != ER_OK && rank == 0) unlink(*tmp_path);
  free(*tmp_path);
  *tmp_path = NULL;
  return err;
}

void er_h5_abort(MPI_Comm comm, hid_t fid, char **tmp_path) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (fid >= 0) H5Fclose(fid);
  MPI_Barrier(comm);
  if (rank == 0 && *tmp_path) unlink(*tmp_path);
  free(*tmp_path);
  *tmp_path = NULL;
}

er_err er_h5_open(MPI_Comm comm, const char *path, int rw, hid_t *fid) {
  er_err err = ER_OK;
  hid_t fapl = -1;
  int rank;
  *fid = -1;
  h5_quiet();
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    struct stat st;
    if (stat(path, &st) != 0)
      err = ER_ERROR(ER_ERR_INPUT, "cannot open '%s': %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
      err = ER_ERROR(ER_ERR_INPUT, "'%s' is not a regular file", path);
    else if (st.st_size == 0)
      err = ER_ERROR(ER_ERR_INPUT, "'%s' is empty", path);
    else if (H5Fis_hdf5(path) <= 0)
      err = ER_ERROR(ER_ERR_INPUT, "'%s' is not an HDF5 file", path);
  }
  ER_CALL(er_agree(comm, err));
  fapl = h5_fapl(comm);
  *fid = H5Fopen(path, rw ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  err = *fid < 0 ? ER_ERROR(ER_ERR_INPUT, "cannot open '%s' as HDF5 (truncated or corrupted?)",
                            path)
                 : ER_OK;
  err = er_agree(comm, err);
  if (err != ER_OK && *fid >= 0) {
    H5Fclose(*fid);
    *fid = -1;
  }
cleanup:
  if (fapl >= 0) H5Pclose(fapl);
  return err;
}

void er_h5_close(hid_t *fid) {
  if (*fid >= 0) H5Fclose(*fid);
  *fid = -1;
}

int er_h5_exists(hid_t loc, const char *name) {
  char buf[1024];
  if (strcmp(name, "/") == 0) return 1;
  snprintf(buf, sizeof buf, "%s", name);
  for (char *p = buf + 1;; ++p) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (H5Lexists(loc, buf, H5P_DEFAULT) <= 0) return 0;
      if (c == '\0') return 1;
      *p = c;
    }
  }
}

er_err er_h5_make_parents(hid_t fid, const char *name) {
  er_err err = ER_OK;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", name);
  for (char *p = buf + 1; *p; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (H5Lexists(fid, buf, H5P_DEFAULT) <= 0) {
      hid_t g = H5Gcreate2(fid, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      ER_CHECK(g >= 0, ER_ERR_IO, "cannot create HDF5 group '%s'", buf);
      H5Gclose(g);
    }
    *p = '/';
  }
cleanup:
  return err;
}

er_err er_h5_shape(hid_t fid, const char *name, int *ndims, int64_t dims[2]) {
  er_err err = ER_OK;
  hid_t ds = -1, sp = -1;
  hsize_t d[H5S_MAX_RANK];
  ER_CHECK(er_h5_exists(fid, name), ER_ERR_INPUT, "dataset '%s' is missing", name);
  ds = H5Dopen2(fid, name, H5P_DEFAULT);
  ER_CHECK(ds >= 0, ER_ERR_INPUT, "cannot open dataset '%s'", name);
  sp = H5Dget_space(ds);
  int nd = H5Sget_simple_extent_dims(sp, d, NULL);
  ER_CHECK(nd >= 0 && nd <= 2, ER_ERR_INPUT, "dataset '%s' has rank %d (expected 1 or 2)", name,
           nd);
  *ndims = nd;
  dims[0] = nd >= 1 ? (int64_t)d[0] : 1;
  dims[1] = nd == 2 ? (int64_t)d[1] : 1;
cleanup:
  if (sp >= 0) H5Sclose(sp);
  if (ds >= 0) H5Dclose(ds);
  return err;
}

er_err er_h5_read_rows(hid_t fid, const char *name, hid_t mem_type, int64_t row0,
                       int64_t nrows, void *buf) {
  er_err err = ER_OK;
  hid_t ds = -1, fsp = -1, msp = -1, dxpl = -1;
  int nd;
  int64_t dims[2];
  ER_CALL(er_h5_shape(fid, name, &nd, dims));
  ER_CHECK(row0 >= 0 && row0 + nrows <= dims[0], ER_ERR_INTERNAL,
           "read of rows [%lld, %lld) outside dataset '%s' of %lld rows", (long long)row0,
           (long long)(row0 + nrows), name, (long long)dims[0]);
  ds = H5Dopen2(fid, name, H5P_DEFAULT);
  fsp = H5Dget_space(ds);
  msp = h5_select_rows(fsp, nd, row0, nrows, (hsize_t)dims[1]);
  dxpl = h5_dxpl();
  /* an empty dataset has no storage in HDF5 1.10: every rank sees dims[0] == 0, skip it */
  err = dims[0] == 0 || H5Dread(ds, mem_type, msp, fsp, dxpl, buf) >= 0
            ? ER_OK : ER_ERROR(ER_ERR_IO, "reading dataset '%s' failed (truncated file?)", name);
  ER_CALL(h5_agree(fid, err));
cleanup:
  if (dxpl >= 0) H5Pclose(dxpl);
  if (msp >= 0) H5Sclose(msp);
  if (fsp >= 0) H5Sclose(fsp);
  if (ds >= 0) H5Dclose(ds);
  return err;
}

er_err er_h5_read_all(hid_t fid, const char *name, hid_t mem_type, void *buf) {
  er_err err = ER_OK;
  int nd;
  int64_t dims[2];
  ER_CALL(er_h5_shape(fid, name, &nd, dims));
  ER_CALL(er_h5_read_rows(fid, name, mem_type, 0, dims[0], buf));
cleanup:
  return err;
}

er_err er_h5_write_rows(hid_t fid, const char *name, hid_t file_type, hid_t mem_type,
                        int64_t nrows_total, int64_t ncols, int64_t row0, int64_t nrows,
                        const void *buf) {
  er_err err = ER_OK;
  hid_t ds = -1, fsp = -1, msp = -1, dxpl = -1, dcpl = -1;
  int nd = ncols > 0 ? 2 : 1;
  hsize_t dims[2] = {(hsize_t)nrows_total, (hsize_t)(ncols > 0 ? ncols : 1)};
  ER_CALL(er_h5_make_parents(fid, name));
  fsp = H5Screate_simple(nd, dims, NULL);
  dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0); /* byte-identical files at any rank count */
  if (nrows_total > 0) {
    hsize_t chunk[2];
    hsize_t rowbytes = dims[1] * H5Tget_size(file_type);
    hsize_t rows = (1u << 20) / (rowbytes ? rowbytes : 1); /* ~1 MiB chunks */
    if (rows < 1) rows = 1;
    if (rows > dims[0]) rows = dims[0];
    chunk[0] = rows;
    chunk[1] = dims[1];
    H5Pset_chunk(dcpl, nd, chunk);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  }
  ds = H5Dcreate2(fid, name, file_type, fsp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  err = ds >= 0 ? ER_OK : ER_ERROR(ER_ERR_IO, "cannot create dataset '%s'", name);
  ER_CALL(h5_agree(fid, err));
  msp = h5_select_rows(fsp, nd, row0, nrows, dims[1]);
  dxpl = h5_dxpl();
  /* an empty contiguous dataset has no file address: writing nothing to it fails, skip it */
  err = nrows_total == 0 || H5Dwrite(ds, mem_type, msp, fsp, dxpl, buf) >= 0
            ? ER_OK : ER_ERROR(ER_ERR_IO, "writing dataset '%s' failed (disk full?)", name);
  ER_CALL(h5_agree(fid, err));
cleanup:
  if (dcpl >= 0) H5Pclose(dcpl);
  if (dxpl >= 0) H5Pclose(dxpl);
  if (msp >= 0) H5Sclose(msp);
  if (fsp >= 0) H5Sclose(fsp);
  if (ds >= 0) H5Dclose(ds);
  return err;
}

static er_err attr_write(hid_t fid, const char *obj, const char *attr, hid_t type,
                         const void *val) {
  er_err err = ER_OK;
  hid_t sp = -1, a = -1;
  if (H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0)
    H5Adelete_by_name(fid, obj, attr, H5P_DEFAULT);
  sp = H5Screate(H5S_SCALAR);
  a = H5Acreate_by_name(fid, obj, attr, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ER_CHECK(a >= 0, ER_ERR_IO, "cannot create attribute '%s' on '%s'", attr, obj);
  ER_CHECK(H5Awrite(a, type, val) >= 0, ER_ERR_IO, "cannot write attribute '%s'", attr);
cleanup:
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  return err;
}

er_err er_h5_attr_set_i64(hid_t fid, const char *obj, const char *attr, int64_t value) {
  return attr_write(fid, obj, attr, H5T_NATIVE_INT64, &value);
}
er_err er_h5_attr_set_f64(hid_t fid, const char *obj, const char *attr, double value) {
  return attr_write(fid, obj, attr, H5T_NATIVE_DOUBLE, &value);
}
er_err er_h5_attr_set_str(hid_t fid, const char *obj, const char *attr, const char *value) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(value) + 1);
  H5Tset_strpad(t, H5T_STR_NULLTERM);
  er_err err = attr_write(fid, obj, attr, t, value);
  H5Tclose(t);
  return err;
}

static er_err attr_read(hid_t fid, const char *obj, const char *attr, hid_t type, void *val) {
  er_err err = ER_OK;
  hid_t a = -1;
  ER_CHECK(H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0, ER_ERR_INPUT,
           "attribute '%s' missing on '%s'", attr, obj);
  a = H5Aopen_by_name(fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
  ER_CHECK(a >= 0 && H5Aread(a, type, val) >= 0, ER_ERR_INPUT, "cannot read attribute '%s'",
           attr);
cleanup:
  if (a >= 0) H5Aclose(a);
  return err;
}

er_err er_h5_attr_get_i64(hid_t fid, const char *obj, const char *attr, int64_t *value) {
  return attr_read(fid, obj, attr, H5T_NATIVE_INT64, value);
}
er_err er_h5_attr_get_f64(hid_t fid, const char *obj, const char *attr, double *value) {
  return attr_read(fid, obj, attr, H5T_NATIVE_DOUBLE, value);
}
er_err er_h5_attr_get_str(hid_t fid, const char *obj, const char *attr, char *buf, size_t len) {
  er_err err = ER_OK;
  hid_t a = -1, t = -1, ft = -1;
  char *tmp = NULL;
  ER_CHECK(H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0, ER_ERR_INPUT,
           "attribute '%s' missing on '%s'", attr, obj);
  a = H5Aopen_by_name(fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
  ft = H5Aget_type(a);
  size_t sz = H5Tget_size(ft);
  ER_MALLOC(tmp, sz + 1);
  t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, sz + 1);
  ER_CHECK(H5Aread(a, t, tmp) >= 0, ER_ERR_INPUT, "cannot read attribute '%s'", attr);
  tmp[sz] = '\0';
  snprintf(buf, len, "%s", tmp);
cleanup:
  free(tmp);
  if (t >= 0) H5Tclose(t);
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  return err;
}
