/* encoder_d.c: double instantiation of encoder_template.h (gradient checks). */
#include <stdlib.h>
#include <string.h>

#include "../nn/nn_private.h"
#include "erase/encoder.h"
#include "erase/sparse.h"

/* below this input density the first layer runs sparse x dense (bag-of-words features) */
#define ER_SPARSE_INPUT_DENSITY 0.25
#define REAL double
#define ER_NN_SUFFIX d
#define ER_MPI_REAL MPI_DOUBLE
#define ER_ENC_SPARSE 0
#include "encoder_template.h"
