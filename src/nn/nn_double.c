/* nn_double.c: the double (_d) instantiation of the nn kernels (dense_template.h, gat_template.h).
 * Nothing else lives here: the kernels are written once, in the templates. */
#include <cblas.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "erase/rng.h"
#include "nn_private.h"

#define REAL double
#define ER_NN_SUFFIX d
#define ER_GEMM cblas_dgemm
#define ER_EXP exp

#include "dense_template.h"
#include "gat_template.h"
