/* npy.h: NumPy .npy files for `erase-mpi import` (docs/FORMAT.md): the header (format versions
 * 1.0, 2.0 and 3.0; little-endian int32/int64/float32/float64/bool/uint8, C order) and the
 * element conversions import needs, over bytes in memory. No MPI and no files: import reads
 * each rank's slice and converts it here; a fuzzer hands over any bytes. */
#ifndef ERASE_IO_NPY_H
#define ERASE_IO_NPY_H

#include <stddef.h>

#include "erase/core.h"

#define ER_NPY_MAXDIM 4
#define ER_NPY_MAX_HEADER (1 << 20) /* header bytes accepted (numpy writes < 4 KiB) */

typedef enum { ER_NPY_I4, ER_NPY_I8, ER_NPY_F4, ER_NPY_F8, ER_NPY_B1, ER_NPY_U1 } er_npy_dtype;

typedef struct {
  int dtype;    /* er_npy_dtype */
  int itemsize; /* bytes per element */
  int ndim;     /* 0 .. ER_NPY_MAXDIM */
  int64_t shape[ER_NPY_MAXDIM];
  int64_t count;    /* elements: the product of shape */
  int64_t data_off; /* bytes before the first element */
  char descr[16];   /* as written, for messages */
} er_npy_header;

/* 1 when buf (len bytes) starts with the .npy magic "\x93NUMPY". */
int er_npy_magic(const void *buf, size_t len);

/* The header of a .npy file of file_size bytes whose first len bytes are buf. *complete = 0
 * when more bytes are needed (nothing else set). Checks the magic and version, the header
 * dictionary ('descr', 'fortran_order', 'shape'), the dtype (little-endian <i4 <i8 <f4 <f8,
 * |b1 |u1), C order, and that the file holds exactly the data the shape declares (truncated
 * files and trailing bytes are errors). ER_ERR_INPUT "path: what" otherwise. */
er_err er_npy_parse_header(const char *path, const void *buf, size_t len, int64_t file_size,
                           er_npy_header *h, int *complete);

/* "(2, 10556)" into buf. */
void er_npy_shape_str(const er_npy_header *h, char *buf, size_t len);

/* count elements at src (any alignment) as int64: integer or bool/uint8 dtypes. */
void er_npy_to_i64(const er_npy_header *h, const void *src, int64_t count, int64_t *dst);

/* count elements at src of a float dtype as float32. Returns the position of the first value
 * that is NaN, infinite or beyond float32 (its value in *bad), or -1 when all are fine. */
int64_t er_npy_to_f32(const er_npy_header *h, const void *src, int64_t count, float *dst,
                      double *bad);

#endif
