#!/usr/bin/python3
"""Exports the interpreter's acceptance cases in ONNX's backend-test layout.

    /usr/bin/python3 models/export_interp_cases.py OUT_DIR [--jobs N]
        [--only GLOB]... [--list]

For each torchvision classifier in MODELS and each opset in OPSETS it writes
OUT_DIR/<name>_op<N>/ (fixed batch, one data set) and OUT_DIR/<name>_op<N>_dyn/
(symbolic batch: test_data_set_0 has batch 1, test_data_set_1 batch 2, so one
loaded model sees two input shapes). For the opsets in DYNHW_OPSETS it also
writes OUT_DIR/<name>_op<N>_dynhw/: symbolic batch, height and width, and
data sets of different spatial sizes (SETS_DYNHW).

Weights come from export_torchvision.build_model (seeded; BatchNorm made
non-trivial). Expected outputs are PyTorch's float32 outputs for seeded random
inputs. Each reference is also computed in float64, and a case whose float32
reference itself misses the float64 one by more than REF_NOISE_MAX of the test
tolerance is refused: comparing against it would measure rounding noise.

A case directory appears atomically (built under OUT_DIR/.tmp-*, ignored by
`onnxi test`, then renamed) and holds case.json with the spec it was made from
and the measured reference noise; a case whose spec matches is kept, so
reruns export only what is missing or changed.
"""

import argparse
import contextlib
import fnmatch
import json
import multiprocessing
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import export_torchvision as tv  # noqa: E402

MODELS = (
    "resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    "shufflenet_v2_x1_0", "efficientnet_b0", "resnext50_32x4d", "regnet_y_400mf",
)
# Exported first so the parallel workers finish close together.
HEAVY = ("resnext50_32x4d", "resnet50", "efficientnet_b0", "shufflenet_v2_x1_0")
# Models built with calibrated, unperturbed BatchNorm statistics. With the
# perturbed ones, EfficientNet-B0's activations reach ~7e3 and its 5x5
# depthwise BNs (running_var ~2e-6, gain ~400) amplify float32 rounding:
# PyTorch's own float32 output then misses its float64 output by up to 10x
# the tolerance, on every input size tried (64..336).
UNPERTURBED_STATS = ("efficientnet_b0",)
OPSETS = (11, 13, 17)
DYNHW_OPSETS = (13,)
SIZE = 64  # CI resolution: every model above keeps a >= 2x2 map before its pooling
SEED = 0
# (batch, height = width) of test_data_set_N, in run order.
SETS_FIXED = ((1, SIZE),)
SETS_DYN = ((1, SIZE), (2, SIZE))
SETS_DYNHW = ((1, SIZE), (2, 96), (1, 80))
# The acceptance tolerance (onnxi test --rtol 1e-3 --atol-scale 1e-4) and the
# share of it the float32 reference may use up by itself.
RTOL, ATOL_SCALE = 1e-3, 1e-4
REF_NOISE_MAX = 0.5
# Bump to re-export every case when what a case contains changes.
FORMAT = 1


def case_specs(models=MODELS):
    """Every case as a dict: name, model, opset, kind, sets, ..."""
    specs = []
    for model in models:
        for opset in OPSETS:
            kinds = [("", "fixed", SETS_FIXED), ("_dyn", "dyn", SETS_DYN)]
            if opset in DYNHW_OPSETS:
                kinds.append(("_dynhw", "dynhw", SETS_DYNHW))
            for suffix, kind, sets in kinds:
                specs.append({"name": "%s_op%d%s" % (model, opset, suffix), "model": model,
                              "opset": opset, "kind": kind, "size": SIZE,
                              "sets": [list(s) for s in sets], "seed": SEED,
                              "bn_stats_perturbed": model not in UNPERTURBED_STATS,
                              "format": FORMAT})
    return specs


def case_is_current(out_dir, spec):
    try:
        with open(os.path.join(out_dir, spec["name"], "case.json")) as f:
            return json.load(f).get("spec") == spec
    except (OSError, ValueError, AttributeError):
        return False


@contextlib.contextmanager
def bn_stats_unperturbed():
    """tv.build_model without its running-statistics perturbation step."""
    saved = tv._bn_stats_perturb  # AttributeError here: export_torchvision changed
    tv._bn_stats_perturb = lambda model, gen: None
    try:
        yield
    finally:
        tv._bn_stats_perturb = saved


def case_model_build(name, perturbed):
    if perturbed:
        return tv.build_model(name, SIZE, SEED)
    with bn_stats_unperturbed():
        return tv.build_model(name, SIZE, SEED)


def export_dynamic_hw(model, out, size, opset):
    """Like tv.export_model, with batch, height and width symbolic."""
    import onnx
    import torch
    x = torch.zeros(1, 3, size, size)
    axes = {tv.INPUT_NAME: {0: "batch", 2: "height", 3: "width"}, tv.OUTPUT_NAME: {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(model, x, out, opset_version=opset, input_names=[tv.INPUT_NAME],
                          output_names=[tv.OUTPUT_NAME], dynamic_axes=axes)
    onnx.checker.check_model(out)


def reference_noise(model, model64, x):
    """Share of the tolerance that PyTorch's float32 output uses up against
    its float64 output (same formula as `onnxi test`)."""
    import numpy as np
    import torch
    with torch.no_grad():
        y32 = model(torch.from_numpy(x)).double().numpy()
        y64 = model64(torch.from_numpy(x).double()).numpy()
    tol = ATOL_SCALE * np.abs(y64).max() + RTOL * np.abs(y64)
    return float((np.abs(y32 - y64) / tol).max())


def case_write(model, model64, spec, out_dir):
    """Writes one case under a temporary name, then renames it into place."""
    import numpy as np
    tmp = os.path.join(out_dir, ".tmp-%s-%d" % (spec["name"], os.getpid()))
    final = os.path.join(out_dir, spec["name"])
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        onnx_path = os.path.join(tmp, "model.onnx")
        if spec["kind"] == "dynhw":
            export_dynamic_hw(model, onnx_path, SIZE, spec["opset"])
        else:
            tv.export_model(model, onnx_path, SIZE, spec["opset"],
                            dynamic_batch=spec["kind"] == "dyn")
        noise = []
        for i, (batch, size) in enumerate(spec["sets"]):
            rng = np.random.default_rng([spec["seed"], i])
            x = rng.standard_normal((batch, 3, size, size), dtype=np.float32)
            noise.append(round(reference_noise(model, model64, x), 4))
            if noise[-1] > REF_NOISE_MAX:
                raise ValueError("test_data_set_%d: PyTorch's float32 output uses %.2f of the "
                                 "tolerance against float64 (limit %.2f): ill-conditioned "
                                 "reference" % (i, noise[-1], REF_NOISE_MAX))
            tv.write_reference(model, onnx_path, tmp, [x], set_index=i)
        with open(os.path.join(tmp, "case.json"), "w") as f:
            json.dump({"spec": spec, "reference_noise": noise}, f)
        shutil.rmtree(final, ignore_errors=True)  # an older spec
        try:
            os.rename(tmp, final)
        except OSError:
            if not case_is_current(out_dir, spec):  # else a concurrent exporter won
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def model_cases_export(args):
    """Builds one model and writes its cases; returns (model name,
    [(case, seconds, noise)], [(case, error)])."""
    model_name, specs, out_dir = args
    import copy
    import torch
    torch.set_num_threads(1)  # the pool gives each worker its own core
    done, errors = [], []
    t0 = time.time()
    model = case_model_build(model_name, specs[0]["bn_stats_perturbed"])
    for mod in model.modules():  # in-place activations would clobber the float64 copy's input
        if hasattr(mod, "inplace"):
            mod.inplace = False
    model64 = copy.deepcopy(model).double()
    for spec in specs:
        try:
            case_write(model, model64, spec, out_dir)
            with open(os.path.join(out_dir, spec["name"], "case.json")) as f:
                noise = json.load(f)["reference_noise"]
            done.append((spec["name"], time.time() - t0, noise))
        except Exception as e:  # reported by the parent, which exits non-zero
            errors.append((spec["name"], "%s: %s" % (type(e).__name__, e)))
        t0 = time.time()
    return model_name, done, errors


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="models exported in parallel (default: min(2, cores))")
    ap.add_argument("--only", action="append", metavar="GLOB", help="case names to export")
    ap.add_argument("--list", action="store_true", help="print the case names and exit")
    args = ap.parse_args(argv)

    specs = [s for s in case_specs()
             if not args.only or any(fnmatch.fnmatch(s["name"], g) for g in args.only)]
    if args.list:
        print("\n".join(s["name"] for s in specs))
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    todo = {}
    for s in specs:
        if not case_is_current(args.out_dir, s):
            todo.setdefault(s["model"], []).append(s)
    print("%d cases, %d to export" % (len(specs), sum(len(v) for v in todo.values())), flush=True)
    if not todo:
        return 0
    t0, c0 = time.time(), os.times()
    order = sorted(todo, key=lambda m: HEAVY.index(m) if m in HEAVY else len(HEAVY))
    work = [(m, todo[m], args.out_dir) for m in order]
    failed = 0
    jobs = max(1, min(args.jobs, len(work)))
    pool = multiprocessing.get_context("spawn").Pool(jobs) if jobs > 1 else None
    results = pool.imap_unordered(model_cases_export, work) if pool else map(model_cases_export, work)
    try:
        for model_name, done, errors in results:
            for name, secs, noise in done:
                print("exported %s (%.1f s, reference noise %s)" % (name, secs, noise), flush=True)
            for name, error in errors:
                failed += 1
                print("FAIL export %s: %s" % (name, error), flush=True)
    finally:
        if pool:
            pool.close()
            pool.join()
    c1 = os.times()
    cpu = (c1.user + c1.system + c1.children_user + c1.children_system
           - c0.user - c0.system - c0.children_user - c0.children_system)
    print("export took %.1f s wall, %.1f s cpu, %d jobs" % (time.time() - t0, cpu, jobs),
          flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
