/* h5.c: collective parallel-HDF5 helpers (open/create/commit, row-block reads and writes,
 * attributes, content digests). Every public function returns a verdict all ranks of the
 * file's communicator agree on (docs/ERRORS.md). Knows nothing about the dataset layout. */
#include "erase/h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* An HDF5 call that returns a negative id or status on failure, and a fault-injection site:
 * the call is always made (collective HDF5 calls must be made by every rank). */
#define ER_CALL_H5(expr, ...)                                                                \
  do {                                                                                       \
    if ((expr) < 0 || er_fault(ER_FAULT_H5)) {                                               \
      err = ER_ERROR(ER_ERR_IO, __VA_ARGS__);                                                \
      goto cleanup;                                                                          \
    }                                                                                        \
  } while (0)

static hid_t h5_fapl(MPI_Comm comm) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  return fapl;
}

/* The communicator each open file was opened on (the caller's, not duplicated), to agree on
 * the outcome of every call: MPI-IO may fail on one rank only (disk full). */
#define ER_H5_MAX_OPEN 64
/* A dataset er_h5_write_rows wrote from memory holding the bytes the file stores: this rank's
 * part of its digest, taken from the buffer as it was written (er_h5_seal sums the parts
 * instead of reading the dataset back). */
typedef struct {
  char name[256];
  uint64_t part;
} h5_written;
static struct {
  hid_t fid;
  MPI_Comm comm;
  int whole; /* er_h5_create_whole: a whole-file digest in the user block at commit */
  h5_written *written;
  int nwritten, capwritten;
} open_files[ER_H5_MAX_OPEN];

static void h5_register(hid_t fid, MPI_Comm comm) {
  for (int i = 0; i < ER_H5_MAX_OPEN; ++i)
    if (open_files[i].fid <= 0) {
      open_files[i].fid = fid, open_files[i].comm = comm, open_files[i].whole = 0;
      open_files[i].nwritten = 0;
      return;
    }
}

static int h5_slot(hid_t fid) {
  for (int i = 0; i < ER_H5_MAX_OPEN; ++i)
    if (open_files[i].fid == fid) return i;
  return -1;
}

static int *h5_whole_flag(hid_t fid) {
  const int i = h5_slot(fid);
  return i < 0 ? NULL : &open_files[i].whole;
}

static void h5_forget(hid_t fid) {
  const int i = h5_slot(fid);
  if (i < 0) return;
  open_files[i].fid = 0;
  free(open_files[i].written);
  open_files[i].written = NULL;
  open_files[i].nwritten = open_files[i].capwritten = 0;
}

/* Records this rank's part of a written dataset's digest; a rank that cannot record it (no
 * memory) leaves it out, and er_h5_seal then reads that dataset back on every rank. */
static void h5_record_written(hid_t fid, const char *name, uint64_t part) {
  const int i = h5_slot(fid);
  if (i < 0) return;
  if (open_files[i].nwritten == open_files[i].capwritten) {
    const int cap = open_files[i].capwritten ? 2 * open_files[i].capwritten : 16;
    void *p = realloc(open_files[i].written, (size_t)cap * sizeof *open_files[i].written);
    if (!p) return;
    open_files[i].written = p;
    open_files[i].capwritten = cap;
  }
  h5_written *w = &open_files[i].written[open_files[i].nwritten++];
  snprintf(w->name, sizeof w->name, "%s%s", name[0] == '/' ? "" : "/", name);
  w->part = part;
}

/* This rank's recorded part of dataset name's digest: 1 if recorded. */
static int h5_find_written(hid_t fid, const char *name, uint64_t *part) {
  const int i = h5_slot(fid);
  for (int k = 0; i >= 0 && k < open_files[i].nwritten; ++k)
    if (!strcmp(open_files[i].written[k].name, name)) {
      *part = open_files[i].written[k].part;
      return 1;
    }
  return 0;
}

static MPI_Comm h5_comm(hid_t fid) {
  hid_t file = H5Iget_file_id(fid); /* fid may be any object of the file */
  MPI_Comm c = MPI_COMM_SELF;
  for (int i = 0; i < ER_H5_MAX_OPEN; ++i)
    if (open_files[i].fid > 0 && open_files[i].fid == file) c = open_files[i].comm;
  if (file >= 0) H5Fclose(file); /* releases the id H5Iget_file_id added */
  return c;
}

/* The verdict of a collective call on the file: agree on an error still this rank's alone. */
static er_err h5_agree_comm(MPI_Comm comm, er_err err) {
  return err != ER_OK && er_error_agreed() ? err : er_agree(comm, err);
}

static er_err h5_finish(hid_t fid, er_err err) {
  return err != ER_OK && er_error_agreed() ? err : er_agree(h5_comm(fid), err);
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

/* The whole-file digest: the first WHOLE_USERBLOCK bytes of the file are a user block that HDF5
 * skips; it starts with WHOLE_MAGIC and the digest of every byte after the user block. */
#define WHOLE_USERBLOCK 512
/* whole_digest's buffer table (erase/mem.h): the file read a piece at a time (rank 0) */
#define WHOLE_READ_BYTES ((size_t)1 << 20)
#define WHOLE_BUFFERS(X) X(buf, WHOLE_READ_BYTES, char, 0)
static const char WHOLE_MAGIC[8] = {'E', 'R', 'A', 'S', 'E', 'D', 'G', '1'};

static er_err h5_create(MPI_Comm comm, const char *path, int whole, hid_t *fid,
                        char **tmp_path) {
  er_err err = ER_OK;
  hid_t fapl = -1, fcpl = -1;
  int rank;
  char *tmp = NULL;
  *fid = -1;
  *tmp_path = NULL;
  h5_quiet();
  MPI_Comm_rank(comm, &rank);
  size_t len = strlen(path) + 32;
  ER_MALLOC(tmp, len);
  long pid = (long)getpid();
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Bcast(&pid, 1, MPI_LONG, 0, comm));
  snprintf(tmp, len, "%s.tmp.%ld", path, pid);
  if (rank == 0) { /* probe writability for a clear message */
    FILE *f = fopen(tmp, "w");
    if (!f) err = ER_ERROR(ER_ERR_IO, "cannot create output file '%s': %s", path, strerror(errno));
    else {
      fclose(f);
      unlink(tmp);
    }
  }
  ER_AGREE(comm);
  fapl = h5_fapl(comm);
  fcpl = H5Pcreate(H5P_FILE_CREATE);
  if (whole) H5Pset_userblock(fcpl, WHOLE_USERBLOCK);
  ER_CALL_H5(*fid = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl), "HDF5 cannot create '%s'", tmp);
  h5_register(*fid, comm);
  *h5_whole_flag(*fid) = whole;
cleanup:
  err = ER_FINISH(comm);
  if (fcpl >= 0) H5Pclose(fcpl);
  if (err != ER_OK && *fid >= 0) { /* created on some ranks only: close, rank 0 removes it */
    h5_forget(*fid); /* registered on this rank (its written digests go with it) */
    H5Fclose(*fid);
    *fid = -1;
    if (rank == 0 && tmp) unlink(tmp);
  }
  if (err == ER_OK) *tmp_path = tmp;
  else free(tmp);
  if (fapl >= 0) H5Pclose(fapl);
  return err;
}

er_err er_h5_create(MPI_Comm comm, const char *path, hid_t *fid, char **tmp_path) {
  return h5_create(comm, path, 0, fid, tmp_path);
}

er_err er_h5_room(MPI_Comm comm, const char *path, double bytes) {
  er_err err = ER_OK;
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    char dir[4096];
    struct statvfs vfs;
    snprintf(dir, sizeof dir, "%s", path);
    /* HDF5's own structures: a few KiB per dataset; 5% and 256 KiB cover them */
    double need = bytes * 1.05 + (256 << 10);
    if (statvfs(dirname(dir), &vfs) == 0) {
      double have = (double)vfs.f_bavail * (double)vfs.f_frsize;
      if (have < need)
        err = ER_ERROR(ER_ERR_IO, "not enough space for '%s': it needs about %.1f MB, the file "
                       "system has %.1f MB free (No space left on device)", path, need / 1e6,
                       have / 1e6);
    }
  }
  return er_agree(comm, err);
}

er_err er_h5_create_whole(MPI_Comm comm, const char *path, hid_t *fid, char **tmp_path) {
  return h5_create(comm, path, 1, fid, tmp_path);
}

/* The digest of every byte of the file after the digest itself (rank 0 reads the file). */
static er_err whole_digest(const char *path, uint64_t *digest) {
  er_err err = ER_OK;
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  ER_CHECK(f, ER_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
  WHOLE_BUFFERS(ER_BUF_ALLOC)
  ER_CHECK(fseek(f, 16, SEEK_SET) == 0, ER_ERR_IO, "cannot read '%s'", path); /* after head */
  uint64_t sum = 0;
  int64_t row = 0;
  size_t n;
  while ((n = fread(buf, 1, WHOLE_READ_BYTES, f)) > 0) sum += er_digest_rows(buf, n, row++, 1);
  ER_CHECK(!ferror(f), ER_ERR_IO, "cannot read '%s'", path);
  *digest = sum;
cleanup:
  if (f) fclose(f);
  WHOLE_BUFFERS(ER_BUF_FREE)
  return err;
}

/* Rank 0: write the whole-file digest into the user block of the closed file. */
static er_err whole_seal(const char *path) {
  er_err err = ER_OK;
  uint64_t digest;
  unsigned char head[16];
  FILE *f = NULL;
  ER_CALL(whole_digest(path, &digest));
  memcpy(head, WHOLE_MAGIC, 8);
  memcpy(head + 8, &digest, 8);
  f = fopen(path, "r+b");
  ER_CHECK(f && !er_fault(ER_FAULT_WRITE) && fwrite(head, 1, sizeof head, f) == sizeof head,
           ER_ERR_IO, "cannot write the checksum of '%s'", path);
  ER_CHECK(fflush(f) == 0 && fsync(fileno(f)) == 0, ER_ERR_IO, "cannot write the checksum of '%s'",
           path);
cleanup:
  if (f) fclose(f);
  return err;
}

er_err er_h5_check_whole(MPI_Comm comm, const char *path, int *present) {
  er_err err = ER_OK;
  int rank, have = 0;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    unsigned char head[16], sig[8];
    static const unsigned char hdf5_sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    FILE *f = fopen(path, "rb");
    have = f && fread(head, 1, sizeof head, f) == sizeof head && !memcmp(head, WHOLE_MAGIC, 8);
    /* a file whose HDF5 part starts after our user block was made to carry the digest: a
     * damaged head is a damaged file, not a file without a digest */
    if (f && !have && fseek(f, WHOLE_USERBLOCK, SEEK_SET) == 0 &&
        fread(sig, 1, 8, f) == 8 && !memcmp(sig, hdf5_sig, 8))
      err = ER_ERROR(ER_ERR_INPUT, "'%s' is corrupted (its checksum header is damaged)", path);
    if (f) fclose(f);
    if (have && err == ER_OK) {
      uint64_t want, got = 0;
      memcpy(&want, head + 8, 8);
      err = whole_digest(path, &got);
      if (err == ER_OK && got != want)
        err = ER_ERROR(ER_ERR_INPUT, "'%s' is truncated or corrupted (whole-file checksum "
                       "mismatch)", path);
    }
  }
  err = er_agree(comm, err);
  if (err == ER_OK) MPI_Bcast(&have, 1, MPI_INT, 0, comm);
  if (present) *present = have;
  return err;
}

er_err er_h5_commit(MPI_Comm comm, hid_t fid, const char *path, char **tmp_path) {
  er_err err = ER_OK;
  int rank, *whole = h5_whole_flag(fid), seal_whole = whole && *whole;
  MPI_Comm_rank(comm, &rank);
  err = er_h5_seal(fid);
  h5_forget(fid);
  if (H5Fclose(fid) < 0 || er_fault(ER_FAULT_H5))
    err = err ? err : ER_ERROR(ER_ERR_IO, "closing '%s' failed (disk full?)", *tmp_path);
  err = h5_agree_comm(comm, err);
  if (err == ER_OK && seal_whole && rank == 0) err = whole_seal(*tmp_path);
  err = h5_agree_comm(comm, err);
  if (err == ER_OK && rank == 0 && (er_fault(ER_FAULT_WRITE) || rename(*tmp_path, path) != 0))
    err = ER_ERROR(ER_ERR_IO, "cannot rename '%s' to '%s': %s", *tmp_path, path, strerror(errno));
  err = h5_agree_comm(comm, err); /* an error agreed earlier is not agreed again */
  if (err != ER_OK && rank == 0) unlink(*tmp_path);
  free(*tmp_path);
  *tmp_path = NULL;
  return err;
}

void er_h5_abort(MPI_Comm comm, hid_t fid, char **tmp_path) {
  int rank;
  MPI_Comm_rank(comm, &rank);
  if (fid >= 0) { /* collective: every rank is here after an agreed failure */
    h5_forget(fid);
    H5Fclose(fid);
  }
  if (rank == 0 && *tmp_path) unlink(*tmp_path); /* the others' open handles stay valid */
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
  ER_AGREE(comm);
  fapl = h5_fapl(comm);
  *fid = H5Fopen(path, rw ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  if (*fid < 0 || er_fault(ER_FAULT_H5))
    err = ER_ERROR(ER_ERR_INPUT, "cannot open '%s' as HDF5 (truncated or corrupted?)", path);
cleanup:
  err = ER_FINISH(comm);
  if (err != ER_OK && *fid >= 0) {
    H5Fclose(*fid);
    *fid = -1;
  }
  if (err == ER_OK) h5_register(*fid, comm);
  if (fapl >= 0) H5Pclose(fapl);
  return err;
}

void er_h5_close(hid_t *fid) {
  if (*fid >= 0) {
    h5_forget(*fid);
    H5Fclose(*fid);
  }
  *fid = -1;
}

MPI_Comm er_h5_file_comm(hid_t fid) { return h5_comm(fid); }

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
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", name);
  for (char *p = buf + 1; *p; ++p) {
    if (*p != '/') continue;
    *p = '\0';
    if (H5Lexists(fid, buf, H5P_DEFAULT) <= 0) {
      hid_t g;
      g = H5Gcreate2(fid, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (g < 0 || er_fault(ER_FAULT_H5)) err = ER_ERROR(ER_ERR_IO, "cannot create HDF5 group '%s'", buf);
      if (g >= 0) H5Gclose(g);
      ER_AGREE(h5_comm(fid)); /* the next group's creation is collective */
    }
    *p = '/';
  }
cleanup:
  return h5_finish(fid, err);
}

/* Shape without agreement (the callers below agree once). */
static er_err h5_shape(hid_t fid, const char *name, int *ndims, int64_t dims[2]) {
  er_err err = ER_OK;
  hid_t ds = -1, sp = -1;
  hsize_t d[H5S_MAX_RANK];
  ER_CHECK(er_h5_exists(fid, name), ER_ERR_INPUT, "dataset '%s' is missing", name);
  ER_CALL_H5(ds = H5Dopen2(fid, name, H5P_DEFAULT), "cannot open dataset '%s'", name);
  ER_CALL_H5(sp = H5Dget_space(ds), "cannot read the shape of dataset '%s'", name);
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

er_err er_h5_shape(hid_t fid, const char *name, int *ndims, int64_t dims[2]) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* every call starts agreed */
  return err != ER_OK ? err : h5_finish(fid, h5_shape(fid, name, ndims, dims));
}

er_err er_h5_read_rows(hid_t fid, const char *name, hid_t mem_type, int64_t row0,
                       int64_t nrows, void *buf) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  hid_t ds = -1, fsp = -1, msp = -1, dxpl = -1;
  int nd;
  int64_t dims[2];
  ER_CALL(h5_shape(fid, name, &nd, dims));
  ER_CHECK(row0 >= 0 && row0 + nrows <= dims[0], ER_ERR_INTERNAL,
           "read of rows [%lld, %lld) outside dataset '%s' of %lld rows", (long long)row0,
           (long long)(row0 + nrows), name, (long long)dims[0]);
  ER_CALL_H5(ds = H5Dopen2(fid, name, H5P_DEFAULT), "cannot open dataset '%s'", name);
  ER_CALL_H5(fsp = H5Dget_space(ds), "cannot read the shape of dataset '%s'", name);
  msp = h5_select_rows(fsp, nd, row0, nrows, (hsize_t)dims[1]);
  dxpl = h5_dxpl();
  ER_AGREE(h5_comm(fid)); /* a transfer is collective: nobody may skip it alone */
  /* an empty dataset has no storage in HDF5 1.10: every rank sees dims[0] == 0, skip it */
  if (dims[0] > 0)
    ER_CALL_H5(H5Dread(ds, mem_type, msp, fsp, dxpl, buf),
               "reading dataset '%s' failed (truncated file?)", name);
cleanup:
  if (dxpl >= 0) H5Pclose(dxpl);
  if (msp >= 0) H5Sclose(msp);
  if (fsp >= 0) H5Sclose(fsp);
  if (ds >= 0) H5Dclose(ds);
  return h5_finish(fid, err);
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
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
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
  ER_CALL_H5(ds, "cannot create dataset '%s'", name);
  msp = h5_select_rows(fsp, nd, row0, nrows, dims[1]);
  dxpl = h5_dxpl();
  /* a transfer is collective: a rank that failed to create must not skip it alone */
  ER_AGREE(h5_comm(fid));
  /* an empty contiguous dataset has no file address: writing nothing to it fails, skip it */
  if (nrows_total > 0)
    ER_CALL_H5(H5Dwrite(ds, mem_type, msp, fsp, dxpl, buf),
               "writing dataset '%s' failed (disk full?)", name);
  /* the buffer holds the bytes the file stores when the memory type is the file type's native
   * one (what er_h5_seal's read-back would convert to): the digest is taken from it here */
  hid_t native = H5Tget_native_type(file_type, H5T_DIR_ASCEND);
  if (native >= 0 && H5Tequal(native, mem_type) > 0)
    h5_record_written(fid, name, er_digest_rows(buf, H5Tget_size(native) * dims[1], row0, nrows));
  if (native >= 0) H5Tclose(native);
cleanup:
  if (dcpl >= 0) H5Pclose(dcpl);
  if (dxpl >= 0) H5Pclose(dxpl);
  if (msp >= 0) H5Sclose(msp);
  if (fsp >= 0) H5Sclose(fsp);
  if (ds >= 0) H5Dclose(ds);
  return h5_finish(fid, err);
}

static er_err attr_write(hid_t fid, const char *obj, const char *attr, hid_t type,
                         const void *val) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  hid_t sp = -1, a = -1;
  if (H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0)
    H5Adelete_by_name(fid, obj, attr, H5P_DEFAULT);
  sp = H5Screate(H5S_SCALAR);
  a = H5Acreate_by_name(fid, obj, attr, type, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0 || er_fault(ER_FAULT_H5))
    err = ER_ERROR(ER_ERR_IO, "cannot create attribute '%s' on '%s'", attr, obj);
  ER_AGREE(h5_comm(fid)); /* the write is collective */
  ER_CALL_H5(H5Awrite(a, type, val), "cannot write attribute '%s'", attr);
cleanup:
  if (a >= 0) H5Aclose(a);
  if (sp >= 0) H5Sclose(sp);
  return h5_finish(fid, err);
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

/* The readers take one value: an attribute of more (an array written by another tool) would
 * overrun the caller's variable. */
static er_err attr_single(hid_t a, const char *obj, const char *attr) {
  hid_t sp = H5Aget_space(a);
  hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
  if (sp >= 0) H5Sclose(sp);
  if (n == 1) return ER_OK;
  return ER_ERROR(ER_ERR_INPUT, "attribute '%s' on '%s' holds %lld values, expected one", attr,
                  obj, (long long)n);
}

static er_err attr_read(hid_t fid, const char *obj, const char *attr, hid_t type, void *val) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  hid_t a = -1;
  ER_CHECK(H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0, ER_ERR_INPUT,
           "attribute '%s' missing on '%s'", attr, obj);
  a = H5Aopen_by_name(fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT);
  ER_CHECK(a >= 0, ER_ERR_INPUT, "cannot read attribute '%s'", attr);
  ER_CALL(attr_single(a, obj, attr));
  ER_CHECK(H5Aread(a, type, val) >= 0 && !er_fault(ER_FAULT_H5), ER_ERR_INPUT,
           "cannot read attribute '%s'", attr);
cleanup:
  if (a >= 0) H5Aclose(a);
  return h5_finish(fid, err);
}

er_err er_h5_attr_get_i64(hid_t fid, const char *obj, const char *attr, int64_t *value) {
  return attr_read(fid, obj, attr, H5T_NATIVE_INT64, value);
}
er_err er_h5_attr_get_f64(hid_t fid, const char *obj, const char *attr, double *value) {
  return attr_read(fid, obj, attr, H5T_NATIVE_DOUBLE, value);
}
er_err er_h5_attr_get_str(hid_t fid, const char *obj, const char *attr, char *buf, size_t len) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  hid_t a = -1, t = -1, ft = -1;
  char *tmp = NULL;
  ER_CHECK(H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0, ER_ERR_INPUT,
           "attribute '%s' missing on '%s'", attr, obj);
  ER_CALL_H5(a = H5Aopen_by_name(fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT),
             "cannot open attribute '%s'", attr);
  ER_CALL(attr_single(a, obj, attr));
  ft = H5Aget_type(a);
  size_t sz = H5Tget_size(ft);
  ER_MALLOC(tmp, sz + 1);
  t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, sz + 1);
  ER_CALL_H5(H5Aread(a, t, tmp), "cannot read attribute '%s'", attr);
  tmp[sz] = '\0';
  snprintf(buf, len, "%s", tmp);
cleanup:
  free(tmp);
  if (t >= 0) H5Tclose(t);
  if (ft >= 0) H5Tclose(ft);
  if (a >= 0) H5Aclose(a);
  return h5_finish(fid, err);
}

er_err er_h5_dtype(hid_t fid, const char *name, int *is_float, size_t *bytes) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  hid_t ds = -1, t = -1;
  ER_CHECK(er_h5_exists(fid, name), ER_ERR_INPUT, "dataset '%s' is missing", name);
  ER_CALL_H5(ds = H5Dopen2(fid, name, H5P_DEFAULT), "cannot open dataset '%s'", name);
  ER_CALL_H5(t = H5Dget_type(ds), "cannot read the type of dataset '%s'", name);
  H5T_class_t c = H5Tget_class(t);
  ER_CHECK(c == H5T_INTEGER || c == H5T_FLOAT, ER_ERR_INPUT,
           "dataset '%s' holds neither integers nor reals", name);
  *is_float = c == H5T_FLOAT;
  *bytes = H5Tget_size(t);
cleanup:
  if (t >= 0) H5Tclose(t);
  if (ds >= 0) H5Dclose(ds);
  return h5_finish(fid, err);
}

int er_h5_has_attr(hid_t fid, const char *obj, const char *attr) {
  return er_h5_exists(fid, obj) && H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0;
}

//---- digests: a content checksum per dataset, independent of the rank count -----------------

#define DIGEST_ATTR "digest"
#define DIGEST_READ_BYTES ((size_t)8 << 20) /* per rank per read */
/* digest_dataset's buffer table (erase/mem.h): per_read rows of row_bytes */
#define DIGEST_BUFFERS(X) X(buf, per_read * row_bytes + 1, char, 0)

double er_h5_seal_bytes(void) {
  const double per_read = 1, row_bytes = DIGEST_READ_BYTES; /* at most, for rows up to that */
  const double seal = 0 DIGEST_BUFFERS(ER_BUF_BYTES), whole = 0 WHOLE_BUFFERS(ER_BUF_BYTES);
  return seal > whole ? seal : whole;
}

static inline uint64_t mix64(uint64_t h) {
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

uint64_t er_digest_rows(const void *rows, size_t row_bytes, int64_t row0, int64_t nrows) {
  const unsigned char *p = rows;
  uint64_t sum = 0;
  for (int64_t r = 0; r < nrows; ++r, p += row_bytes) {
    uint64_t h = (uint64_t)(row0 + r) * 0xd6e8feb86659fd93ULL, w;
    size_t b = 0;
    for (; b + 8 <= row_bytes; b += 8) {
      memcpy(&w, p + b, 8);
      h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
      h ^= h >> 29;
    }
    if (b < row_bytes) {
      w = 0;
      memcpy(&w, p + b, row_bytes - b);
      h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    }
    sum += mix64(h ^ row_bytes);
  }
  return sum;
}

/* Collective: the digest of one dataset as stored (its native type's bytes), read in blocks of
 * rows spread over the ranks of the file's communicator. */
static er_err digest_dataset(hid_t fid, const char *name, uint64_t *digest) {
  er_err err = er_agree(h5_comm(fid), ER_OK); /* starts agreed: a caller may have failed alone */
  if (err != ER_OK) return err;
  hid_t ds = -1, ft = -1, mt = -1;
  char *buf = NULL;
  MPI_Comm comm = h5_comm(fid);
  int rank, size, nd;
  int64_t dims[2], lo, hi;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  ER_CALL(h5_shape(fid, name, &nd, dims));
  ER_CALL_H5(ds = H5Dopen2(fid, name, H5P_DEFAULT), "cannot open dataset '%s'", name);
  ER_CALL_H5(ft = H5Dget_type(ds), "cannot read the type of dataset '%s'", name);
  ER_CALL_H5(mt = H5Tget_native_type(ft, H5T_DIR_ASCEND), "dataset '%s' has no native type",
             name);
  size_t row_bytes = H5Tget_size(mt) * (size_t)dims[1];
  er_block_range(dims[0], size, rank, &lo, &hi);
  /* every rank makes the same number of collective reads: that of the largest block */
  int64_t largest = (dims[0] + size - 1) / size;
  int64_t per_read = row_bytes ? (int64_t)(DIGEST_READ_BYTES / row_bytes) : 1;
  if (per_read > largest) per_read = largest; /* no buffer larger than the block */
  if (per_read < 1) per_read = 1;
  int64_t reads = (largest + per_read - 1) / per_read;
  DIGEST_BUFFERS(ER_BUF_ALLOC)
  ER_AGREE(comm);
  uint64_t sum = 0;
  for (int64_t k = 0; k < reads; ++k) {
    int64_t r0 = lo + k * per_read, n = hi - r0 < per_read ? hi - r0 : per_read;
    if (n < 0) n = 0;
    ER_CALL(er_h5_read_rows(fid, name, mt, n ? r0 : 0, n, buf));
    sum += er_digest_rows(buf, row_bytes, r0, n);
  }
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_UINT64_T, MPI_SUM, comm));
  *digest = sum;
cleanup:
  DIGEST_BUFFERS(ER_BUF_FREE)
  if (mt >= 0) H5Tclose(mt);
  if (ft >= 0) H5Tclose(ft);
  if (ds >= 0) H5Dclose(ds);
  return h5_finish(fid, err);
}

er_err er_h5_digest(hid_t fid, const char *name, uint64_t *digest) {
  return digest_dataset(fid, name, digest);
}

typedef struct {
  char (*names)[256];
  int n, cap;
} name_list;

static herr_t collect_dataset(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
  (void)obj;
  name_list *l = data;
  if (info->type != H5O_TYPE_DATASET) return 0;
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    void *p = realloc(l->names, (size_t)cap * sizeof *l->names);
    if (!p) return -1;
    l->names = p, l->cap = cap;
  }
  snprintf(l->names[l->n++], sizeof l->names[0], "/%s", name);
  return 0;
}

/* Every dataset of the file, sorted by name (the visit order of HDF5 is by creation). */
static er_err list_datasets(hid_t fid, name_list *l) {
  er_err err = ER_OK;
  memset(l, 0, sizeof *l);
  ER_CALL_H5(H5Ovisit(fid, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, l),
             "cannot list the datasets of the file");
cleanup:
  return err;
}

er_err er_h5_seal(hid_t fid) {
  er_err err = ER_OK;
  name_list l = {0};
  uint64_t *part = NULL; /* per dataset: the sum of the ranks' parts, the ranks that have one */
  int size;
  MPI_Comm comm = h5_comm(fid);
  MPI_Comm_size(comm, &size);
  ER_CALL(h5_finish(fid, list_datasets(fid, &l)));
  ER_CALLOC(part, 2 * (size_t)l.n + 1);
  for (int i = 0; i < l.n; ++i) part[2 * i + 1] = h5_find_written(fid, l.names[i], &part[2 * i]);
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, part, 2 * l.n, MPI_UINT64_T, MPI_SUM, comm));
  for (int i = 0; i < l.n; ++i) {
    uint64_t d = part[2 * i]; /* written by er_h5_write_rows from memory on every rank */
    if (part[2 * i + 1] != (uint64_t)size) ER_CALL(digest_dataset(fid, l.names[i], &d));
    ER_CALL(er_h5_attr_set_i64(fid, l.names[i], DIGEST_ATTR, (int64_t)d));
  }
cleanup:
  if (err != ER_OK) err = h5_finish(fid, err); /* only the part array's failure is this rank's */
  free(l.names);
  free(part);
  return err;
}

er_err er_h5_verify(hid_t fid, const char *path, int *n_checked, int *n_unsealed) {
  er_err err = ER_OK;
  name_list l = {0};
  *n_checked = *n_unsealed = 0;
  ER_CALL(h5_finish(fid, list_datasets(fid, &l)));
  for (int i = 0; i < l.n; ++i) {
    int64_t want;
    uint64_t got;
    if (H5Aexists_by_name(fid, l.names[i], DIGEST_ATTR, H5P_DEFAULT) <= 0) {
      ++*n_unsealed;
      continue;
    }
    ER_CALL(er_h5_attr_get_i64(fid, l.names[i], DIGEST_ATTR, &want));
    ER_CALL(digest_dataset(fid, l.names[i], &got));
    ER_CHECK(got == (uint64_t)want, ER_ERR_INPUT, "'%s': dataset %s is corrupted (its checksum "
             "is %016llx, the file says %016llx)", path, l.names[i], (unsigned long long)got,
             (unsigned long long)want);
    ++*n_checked;
  }
cleanup:
  free(l.names);
  return err; /* the digest comparison is the same on every rank */
}

er_err er_h5_verify_file(MPI_Comm comm, const char *path, int *n_checked, int *n_unsealed,
                         int *whole) {
  er_err err = ER_OK;
  hid_t fid = -1;
  ER_CALL(er_h5_check_whole(comm, path, whole));
  ER_CALL(er_h5_open(comm, path, 0, &fid));
  ER_CALL(er_h5_verify(fid, path, n_checked, n_unsealed));
cleanup:
  err = ER_FINISH(comm);
  er_h5_close(&fid);
  return err;
}
