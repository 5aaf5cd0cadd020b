/* nn_float.c: the float (_f) instantiation of the nn kernels (dense_template.h, gat_template.h).
 * Nothing else lives here: the kernels are written once, in the templates. */
#include <cblas.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/rng.h"
#include "nn_private.h"

#define REAL float
#define ER_NN_SUFFIX f
#define ER_GEMM cblas_sgemm
#define ER_EXP expf

#include "dense_template.h"
#include "gat_template.h"
