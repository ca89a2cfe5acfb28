#!/usr/bin/python3
"""Writes the hostile-model corpus: small .onnx files that are each wrong in
one way, and MANIFEST (name <TAB> expected error substring <TAB> reason
[<TAB> feed options]) read by tests/test_hostile.c.

Feed options (space-separated) tell the test how to fill graph inputs:
  shape0=2x5  feed input 0 with these dims instead of the declared ones
  int=N       fill integer inputs with N (default 0); floats are 1.0

Run: /usr/bin/python3 tests/hostile/make_corpus.py [OUTDIR]  (default: this
directory). Needs the onnx package; uses no checker on purpose."""
import os
import sys

import onnx
from onnx import TensorProto as TP
from onnx import helper as h

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
CASES = []  # (name, expect, reason, feed)
for stale in os.listdir(OUT):  # renamed or removed cases must not linger
    if stale.endswith(".onnx"):
        os.remove(os.path.join(OUT, stale))
F = TP.FLOAT
I64 = TP.INT64


def vi(name, dtype, dims):
    return h.make_tensor_value_info(name, dtype, dims)


def init(name, dtype, dims, vals):
    return h.make_tensor(name, dtype, dims, vals)


def init_f(name, dims):
    n = 1
    for d in dims:
        n *= d
    return init(name, F, dims, [0.5] * n)


def model(nodes, inputs, outputs, inits=(), opset=13, value_info=()):
    g = h.make_graph(nodes, "g", inputs, outputs, initializer=list(inits),
                     value_info=list(value_info))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", opset)], producer_name="hostile")
    m.ir_version = 8
    return m


def case(name, expect, reason, m, feed=""):
    data = m if isinstance(m, bytes) else m.SerializeToString()
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(data)
    CASES.append((name, expect, reason, feed))


def unary(op, x_dims, y_dims=None, inits=(), extra_inputs=(), **attrs):
    """x -> op(x, *extra_inputs) -> y."""
    n = h.make_node(op, ["x", *extra_inputs], ["y"], name="n0", **attrs)
    return model([n], [vi("x", F, x_dims)], [vi("y", F, y_dims)], inits)


def conv(x_dims, w_dims, **attrs):
    return unary("Conv", x_dims, None, [init_f("w", w_dims)], ["w"], **attrs)


def raw_attr(node, name, atype, **fields):
    a = onnx.AttributeProto(name=name, type=atype, **fields)
    node.attribute.append(a)


# --- Conv / pooling attributes -------------------------------------------------
case("conv_strides_zero", "'strides': value 0 at index 0 is out of range", "Conv strides of 0 divide by zero in the output size",
     conv([1, 1, 5, 5], [1, 1, 3, 3], strides=[0, 0]))
case("conv_strides_negative", "'strides': value -1 at index 0 is out of range", "negative Conv strides",
     conv([1, 1, 5, 5], [1, 1, 3, 3], strides=[-1, -2]))
case("conv_dilations_zero", "'dilations': value 0 at index 0 is out of range", "Conv dilations of 0",
     conv([1, 1, 5, 5], [1, 1, 3, 3], dilations=[0, 1]))
case("conv_kernel_larger_than_input", "kernel extent 5 (kernel 5, dilation 1) exceeds the padded input size 3", "5x5 kernel over a 3x3 input, no padding",
     conv([1, 1, 3, 3], [1, 1, 5, 5]))
case("conv_pads_negative", "'pads': value -1 at index 0 is out of range", "negative Conv pads",
     conv([1, 1, 5, 5], [1, 1, 3, 3], pads=[-1, 0, 0, 0]))
case("conv_pads_huge", "too large", "Conv pads of 2^30, far larger than the kernel: output of 2^62 elements",
     conv([1, 1, 5, 5], [1, 1, 3, 3], pads=[1 << 30] * 4))
case("conv_group_not_dividing", "'group': 2 does not divide 3 input channels", "group 2 does not divide 3 input channels",
     conv([1, 3, 5, 5], [2, 1, 3, 3], group=2))
case("conv_group_zero", "'group' is 0, expected >= 1", "group 0",
     conv([1, 2, 5, 5], [2, 1, 3, 3], group=0))
case("conv_weight_channels", "has 2 input channels per group, expected 3", "weight has 2 input channels, X has 3",
     conv([1, 3, 5, 5], [4, 2, 3, 3]))
case("conv_kernel_shape_mismatch", "'kernel_shape' is 5 on spatial axis 0 but the weight has 3", "kernel_shape 5x5 but the weight is 3x3",
     conv([1, 1, 7, 7], [1, 1, 3, 3], kernel_shape=[5, 5]))
case("conv_weight_rank", "has rank 3, expected 4", "2-D Conv with a rank-3 weight",
     conv([1, 1, 5, 5], [1, 1, 3]))
case("conv_strides_wrong_length", "'strides' has 3 values, expected 2", "3 strides for a 2-D Conv",
     conv([1, 1, 5, 5], [1, 1, 3, 3], strides=[1, 1, 1]))
n = h.make_node("Conv", ["x", "w"], ["y"], name="n0")
raw_attr(n, "strides", onnx.AttributeProto.FLOATS, floats=[1.0, 1.0])
case("conv_strides_float", "'strides' has type floats, expected ints", "strides given as FLOATS, not INTS",
     model([n], [vi("x", F, [1, 1, 5, 5])], [vi("y", F, None)], [init_f("w", [1, 1, 3, 3])]))
n = h.make_node("Conv", ["x", "w"], ["y"], name="n0")
raw_attr(n, "group", onnx.AttributeProto.STRING, s=b"1")
case("conv_group_string", "'group' has type string, expected int", "group given as STRING",
     model([n], [vi("x", F, [1, 1, 5, 5])], [vi("y", F, None)], [init_f("w", [1, 1, 3, 3])]))
n = h.make_node("Conv", ["x", "w"], ["y"], name="n0")
raw_attr(n, "group", onnx.AttributeProto.INT)  # type INT, no value set
case("conv_group_type_without_value", "'group' is 0, expected >= 1", "INT attribute whose value field is absent",
     model([n], [vi("x", F, [1, 1, 5, 5])], [vi("y", F, None)], [init_f("w", [1, 1, 3, 3])]))
case("conv_one_input", "expects inputs X, W and optional B, got 1", "Conv without its weight input",
     unary("Conv", [1, 1, 5, 5]))
case("convtranspose_strides_zero", "'strides': value 0 at index 0 is out of range", "ConvTranspose strides of 0",
     unary("ConvTranspose", [1, 1, 3, 3], None, [init_f("w", [1, 1, 3, 3])], ["w"],
           strides=[0, 0]))
case("maxpool_kernel_zero", "'kernel_shape': value 0 at index 0 is out of range", "MaxPool kernel_shape 0x0",
     unary("MaxPool", [1, 1, 4, 4], kernel_shape=[0, 0]))
case("maxpool_kernel_larger_than_input", "kernel extent 5 (kernel 5, dilation 1) exceeds the padded input size 3", "MaxPool 5x5 over 3x3",
     unary("MaxPool", [1, 1, 3, 3], kernel_shape=[5, 5]))
case("maxpool_pads_larger_than_kernel", "pads 3 and 3 on spatial axis 0 are not smaller than the window extent 2", "MaxPool pads 3 with a 2x2 window: all-padding windows",
     unary("MaxPool", [1, 1, 4, 4], kernel_shape=[2, 2], pads=[3, 3, 3, 3]))
case("maxpool_no_kernel_shape", "'kernel_shape' is required", "MaxPool without its required kernel_shape",
     unary("MaxPool", [1, 1, 4, 4]))
case("avgpool_strides_zero", "'strides': value 0 at index 0 is out of range", "AveragePool strides of 0",
     unary("AveragePool", [1, 1, 4, 4], kernel_shape=[2, 2], strides=[0, 0]))
case("lrn_size_zero", "'size' is 0, expected >= 1", "LRN size 0",
     unary("LRN", [1, 3, 4, 4], size=0))
case("depthtospace_blocksize_zero", "'blocksize': 0 is out of range", "DepthToSpace blocksize 0",
     unary("DepthToSpace", [1, 4, 2, 2], blocksize=0))
case("batchnorm_channels", "'scale' has 4 elements, expected 3", "BatchNormalization scale for 4 channels, X has 3",
     unary("BatchNormalization", [1, 3, 2, 2], None,
           [init_f("s", [4]), init_f("b", [4]), init_f("m", [4]), init_f("v", [4])],
           ["s", "b", "m", "v"]))

# --- shape ops -------------------------------------------------------------------
def with_i64(op, x_dims, name, vals, dims=None, **attrs):
    return unary(op, x_dims, None, [init(name, I64, dims or [len(vals)], vals)], [name], **attrs)


case("reshape_count_mismatch", "cannot reshape [2,3] (6 elements) to [4,2]", "[2,3] reshaped to [4,2]",
     with_i64("Reshape", [2, 3], "s", [4, 2]))
case("reshape_two_minus_one", "more than one -1", "two -1 dims in the Reshape shape",
     with_i64("Reshape", [2, 3], "s", [-1, -1]))
case("reshape_negative_dim", "'shape': dim 0 is -2", "dim -2 in the Reshape shape",
     with_i64("Reshape", [2, 3], "s", [-2, 3]))
case("reshape_shape_float", "'shape' has dtype float32, expected int64", "Reshape shape given as a FLOAT tensor",
     unary("Reshape", [2, 3], None, [init("s", F, [2], [3.0, 2.0])], ["s"]))
case("gather_index_out_of_range", "index 5 (at position 0) is out of range for size 3", "constant index 5 into a dim of 3",
     with_i64("Gather", [3, 2], "i", [5]))
case("gather_index_negative", "index -4 (at position 0) is out of range for size 3", "constant index -4 into a dim of 3",
     with_i64("Gather", [3, 2], "i", [-4]))
case("gather_axis_out_of_range", "'axis' 3 is out of range for rank 2", "axis 3 of a rank-2 tensor",
     with_i64("Gather", [3, 2], "i", [0], axis=3))
n = h.make_node("Gather", ["x", "i"], ["y"], name="n0")
gather_rt = model([n], [vi("x", F, [3, 2]), vi("i", I64, [2])], [vi("y", F, None)])
case("gather_runtime_index", "index 100 (at position 0) is out of range for size 3", "runtime index 100 into a dim of 3", gather_rt,
     "int=100")
case("gather_runtime_negative_index", "index -100 (at position 0) is out of range for size 3", "runtime index -100 into a dim of 3",
     gather_rt, "int=-100")
n = h.make_node("ScatterND", ["x", "i", "u"], ["y"], name="n0")
case("scatternd_runtime_index", "index tuple 0 is out of range", "ScatterND runtime index 7 into a dim of 3",
     model([n], [vi("x", F, [3]), vi("i", I64, [1, 1]), vi("u", F, [1])], [vi("y", F, None)]),
     "int=7")
def slice_model(starts, ends, axes=None, steps=None, x=(4, 4)):
    ins = [init("st", I64, [len(starts)], starts), init("en", I64, [len(ends)], ends)]
    names = ["st", "en"]
    if axes is not None:
        ins.append(init("ax", I64, [len(axes)], axes))
        names.append("ax")
    if steps is not None:
        ins.append(init("sp", I64, [len(steps)], steps))
        names.append("sp")
    return unary("Slice", list(x), None, ins, names)


case("slice_step_zero", "step for axis 0 is 0", "Slice step 0", slice_model([0], [4], [0], [0]))
case("slice_length_mismatch", "differ in length", "2 starts, 1 end", slice_model([0, 0], [4]))
case("slice_axis_duplicate", "axis 0 is given twice", "axis 0 sliced twice", slice_model([0, 0], [2, 2], [0, 0]))
case("slice_axis_out_of_range", "axis 5 is out of range for rank 2", "Slice axis 5 of a rank-2 tensor",
     slice_model([0], [2], [5]))
n = h.make_node("Concat", ["x", "c"], ["y"], name="n0", axis=0)
case("concat_rank_mismatch", "input 1 has rank 1, input 0 has rank 2", "Concat of a rank-2 and a rank-1 tensor",
     model([n], [vi("x", F, [2, 3])], [vi("y", F, None)], [init_f("c", [3])]))
n = h.make_node("Concat", ["x", "c"], ["y"], name="n0", axis=1)
case("concat_dim_mismatch", "input 1: dim 0 is 3, input 0 has 2", "Concat on axis 1 of [2,3] and [3,3]",
     model([n], [vi("x", F, [2, 3])], [vi("y", F, None)], [init_f("c", [3, 3])]))
n = h.make_node("Concat", ["x", "c"], ["y"], name="n0", axis=4)
case("concat_axis_out_of_range", "'axis' 4 is out of range for rank 2", "Concat axis 4 of rank 2",
     model([n], [vi("x", F, [2, 3])], [vi("y", F, None)], [init_f("c", [2, 3])]))
case("transpose_perm_repeated", "'perm' is not a permutation", "Transpose perm [0,0]",
     unary("Transpose", [2, 3], perm=[0, 0]))
case("transpose_perm_length", "'perm' has 3 entries for rank 2", "Transpose perm of 3 axes for rank 2",
     unary("Transpose", [2, 3], perm=[0, 1, 2]))
n = h.make_node("Transpose", ["x"], ["y"], name="n0")
raw_attr(n, "perm", onnx.AttributeProto.INT, i=1)
case("transpose_perm_int", "'perm' has type int, expected ints", "perm given as INT, not INTS",
     model([n], [vi("x", F, [2, 3])], [vi("y", F, None)]))
case("unsqueeze_axis_out_of_range", "axis 9 is out of range for rank 3", "Unsqueeze axis 9",
     with_i64("Unsqueeze", [2, 3], "a", [9]))
case("squeeze_non_one_dim", "axis 1 has size 3, not 1", "Squeeze of a dim of size 3",
     with_i64("Squeeze", [2, 3], "a", [1]))
case("flatten_axis_out_of_range", "'axis': 5 is out of range for rank 2", "Flatten axis 5 of rank 2",
     unary("Flatten", [2, 3], axis=5))
case("softmax_axis_out_of_range", "'axis' -3 is out of range for rank 2", "Softmax axis -3 of rank 2",
     unary("Softmax", [2, 3], axis=-3))
case("split_sizes_mismatch", "split sizes do not add up to axis size 3", "Split sizes 2+2 of a dim of 3",
     model([h.make_node("Split", ["x", "s"], ["y", "z"], name="n0", axis=1)],
           [vi("x", F, [2, 3])], [vi("y", F, None), vi("z", F, None)],
           [init("s", I64, [2], [2, 2])]))
case("pad_negative_beyond_size", "pads crop more than axis 0's size 3", "Pad removing 5 of 3 elements",
     with_i64("Pad", [3], "p", [-5, 0]))
case("expand_incompatible", "shapes [2,3] and [4,4] do not broadcast", "Expand [2,3] to [4,4]",
     with_i64("Expand", [2, 3], "s", [4, 4]))
case("tile_repeats_negative", "'repeats': value -1 for axis 0 is invalid", "Tile repeats -1",
     with_i64("Tile", [2, 3], "r", [-1, 1]))
case("reducesum_axis_out_of_range", "axes entry 7 is out of range for rank 2", "ReduceSum axis 7 of rank 2",
     with_i64("ReduceSum", [2, 3], "a", [7]))
case("argmax_axis_out_of_range", "'axis' 2 is out of range for rank 2", "ArgMax axis 2 of rank 2",
     unary("ArgMax", [2, 3], axis=2))
case("cast_to_invalid_dtype", "'to': data type 99 is not supported", "Cast to data type 99",
     unary("Cast", [2, 3], to=99))
case("resize_scales_zero", "scale 0 for axis 2 must be > 0", "Resize scales of 0",
     unary("Resize", [1, 1, 2, 2], None, [init("r", F, [0], []), init("sc", F, [4], [1, 1, 0, 0])],
           ["r", "sc"]))
# ONNX's "" omits an optional output; output 0 of every op we run is required
# (fuzz_model: Resize, MatMul and the global pools read output 0 unchecked).
sc = init("sc", F, [4], [1, 1, 2, 2])
case("resize_output0_empty", "node 'n0' (Resize): output 0 is missing", "Resize(x, scales) -> ('', y)",
     model([h.make_node("Resize", ["x", "", "sc"], ["", "y"], name="n0")],
           [vi("x", F, [1, 1, 2, 2])], [vi("y", F, None)], [sc]))
case("matmul_output0_empty_const", "node 'n0' (MatMul): output 0 is missing",
     "MatMul of two initializers -> ('', y): the constant-folding path",
     model([h.make_node("MatMul", ["w", "w"], ["", "y"], name="n0")], [], [vi("y", F, None)],
           [init_f("w", [2, 2])]))
case("globalavgpool_output0_empty", "node 'n0' (GlobalAveragePool): output 0 is missing",
     "GlobalAveragePool(x) -> ('', y)",
     model([h.make_node("GlobalAveragePool", ["x"], ["", "y"], name="n0")],
           [vi("x", F, [1, 2, 3, 3])], [vi("y", F, None)]))
n = h.make_node("Range", ["a", "b", "d"], ["y"], name="n0")
case("range_delta_zero", "input 'delta' is 0", "Range with delta 0 never ends",
     model([n], [], [vi("y", F, None)],
           [init("a", F, [], [0.0]), init("b", F, [], [10.0]), init("d", F, [], [0.0])]))
case("einsum_bad_equation", "output label 'q' is not in any input", "Einsum equation with a label missing on one side",
     model([h.make_node("Einsum", ["x", "w"], ["y"], name="n0", equation="ij,jk->iq")],
           [vi("x", F, [2, 3])], [vi("y", F, None)], [init_f("w", [3, 4])]))

# --- arithmetic shape mismatches -------------------------------------------------
case("matmul_inner_mismatch", "A has K = 3, B has K = 4", "[2,3] x [4,5]",
     unary("MatMul", [2, 3], None, [init_f("w", [4, 5])], ["w"]))
case("gemm_inner_mismatch", "A gives K = 3, B gives K = 4", "Gemm [2,3] x [4,5]",
     unary("Gemm", [2, 3], None, [init_f("w", [4, 5])], ["w"]))
case("add_broadcast_mismatch", "shapes [2,3] and [4] do not broadcast", "[2,3] + [4]",
     unary("Add", [2, 3], None, [init_f("w", [4])], ["w"]))
case("where_broadcast_mismatch", "shapes [2] and [3] do not broadcast", "Where of [2], [3], [4]",
     model([h.make_node("Where", ["c", "x", "w"], ["y"], name="n0")],
           [vi("x", F, [3])], [vi("y", F, None)],
           [init("c", TP.BOOL, [2], [True, False]), init_f("w", [4])]))

# --- graph wiring ----------------------------------------------------------------
n = h.make_node("Relu", ["x"], ["y"], name="n0")
case("duplicated_outputs", "graph output 'y' is listed twice", "graph output 'y' listed twice",
     model([n], [vi("x", F, [2])], [vi("y", F, [2]), vi("y", F, [2])]))
case("two_producers", "output 'y' is already produced by a", "two nodes write 'y'",
     model([h.make_node("Relu", ["x"], ["y"], name="a"),
            h.make_node("Neg", ["x"], ["y"], name="b")],
           [vi("x", F, [2])], [vi("y", F, [2])]))
case("node_consumes_own_output", "is part of a cycle", "Add reads the 'y' it writes",
     model([h.make_node("Add", ["x", "y"], ["y"], name="n0")],
           [vi("x", F, [2])], [vi("y", F, [2])]))
case("node_output_twice", "output 'y' is already produced by n0", "a node listing 'y' twice among its outputs",
     model([h.make_node("Split", ["x"], ["y", "y"], name="n0", axis=0)],
           [vi("x", F, [2])], [vi("y", F, [1])]))
case("two_node_cycle", "is part of a cycle", "a -> b -> a",
     model([h.make_node("Relu", ["b"], ["a"], name="n0"),
            h.make_node("Add", ["a", "x"], ["b"], name="n1")],
           [vi("x", F, [2])], [vi("b", F, [2])]))
case("input_is_initializer_output", "output 'w' is already produced by an initializer", "a node writes over an initializer",
     model([h.make_node("Relu", ["x"], ["w"], name="n0")],
           [vi("x", F, [2])], [vi("w", F, [2])], [init_f("w", [2])]))
case("unknown_op", "op 'NoSuchOp' of domain 'ai.onnx' is not supported", "an op nobody defines",
     unary("NoSuchOp", [2]))

# --- runtime inputs contradicting the declaration ---------------------------------
relu = h.make_node("Relu", ["x"], ["y"], name="n0")
case("runtime_shape_contradicts", "input 'x': dim 0 is 4, the model declares 2", "input declared [2,3], fed [4,5]",
     model([relu], [vi("x", F, [2, 3])], [vi("y", F, None)]), "shape0=4x5")
case("runtime_rank_contradicts", "given rank 3, the model declares rank 2", "input declared rank 2, fed rank 3",
     model([relu], [vi("x", F, [2, 3])], [vi("y", F, None)]), "shape0=2x3x1")

# --- tensor data -----------------------------------------------------------------
t = h.make_tensor("w", F, [2, 3], [0.0] * 6)
t.raw_data = b"\0" * 20
t.ClearField("float_data")
case("truncated_raw_data", "raw_data has 20 bytes, dims [2,3] float32 need 24", "[2,3] float initializer with 20 of 24 bytes",
     unary("Add", [2, 3], None, [t], ["w"]))
t = h.make_tensor("w", I64, [1], [0])
t.raw_data = b"\0" * 7
t.ClearField("int64_data")
case("raw_data_odd_bytes", "raw_data has 7 bytes, dims [1] int64 need 8", "int64 initializer with 7 bytes",
     unary("Gather", [3, 2], None, [t], ["w"]))
t = onnx.TensorProto(name="w", data_type=F, dims=[2, 3], float_data=[0.0] * 5)
case("float_data_short", "float_data has 5 elements, dims [2,3] float32 need 6", "[2,3] initializer with 5 float_data values",
     unary("Add", [2, 3], None, [t], ["w"]))
t = onnx.TensorProto(name="w", data_type=F, dims=[1 << 40, 1 << 40])
case("huge_dims_overflow", "element count overflows", "initializer [2^40,2^40]: count overflows int64",
     unary("Add", [2], None, [t], ["w"]))
t = onnx.TensorProto(name="w", data_type=F, dims=[0, 1 << 40, 1 << 40])
case("empty_tensor_huge_dims", "element count overflows",
     "initializer [0,2^40,2^40]: no elements, but strides over its dims overflow (fuzz_model)",
     unary("Add", [2], None, [t], ["w"]))
case("constantofshape_overflow", "output 0 is too large", "ConstantOfShape [2^40,2^40,2^40]",
     model([h.make_node("ConstantOfShape", ["s"], ["y"], name="n0")], [], [vi("y", F, None)],
           [init("s", I64, [3], [1 << 40] * 3)]))
case("constantofshape_negative", "'input': dim 1 is -3", "ConstantOfShape with dim -3",
     model([h.make_node("ConstantOfShape", ["s"], ["y"], name="n0")], [], [vi("y", F, None)],
           [init("s", I64, [2], [2, -3])]))
# 25000 x 1000000 float32 = 100 GB
big = [25000, 1000000]
case("model_100gb_constantofshape", "max_memory_bytes", "ConstantOfShape of 100 GB",
     model([h.make_node("ConstantOfShape", ["s"], ["y"], name="n0")], [], [vi("y", F, None)],
           [init("s", I64, [2], big)]))
case("model_100gb_expand", "max_memory_bytes", "Expand of a runtime input to 100 GB",
     with_i64("Expand", [1, 1], "s", big))
case("model_100gb_tile", "max_memory_bytes", "Tile of a runtime input to 100 GB",
     with_i64("Tile", [1, 1], "r", big))

# --- bytes that are not a model ----------------------------------------------------
valid = model([relu], [vi("x", F, [2])], [vi("y", F, [2])]).SerializeToString()
case("truncated_model", "protobuf parse failed", "a valid model cut in half",
     valid[: len(valid) // 2])
case("not_protobuf", "protobuf parse failed", "text, not protobuf", b"this is not an onnx model\n")
case("empty_file", "ir_version is missing", "zero bytes", b"")

with open(os.path.join(OUT, "MANIFEST"), "w") as f:
    f.write("# name\texpected error substring\treason\t[feed options]; see make_corpus.py\n")
    for name, expect, reason, feed in CASES:
        f.write("\t".join([name, expect, reason, feed]).rstrip("\t") + "\n")
print(f"{len(CASES)} hostile models in {OUT}")
