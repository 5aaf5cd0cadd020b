/* encoder_f.c: float instantiation of encoder_template.h (training). */
#include <stdlib.h>
#include <string.h>

#include "../nn/nn_private.h"
#include "erase/encoder.h"
#include "erase/sparse.h"

/* below this input density the first layer runs sparse x dense (bag-of-words features) */
#define ER_SPARSE_INPUT_DENSITY 0.25
#define REAL float
#define ER_NN_SUFFIX f
#define ER_MPI_REAL MPI_FLOAT
#define ER_ENC_SPARSE 1
#include "encoder_template.h"
