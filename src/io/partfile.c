/* partfile.c: the partitions sidecar of a dataset ("<data>.partitions.h5", docs/FORMAT.md):
 * storing /partitions/<P> under a lock into a new sidecar renamed over the old one, finding a
 * partition (the dataset itself first, then the sidecar) and listing them for `info`. It never
 * writes to the dataset and computes no partition (see partition/). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erase/dataset.h"
#include "erase/h5.h"
#include "erase/partition.h"
#include "erase/sort.h"

#define PF_SUFFIX ".partitions.h5"
#define PF_KIND "erase-mpi partitions"
#define PF_PATH_MAX 4096

er_err er_partition_sidecar(const char *data_path, char *buf, size_t len) {
  size_t n = strlen(data_path);
  int strip = n > 3 && !strcmp(data_path + n - 3, ".h5");
  int w = snprintf(buf, len, "%.*s%s", (int)(strip ? n - 3 : n), data_path, PF_SUFFIX);
  if (w < 0 || (size_t)w >= len)
    return ER_ERROR(ER_ERR_INPUT, "dataset path '%.200s...' is too long", data_path);
  return ER_OK;
}

//---- small helpers ---------------------------------------------------------------------------

/* A string attribute, fixed-length (ours) or variable-length (h5py); 1 when read, else 0 and
 * buf untouched. Sets no error. */
static int pf_attr_str(hid_t fid, const char *obj, const char *attr, char *buf, size_t len) {
  int ok = 0;
  hid_t a = -1, ft = -1, mt = -1, sp = -1;
  if (H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) <= 0) return 0;
  if ((a = H5Aopen_by_name(fid, obj, attr, H5P_DEFAULT, H5P_DEFAULT)) < 0) return 0;
  ft = H5Aget_type(a);
  sp = H5Aget_space(a);
  if (ft >= 0 && sp >= 0 && H5Tget_class(ft) == H5T_STRING &&
      H5Sget_simple_extent_npoints(sp) == 1) {
    mt = H5Tcopy(H5T_C_S1);
    H5Tset_cset(mt, H5Tget_cset(ft)); /* no ASCII <-> UTF-8 conversion */
    if (H5Tis_variable_str(ft) > 0) {
      char *v = NULL;
      H5Tset_size(mt, H5T_VARIABLE);
      if (H5Aread(a, mt, &v) >= 0 && v) {
        snprintf(buf, len, "%s", v);
        ok = 1;
      }
      if (v) H5free_memory(v);
    } else {
      size_t sz = H5Tget_size(ft);
      char *v = malloc(sz + 1);
      H5Tset_size(mt, sz + 1);
      if (v && H5Aread(a, mt, v) >= 0) {
        v[sz] = '\0';
        snprintf(buf, len, "%s", v);
        ok = 1;
      }
      free(v);
    }
  }
  if (mt >= 0) H5Tclose(mt);
  if (sp >= 0) H5Sclose(sp);
  if (ft >= 0) H5Tclose(ft);
  H5Aclose(a);
  return ok;
}

/* An int64 attribute that decides what is kept: *found = 0 when it is absent (metadata, the same
 * on every rank); one present but unreadable is an error on every rank (er_h5_attr_get_i64 agrees),
 * never taken for absent. */
static er_err pf_attr_i64_req(hid_t fid, const char *obj, const char *attr, int64_t *v,
                              int *found) {
  *found = H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) > 0;
  return *found ? er_h5_attr_get_i64(fid, obj, attr, v) : ER_OK;
}

/* For listings only: an int64 / float64 attribute when present and readable (1), else 0. Sets
 * no error. */
static int pf_attr_i64(hid_t fid, const char *obj, const char *attr, int64_t *v) {
  if (H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) <= 0) return 0;
  int ok = er_h5_attr_get_i64(fid, obj, attr, v) == ER_OK;
  if (!ok) er_error_clear();
  return ok;
}
static int pf_attr_f64(hid_t fid, const char *obj, const char *attr, double *v) {
  if (H5Aexists_by_name(fid, obj, attr, H5P_DEFAULT) <= 0) return 0;
  int ok = er_h5_attr_get_f64(fid, obj, attr, v) == ER_OK;
  if (!ok) er_error_clear();
  return ok;
}

/* Length of a 1-D dataset, -1 if obj is not one. Sets no error. */
static int64_t pf_len_1d(hid_t fid, const char *obj) {
  int64_t len = -1;
  hsize_t d[H5S_MAX_RANK];
  hid_t ds = H5Dopen2(fid, obj, H5P_DEFAULT);
  if (ds < 0) return -1;
  hid_t sp = H5Dget_space(ds);
  if (sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, d, NULL) == 1)
    len = (int64_t)d[0];
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(ds);
  return len;
}

/* The part counts stored under /partitions in fid, ascending: *parts (caller frees) and *np.
 * Names that are not positive integers are skipped. Collective on comm, fid's communicator:
 * parallel HDF5 may read metadata collectively, so no rank may skip the reads alone. */
static er_err pf_list_parts(MPI_Comm comm, hid_t fid, int64_t **parts, int *np) {
  er_err err = ER_OK;
  hid_t g = -1;
  H5G_info_t gi;
  *parts = NULL;
  *np = 0;
  if (!er_h5_exists(fid, ER_DS_PARTITIONS)) return ER_OK;
  g = H5Gopen2(fid, ER_DS_PARTITIONS, H5P_DEFAULT);
  ER_CHECK(g >= 0 && H5Gget_info(g, &gi) >= 0, ER_ERR_IO, "cannot read the group '%s'",
           ER_DS_PARTITIONS);
  ER_MALLOC(*parts, gi.nlinks);
  ER_AGREE(comm);
  for (hsize_t i = 0; i < gi.nlinks; ++i) {
    char name[64], *end;
    if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                           H5P_DEFAULT) < 0)
      continue;
    long long p = strtoll(name, &end, 10);
    if (*end == '\0' && p > 0 && p <= INT32_MAX) (*parts)[(*np)++] = p;
  }
  er_sort_i64(*parts, *np);
cleanup:
  if (g >= 0) H5Gclose(g);
  if (err != ER_OK) ER_FREE(*parts);
  return err;
}

//---- identity: which graph a sidecar belongs to ------------------------------------------------

typedef struct {
  int64_t n, nnz;       /* nodes, CSR entries (2E) */
  char source[PF_PATH_MAX + 64]; /* the dataset's `source` attribute, "" if it has none */
} pf_ident;

/* The dataset's graph shape and source. Metadata only (same verdict on every rank). */
static er_err pf_ident_read(hid_t dfid, const char *path, pf_ident *id) {
  er_err err = ER_OK;
  int nd;
  int64_t dims[2];
  id->source[0] = '\0';
  ER_CHECK(er_h5_exists(dfid, ER_DS_INDPTR) && er_h5_exists(dfid, ER_DS_INDICES), ER_ERR_INPUT,
           "'%s' holds no graph (%s or %s is missing)", path, ER_DS_INDPTR, ER_DS_INDICES);
  ER_CALL(er_h5_shape(dfid, ER_DS_INDPTR, &nd, dims));
  id->n = dims[0] - 1;
  ER_CALL(er_h5_shape(dfid, ER_DS_INDICES, &nd, dims));
  id->nnz = dims[0];
  pf_attr_str(dfid, "/", "source", id->source, sizeof id->source);
cleanup:
  return err;
}

/* Empty when the sidecar sfid describes the graph id, else why not (into why). An attribute
 * that exists but cannot be read is an error: a sidecar is replaced only when it is known to
 * belong to another graph. */
static er_err pf_ident_check(hid_t sfid, const pf_ident *id, char *why, size_t len) {
  er_err err = ER_OK;
  int64_t n = -1, e = -1;
  int has_n, has_e;
  char source[sizeof id->source] = "";
  why[0] = '\0';
  ER_CALL(pf_attr_i64_req(sfid, "/", "num_nodes", &n, &has_n));
  ER_CALL(pf_attr_i64_req(sfid, "/", "num_edges", &e, &has_e));
  if (!has_n || !has_e)
    snprintf(why, len, "it has no num_nodes / num_edges attributes");
  else if (n != id->n || 2 * e != id->nnz)
    snprintf(why, len, "it describes a graph of N=%lld, E=%lld; the dataset has N=%lld, E=%lld",
             (long long)n, (long long)e, (long long)id->n, (long long)(id->nnz / 2));
  else if (pf_attr_str(sfid, "/", "source", source, sizeof source) && id->source[0] &&
           strcmp(source, id->source))
    snprintf(why, len, "it belongs to the dataset made by '%.300s', not '%.300s'", source,
             id->source);
cleanup:
  return err;
}

/* Open the sidecar of the dataset dfid (named data_path) on comm if it exists (*sfid = -1 if
 * not), and check that it belongs to this graph (stale[] empty) or say why not. */
static er_err pf_open_sidecar(MPI_Comm comm, hid_t dfid, const char *data_path, char *side,
                              size_t side_len, hid_t *sfid, char *stale, size_t stale_len) {
  er_err err = ER_OK;
  int rank, exists = 0;
  pf_ident id;
  *sfid = -1;
  stale[0] = '\0';
  MPI_Comm_rank(comm, &rank);
  ER_CALL(er_partition_sidecar(data_path, side, side_len));
  ER_CALL(pf_ident_read(dfid, data_path, &id));
  if (rank == 0) {
    struct stat st;
    exists = stat(side, &st) == 0;
  }
  ER_AGREE(comm);
  ER_CALL_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  ER_AGREE(comm);
  if (!exists) goto cleanup;
  ER_CALL(er_h5_open(comm, side, 0, sfid));
  ER_CALL(pf_ident_check(*sfid, &id, stale, stale_len));
cleanup:
  return ER_FINISH(comm);
}

//---- locate / release ------------------------------------------------------------------------

er_err er_partition_locate(hid_t data_fid, int parts, hid_t *part_fid, char *name, size_t len) {
  er_err err = ER_OK;
  MPI_Comm comm = er_h5_file_comm(data_fid);
  char data_path[PF_PATH_MAX], side[PF_PATH_MAX + 32], stale[1024];
  hid_t sfid = -1;
  *part_fid = -1;
  snprintf(name, len, "%s/%d", ER_DS_PARTITIONS, parts);
  if (er_h5_exists(data_fid, name)) { /* written into the dataset by an older version */
    *part_fid = data_fid;
    goto cleanup;
  }
  ssize_t nl = H5Fget_name(data_fid, data_path, sizeof data_path);
  ER_CHECK(nl > 0 && (size_t)nl < sizeof data_path, ER_ERR_IO,
           "cannot get the file name of the dataset (needed to find its partitions sidecar)");
  ER_CALL(pf_open_sidecar(comm, data_fid, data_path, side, sizeof side, &sfid, stale,
                          sizeof stale));
  if (sfid < 0) goto cleanup;
  ER_CHECK(!stale[0], ER_ERR_INPUT,
           "the partitions file '%s' does not belong to the dataset '%s': %s (delete it and run "
           "erase-mpi partition again)",
           side, data_path, stale);
  if (er_h5_exists(sfid, name)) {
    *part_fid = sfid;
    sfid = -1;
  }
cleanup:
  err = ER_FINISH(comm);
  er_h5_close(&sfid);
  if (err != ER_OK && *part_fid >= 0 && *part_fid != data_fid) er_h5_close(part_fid);
  if (err != ER_OK) *part_fid = -1;
  return err;
}

void er_partition_release(hid_t data_fid, hid_t *part_fid) {
  if (*part_fid >= 0 && *part_fid != data_fid) er_h5_close(part_fid);
  *part_fid = -1;
}

//---- store ---------------------------------------------------------------------------------

/* Rank 0: an exclusive flock on the lock file (created if needed and never removed: removing
 * it would let two writers lock two different files). Blocks while another writer holds it;
 * the kernel releases it when the process ends, however it ends. */
static er_err pf_lock(const char *lock_path, int *fd) {
  er_err err = ER_OK;
  *fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  ER_CHECK(*fd >= 0, ER_ERR_IO,
           "cannot create the lock file '%s': %s (partitions are stored beside the dataset, "
           "so its directory must be writable)",
           lock_path, strerror(errno));
  while (flock(*fd, LOCK_EX) != 0)
    ER_CHECK(errno == EINTR, ER_ERR_IO, "cannot lock '%s': %s", lock_path, strerror(errno));
cleanup:
  return err;
}

typedef struct {
  hid_t dst;
  er_err err;
  const char *obj;
} pf_attr_copy_ctx;

/* H5Aiterate2 callback: copy one attribute of any type (read and written in its file type). */
static herr_t pf_attr_copy_one(hid_t loc, const char *attr, const H5A_info_t *info, void *op) {
  (void)info;
  pf_attr_copy_ctx *c = op;
  hid_t a = -1, t = -1, sp = -1, b = -1;
  void *buf = NULL;
  int vlen = 0;
  if ((a = H5Aopen(loc, attr, H5P_DEFAULT)) >= 0 && (t = H5Aget_type(a)) >= 0 &&
      (sp = H5Aget_space(a)) >= 0) {
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    size_t bytes = H5Tget_size(t) * (size_t)(np > 0 ? np : 1);
    vlen = H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tis_variable_str(t) > 0;
    buf = calloc(1, bytes ? bytes : 1);
    if (buf && H5Aread(a, t, buf) >= 0 &&
        (b = H5Acreate2(c->dst, attr, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
        H5Awrite(b, t, buf) >= 0) {
      c->err = ER_OK;
    } else {
      c->err = ER_ERROR(ER_ERR_IO, "cannot copy attribute '%s' of '%s'", attr, c->obj);
    }
    if (buf && vlen) H5Dvlen_reclaim(t, sp, H5P_DEFAULT, buf);
  } else {
    c->err = ER_ERROR(ER_ERR_IO, "cannot read attribute '%s' of '%s'", attr, c->obj);
  }
  free(buf);
  if (b >= 0) H5Aclose(b);
  if (sp >= 0) H5Sclose(sp);
  if (t >= 0) H5Tclose(t);
  if (a >= 0) H5Aclose(a);
  return c->err == ER_OK ? 0 : -1;
}

/* Every rank copies its block of rows of each /partitions/<Q> (Q != skip) from src to dst, with
 * the attributes. A malformed entry (not (n) integers) is dropped with a note. Collective. */
static er_err pf_copy_partitions(MPI_Comm comm, hid_t src, hid_t dst, int64_t n, int skip,
                                 const char *src_path) {
  er_err err = ER_OK;
  int rank, size, np = 0;
  int64_t *parts = NULL, lo, hi;
  int32_t *buf = NULL;
  hid_t so = -1, dobj = -1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  er_block_range(n, size, rank, &lo, &hi);
  ER_CALL(pf_list_parts(comm, src, &parts, &np));
  ER_MALLOC(buf, hi - lo);
  ER_AGREE(comm);
  for (int i = 0; i < np; ++i) {
    char name[64];
    if (parts[i] == skip) continue;
    snprintf(name, sizeof name, "%s/%lld", ER_DS_PARTITIONS, (long long)parts[i]);
    if (pf_len_1d(src, name) != n) { /* metadata: every rank decides the same */
      er_log(comm, "  note: dropped %s of '%s': not a dataset of N=%lld entries\n", name,
             src_path, (long long)n);
      continue;
    }
    ER_CALL(er_h5_read_rows(src, name, H5T_NATIVE_INT32, lo, hi - lo, buf));
    int64_t want;
    int sealed;
    ER_CALL(pf_attr_i64_req(src, name, "digest", &want, &sealed));
    if (sealed) { /* a corrupted partition is not carried over */
      uint64_t got = er_digest_rows(buf, sizeof *buf, lo, hi - lo);
      ER_CALL_MPI(MPI_Allreduce(MPI_IN_PLACE, &got, 1, MPI_UINT64_T, MPI_SUM, comm));
      if (got != (uint64_t)want) {
        er_log(comm, "  note: dropped %s of '%s': it is corrupted (its checksum does not match)\n",
               name, src_path);
        continue;
      }
    }
    ER_CALL(er_h5_write_rows(dst, name, H5T_STD_I32LE, H5T_NATIVE_INT32, n, 0, lo, hi - lo,
                             buf));
    so = H5Oopen(src, name, H5P_DEFAULT);
    dobj = H5Oopen(dst, name, H5P_DEFAULT);
    ER_CHECK(so >= 0 && dobj >= 0, ER_ERR_IO, "cannot open '%s' to copy its attributes", name);
    pf_attr_copy_ctx c = {dobj, ER_OK, name};
    hsize_t idx = 0;
    herr_t rc = H5Aiterate2(so, H5_INDEX_NAME, H5_ITER_INC, &idx, pf_attr_copy_one, &c);
    ER_CALL(c.err);
    ER_CHECK(rc >= 0, ER_ERR_IO, "cannot copy the attributes of '%s'", name);
    H5Oclose(so), so = -1;
    H5Oclose(dobj), dobj = -1;
    ER_AGREE(comm); /* before the next partition's collective read */
  }
cleanup:
  err = ER_FINISH(comm);
  if (so >= 0) H5Oclose(so);
  if (dobj >= 0) H5Oclose(dobj);
  free(parts);
  free(buf);
  return err;
}

/* The attributes of the new /partitions/<P> and of the sidecar's root. Same values on every
 * rank (collective metadata writes). */
static er_err pf_write_attrs(hid_t fid, const char *name, const er_part_record *r,
                             const pf_ident *id) {
  er_err err = ER_OK;
  ER_CALL(er_h5_attr_set_str(fid, name, "method", r->method));
  ER_CALL(er_h5_attr_set_str(fid, name, "objective", r->objective));
  ER_CALL(er_h5_attr_set_str(fid, name, "weights", r->weights));
  ER_CALL(er_h5_attr_set_i64(fid, name, "seed", (int64_t)(r->seed & INT64_MAX)));
  ER_CALL(er_h5_attr_set_i64(fid, name, "ncuts", r->ncuts));
  ER_CALL(er_h5_attr_set_i64(fid, name, "ranks", r->ranks));
  ER_CALL(er_h5_attr_set_i64(fid, name, "edge_cut", r->stats.edge_cut));
  ER_CALL(er_h5_attr_set_i64(fid, name, "max_part_size", r->stats.max_part_size));
  ER_CALL(er_h5_attr_set_f64(fid, name, "mean_part_size", r->stats.mean_part_size));
  ER_CALL(er_h5_attr_set_i64(fid, name, "ghosts", r->stats.total_ghosts));
  ER_CALL(er_h5_attr_set_i64(fid, name, "max_ghosts", r->stats.max_ghosts));
  ER_CALL(er_h5_attr_set_f64(fid, name, "work_imbalance", r->stats.work_imbalance));
  ER_CALL(er_h5_attr_set_str(fid, "/", "kind", PF_KIND));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_nodes", id->n));
  ER_CALL(er_h5_attr_set_i64(fid, "/", "num_edges", id->nnz / 2));
  if (id->source[0]) ER_CALL(er_h5_attr_set_str(fid, "/", "source", id->source));
cleanup:
  return err;
}

er_err er_partition_store(MPI_Comm comm, const char *data_path, const er_part_record *rec,
                          int64_t row0, int64_t nrows, const int32_t *owner) {
  er_err err = ER_OK;
  int rank, lock_fd = -1, shadowed = 0;
  hid_t dfid = -1, ofid = -1, fid = -1;
  char *tmp = NULL, side[PF_PATH_MAX + 32], lock[PF_PATH_MAX + 64], name[64], stale[1024];
  pf_ident id;
  MPI_Comm_rank(comm, &rank);
  snprintf(name, sizeof name, "%s/%d", ER_DS_PARTITIONS, rec->parts);

  // ---- the dataset (read-only): its identity, and the old sidecar if there is one ----
  ER_CALL(er_h5_open(comm, data_path, 0, &dfid));
  ER_CALL(pf_ident_read(dfid, data_path, &id));
  ER_CHECK(id.n == rec->n, ER_ERR_INTERNAL, "partition of %lld nodes for a graph of %lld",
           (long long)rec->n, (long long)id.n);
  shadowed = er_h5_exists(dfid, name);
  ER_CALL(er_partition_sidecar(data_path, side, sizeof side));
  snprintf(lock, sizeof lock, "%s.lock", side);
  ER_AGREE(comm);

  // ---- the lock: rank 0 takes it, the other ranks wait for it ----
  er_err lock_err = rank == 0 ? pf_lock(lock, &lock_fd) : ER_OK;
  ER_CALL(er_barrier_sleeping(comm, 2000000)); /* rank 0 may wait for the lock */
  err = lock_err;
  ER_AGREE(comm);

  // ---- under the lock: the old sidecar is read, a new one written and renamed over it ----
  ER_CALL(pf_open_sidecar(comm, dfid, data_path, side, sizeof side, &ofid, stale,
                          sizeof stale));
  er_h5_close(&dfid);
  if (ofid >= 0 && stale[0]) {
    er_log(comm, "  note: replacing '%s': %s; its partitions are dropped\n", side, stale);
    er_h5_close(&ofid);
  }
  struct stat st; /* room for the new partition and the old ones (rank 0 decides) */
  double bytes = 4.0 * (double)id.n + (stat(side, &st) == 0 ? (double)st.st_size : 0.0);
  ER_CALL(er_h5_room(comm, side, bytes));
  ER_CALL(er_h5_create(comm, side, &fid, &tmp));
  if (ofid >= 0) ER_CALL(pf_copy_partitions(comm, ofid, fid, id.n, rec->parts, side));
  er_h5_close(&ofid);
  ER_CALL(er_h5_write_rows(fid, name, H5T_STD_I32LE, H5T_NATIVE_INT32, rec->n, 0, row0, nrows,
                           owner));
  ER_CALL(pf_write_attrs(fid, name, rec, &id));
  ER_AGREE(comm);
  err = er_h5_commit(comm, fid, side, &tmp);
  fid = -1;
  ER_CALL(err);
  if (shadowed)
    er_log(comm,
           "  warning: '%s' itself holds %s (written by an older erase-mpi), which readers use "
           "before the one just stored in '%s'\n",
           data_path, name, side);
cleanup:
  err = ER_FINISH(comm);
  if (tmp) er_h5_abort(comm, fid, &tmp);
  er_h5_close(&ofid);
  er_h5_close(&dfid);
  if (lock_fd >= 0) close(lock_fd); /* releases the flock */
  return err;
}

//---- list ----------------------------------------------------------------------------------

/* One "  P=..." line for /partitions/<p> in fid; where: "" or a note in brackets. */
static void pf_print_one(MPI_Comm comm, hid_t fid, int64_t p, int64_t num_nodes,
                         int64_t num_edges, const char *where) {
  char obj[64], method[64] = "?", cut[48] = "?", maxp[32] = "?", mean[32] = "?", extra[256] = "";
  char objective[32], weights[32];
  int64_t v;
  double fv;
  snprintf(obj, sizeof obj, "%s/%lld", ER_DS_PARTITIONS, (long long)p);
  pf_attr_str(fid, obj, "method", method, sizeof method);
  if (pf_attr_i64(fid, obj, "edge_cut", &v)) {
    if (num_edges > 0)
      snprintf(cut, sizeof cut, "%lld (%.1f%%)", (long long)v, 100.0 * v / num_edges);
    else
      snprintf(cut, sizeof cut, "%lld", (long long)v);
  }
  if (pf_attr_i64(fid, obj, "max_part_size", &v)) snprintf(maxp, sizeof maxp, "%lld", (long long)v);
  if (pf_attr_f64(fid, obj, "mean_part_size", &fv)) snprintf(mean, sizeof mean, "%.1f", fv);
  if (pf_attr_i64(fid, obj, "ghosts", &v)) {
    size_t k = strlen(extra);
    snprintf(extra + k, sizeof extra - k, ", ghosts %lld", (long long)v);
  }
  if (pf_attr_str(fid, obj, "objective", objective, sizeof objective) &&
      pf_attr_str(fid, obj, "weights", weights, sizeof weights)) {
    size_t k = strlen(extra);
    snprintf(extra + k, sizeof extra - k, ", objective %s, weights %s", objective, weights);
  }
  if (pf_attr_i64(fid, obj, "ncuts", &v) && v > 1) { /* shown only when it made a choice */
    size_t k = strlen(extra);
    snprintf(extra + k, sizeof extra - k, ", best of %lld", (long long)v);
  }
  if (pf_len_1d(fid, obj) != num_nodes) {
    size_t k = strlen(extra);
    snprintf(extra + k, sizeof extra - k, "  [malformed: not an (N) dataset]");
  }
  er_log(comm, "  P=%-4lld method %s, edge cut %s, max part %s, mean part %s%s%s\n",
         (long long)p, method, cut, maxp, mean, extra, where);
}

er_err er_partition_list(MPI_Comm comm, hid_t data_fid, int64_t num_nodes, int64_t num_edges) {
  er_err err = ER_OK;
  hid_t sfid = -1;
  int64_t *in_data = NULL, *in_side = NULL;
  int nd = 0, ns = 0;
  char data_path[PF_PATH_MAX], side[PF_PATH_MAX + 32], stale[1024], where[PF_PATH_MAX + 96];
  ssize_t nl = H5Fget_name(data_fid, data_path, sizeof data_path);
  ER_CHECK(nl > 0 && (size_t)nl < sizeof data_path, ER_ERR_IO,
           "cannot get the file name of the dataset");
  ER_CALL(pf_list_parts(comm, data_fid, &in_data, &nd));
  ER_CALL(pf_open_sidecar(comm, data_fid, data_path, side, sizeof side, &sfid, stale,
                          sizeof stale));
  if (sfid >= 0 && !stale[0]) ER_CALL(pf_list_parts(comm, sfid, &in_side, &ns));
  ER_AGREE(comm); /* the listing may fail on one rank only; the caller's next step is collective */
  if (nd + ns == 0) er_log(comm, "partitions  none\n");
  else if (ns == 0) er_log(comm, "partitions  %d stored in the dataset\n", nd);
  else if (nd == 0) er_log(comm, "partitions  %d stored in %s\n", ns, side);
  else
    er_log(comm, "partitions  %d stored in the dataset, %d in %s (the dataset's come first)\n",
           nd, ns, side);
  if (sfid >= 0 && stale[0])
    er_log(comm, "partitions  %s is ignored: %s\n", side, stale);
  for (int i = 0; i < nd; ++i)
    pf_print_one(comm, data_fid, in_data[i], num_nodes, num_edges, ns ? "  [in the dataset]" : "");
  for (int i = 0; i < ns; ++i) {
    int shadow = er_search_i64(in_data, nd, in_side[i]) >= 0;
    snprintf(where, sizeof where, "%s", shadow ? "  [unused: the dataset has its own]" : "");
    pf_print_one(comm, sfid, in_side[i], num_nodes, num_edges, where);
  }
cleanup:
  err = ER_FINISH(comm);
  er_h5_close(&sfid);
  free(in_data);
  free(in_side);
  return err;
}
