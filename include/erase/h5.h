/* h5.h: thin collective wrappers over parallel HDF5 used by every reader and writer.
 * Files are written under a temporary name and renamed only when complete (er_h5_commit).
 * HDF5's own error printing is silenced; failures come back as er_err with a message. */
#ifndef ERASE_H5_H
#define ERASE_H5_H

#include <hdf5.h>

#include "erase/mem.h"

/* Collective. Create a new file for writing at "<path>.tmp.<pid of rank 0>"; *tmp_path (caller
 * frees) receives the temporary name. The file is opened with the MPI-IO driver on comm. */
er_err er_h5_create(MPI_Comm comm, const char *path, hid_t *fid, char **tmp_path);
/* Collective. Refuses, before anything is written, a file of about `bytes` that the file system
 * of path has no room for (rank 0 asks statvfs): a disk that fills up in the middle of a
 * parallel HDF5 write can leave the ranks disagreeing inside HDF5. */
er_err er_h5_room(MPI_Comm comm, const char *path, double bytes);
/* As er_h5_create, for a file that proves itself whole (checkpoints): a user block at its start
 * receives, at commit, a digest of every byte that follows (er_h5_check_whole). */
er_err er_h5_create_whole(MPI_Comm comm, const char *path, hid_t *fid, char **tmp_path);
/* Collective. If the file carries a whole-file digest (*present = 1), recompute it on rank 0: a
 * flipped byte anywhere in the file is ER_ERR_INPUT naming the file. */
er_err er_h5_check_whole(MPI_Comm comm, const char *path, int *present);
/* Collective. Close fid and atomically rename tmp_path to path (rank 0 renames after all ranks
 * closed). Frees *tmp_path. */
er_err er_h5_commit(MPI_Comm comm, hid_t fid, const char *path, char **tmp_path);
/* Collective-safe cleanup after a failure: close fid (if >= 0), rank 0 unlinks tmp_path.
 * Frees *tmp_path. Never fails. */
void er_h5_abort(MPI_Comm comm, hid_t fid, char **tmp_path);

/* Collective. Open an existing HDF5 file read-only (rw != 0: read-write) with MPI-IO on comm.
 * Clear errors for a missing, unreadable, empty, truncated or non-HDF5 file. */
er_err er_h5_open(MPI_Comm comm, const char *path, int rw, hid_t *fid);
void er_h5_close(hid_t *fid);
/* The communicator a file (or any object in it) was opened or created on by er_h5_open /
 * er_h5_create, itself (not a duplicate: never free it); MPI_COMM_SELF for other files. */
MPI_Comm er_h5_file_comm(hid_t fid);

/* 1 if the link exists (intermediate groups checked), else 0. */
int er_h5_exists(hid_t loc, const char *name);
/* Create intermediate groups of a path like "/a/b/c" (the last component is not created). */
er_err er_h5_make_parents(hid_t fid, const char *name);

/* Dataset shape: rank (<= 2) and dims; missing dataset is an ER_ERR_INPUT with a clear text. */
er_err er_h5_shape(hid_t fid, const char *name, int *ndims, int64_t dims[2]);

/* Collective read of rows [row0, row0+nrows) of a 1-D or 2-D dataset (ncols = dims[1] or 1)
 * into buf, converting to mem_type (H5T_NATIVE_INT64, _INT32, _FLOAT, _DOUBLE). Every rank of
 * the file's communicator must call, possibly with nrows = 0. */
er_err er_h5_read_rows(hid_t fid, const char *name, hid_t mem_type, int64_t row0,
                       int64_t nrows, void *buf);
/* Collective read of the whole dataset into buf on every rank. */
er_err er_h5_read_all(hid_t fid, const char *name, hid_t mem_type, void *buf);

/* Collective. Create dataset name (parents made) of global shape (nrows_total, ncols) (ncols
 * = 0 means 1-D) with file_type, and write this rank's rows [row0, row0+nrows) from buf of
 * mem_type. Chunked + uncompressed. */
er_err er_h5_write_rows(hid_t fid, const char *name, hid_t file_type, hid_t mem_type,
                        int64_t nrows_total, int64_t ncols, int64_t row0, int64_t nrows,
                        const void *buf);

/* Attributes on an object (path "/" for the root). Collective when the file is parallel:
 * every rank must call with the same values. */
er_err er_h5_attr_set_i64(hid_t fid, const char *obj, const char *attr, int64_t value);
er_err er_h5_attr_set_f64(hid_t fid, const char *obj, const char *attr, double value);
er_err er_h5_attr_set_str(hid_t fid, const char *obj, const char *attr, const char *value);
er_err er_h5_attr_get_i64(hid_t fid, const char *obj, const char *attr, int64_t *value);
er_err er_h5_attr_get_f64(hid_t fid, const char *obj, const char *attr, double *value);
/* Reads a string attribute into buf (truncated to len-1, NUL terminated). */
er_err er_h5_attr_get_str(hid_t fid, const char *obj, const char *attr, char *buf, size_t len);

/* Collective. The element type of a dataset: real or integer (anything else is ER_ERR_INPUT),
 * and its size in bytes. */
er_err er_h5_dtype(hid_t fid, const char *name, int *is_float, size_t *bytes);
/* 1 if object obj has attribute attr. Metadata only; the same on every rank. */
int er_h5_has_attr(hid_t fid, const char *obj, const char *attr);

/* Collective. Every check a file of erase-mpi carries: the whole-file digest (checkpoints) and
 * every dataset's digest; counts what was checked (the datasets without a digest, and whether
 * the file had a whole-file digest). */
er_err er_h5_verify_file(MPI_Comm comm, const char *path, int *n_checked, int *n_unsealed,
                         int *whole);

/* Content digests (checksums) of datasets: sum over rows r of mix(hash(row r's bytes as stored)
 * ^ r) mod 2^64, the same at any rank count and any chunking. Every file erase-mpi writes is
 * sealed (er_h5_commit): each dataset carries its digest in the attribute "digest".
 * er_digest_rows: the part of a digest contributed by rows [row0, row0 + nrows) (row_bytes
 * each) already in memory; the parts of disjoint row sets add up. Not collective. */
uint64_t er_digest_rows(const void *rows, size_t row_bytes, int64_t row0, int64_t nrows);
/* Collective. The digest of one dataset, read in blocks over the ranks. */
er_err er_h5_digest(hid_t fid, const char *name, uint64_t *digest);
/* Collective. Writes the digest attribute of every dataset of the file: summed from the parts
 * er_h5_write_rows took from its buffers as it wrote them (when the memory type is the file
 * type's native one, the buffer holds the stored bytes), else read back. */
er_err er_h5_seal(hid_t fid);
/* The most a rank's buffer holds while er_h5_commit seals a file: er_h5_seal reading a dataset
 * back (written with a converting memory type), then the whole-file digest of a file made by
 * er_h5_create_whole (erase/mem.h). */
double er_h5_seal_bytes(void);
/* Collective. Recomputes every sealed dataset's digest; a mismatch is ER_ERR_INPUT naming the
 * file (path) and the dataset. Counts the datasets checked and those without a digest (written
 * by another tool). */
er_err er_h5_verify(hid_t fid, const char *path, int *n_checked, int *n_unsealed);

#endif
