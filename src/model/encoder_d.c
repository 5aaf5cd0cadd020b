/* encoder_d.c: the double encoder of encoder.h (gradient checks): its _d functions, by
 * instantiating encoder_template.h for double, always dense. The encoder itself is written
 * once, in the template. */
#include <stdlib.h>
#include <string.h>

#include "erase/encoder.h"
#include "erase/nn.h"

#define REAL double
#define ER_MPI_REAL MPI_DOUBLE
#define ER_ENC_BF16 0 /* bf16 gathers (er_gat_*_bf16) */
#define ER_ENC_SPARSE 0

/* The template defines NAME_T; each NAME_T is the double name declared in encoder.h. */
#define er_encoder_T                  er_encoder_d
#define er_encoder_create_T           er_encoder_create_d
#define er_encoder_destroy_T          er_encoder_destroy_d
#define er_encoder_layout_T           er_encoder_layout_d
#define er_encoder_params_T           er_encoder_params_d
#define er_encoder_grads_T            er_encoder_grads_d
#define er_encoder_dz_buffer_T        er_encoder_dz_buffer_d
#define er_encoder_zero_grads_T       er_encoder_zero_grads_d
#define er_encoder_init_T             er_encoder_init_d
#define er_encoder_forward_T          er_encoder_forward_d
#define er_encoder_eval_rows_T        er_encoder_eval_rows_d
#define er_encoder_release_backward_T er_encoder_release_backward_d
#define er_encoder_backward_T         er_encoder_backward_d
#define er_encoder_mem_T              er_encoder_mem_d

/* The nn.h kernels the template calls as NAME_T. */
#define er_gat_cache_T                er_gat_cache_d
#define er_gat_cache_create_T         er_gat_cache_create_d
#define er_gat_cache_destroy_T        er_gat_cache_destroy_d
#define er_gat_cache_bytes_T          er_gat_cache_bytes_d
#define er_gat_scores_T               er_gat_scores_d
#define er_gat_aggregate_T            er_gat_aggregate_d
#define er_gat_backward_gather_T      er_gat_backward_gather_d
#define er_gat_backward_rows_T        er_gat_backward_rows_d
#define er_gat_backward_sources_T     er_gat_backward_sources_d
#define er_linear_forward_T           er_linear_forward_d
#define er_linear_backward_T          er_linear_backward_d
#define er_dropout_forward_T          er_dropout_forward_d
#define er_leakyrelu_forward_T        er_leakyrelu_forward_d
#define er_l1norm_forward_T           er_l1norm_forward_d
#define er_relu_forward_T             er_relu_forward_d
#define er_glorot_init_T              er_glorot_init_d
#include "encoder_template.h"
