/* Entry points of the individual passes (one file each: pass_<name>.c). */
#ifndef ONNXI_PASSES_H
#define ONNXI_PASSES_H

#include "pass.h"

onnxi_status pass_identity_run(pass_context *ctx);
onnxi_status pass_fold_run(pass_context *ctx);
onnxi_status pass_bn_fold_run(pass_context *ctx);
onnxi_status pass_act_fuse_run(pass_context *ctx);
onnxi_status pass_shuffle_run(pass_context *ctx);
onnxi_status pass_shuffle_split_run(pass_context *ctx);
onnxi_status pass_swish_run(pass_context *ctx);
onnxi_status pass_conv_act_run(pass_context *ctx);
onnxi_status pass_dce_run(pass_context *ctx);
onnxi_status pass_groupnorm_run(pass_context *ctx);
onnxi_status pass_layernorm_run(pass_context *ctx);
onnxi_status pass_gelu_run(pass_context *ctx);

#endif
