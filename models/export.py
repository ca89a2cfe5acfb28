#!/usr/bin/python3
"""Exports the model zoo (models/zoo.py) in ONNX's backend-test layout.

    /usr/bin/python3 models/export.py --list [--all]
    /usr/bin/python3 models/export.py --out DIR [--full] [--force] [--all] [--jobs N] [NAME...]
    /usr/bin/python3 models/export.py --torchvision (--list | --out DIR ...)

--list prints the entry names, one per line. --out writes, for each NAME (by
default every entry of the CI list), DIR/NAME/model.onnx and
DIR/NAME/test_data_set_0/{input_0,output_0}.pb: PyTorch's output (eval mode,
fixed seed, random weights, BatchNorm/GroupNorm made non-trivial) for a
random input, at the CI resolution or, with --full, the network's own.
Dynamic-batch entries also get test_data_set_1 with a batch of 2.
External-data entries keep their weights in DIR/NAME/model.onnx.data.

Entries already present with the same stamp (options, resolution, sources)
are kept unless --force. --all adds the benchmark-only entries (BiT R152x4,
several GB) to --list and to the default set. A lock on DIR/.export.lock
serializes concurrent runs on one cache; each entry appears atomically.

--torchvision works on every classifier torchvision lists instead of the
zoo (models/tv_classifiers.py: 77 with torch 1.13 and torchvision 0.14),
each entry named after its network, at opset 13.
"""

import argparse
import collections
import copy
import fcntl
import hashlib
import multiprocessing
import os
import shutil
import sys
import time
import warnings

import numpy as np
import onnx
import onnx.numpy_helper
import torch

import export_torchvision as etv
import tv_classifiers
import zoo

SEED = 0
REG = zoo  # the registry being exported: zoo, or tv_classifiers (--torchvision)
_HERE = os.path.dirname(os.path.abspath(__file__))
STAMP_FILE = "zoo_stamp"
OUTPUT_RANGE = (1e-3, 1e6)  # acceptable max |output| of a random-weight net
ERROR_GOOD = 1e-5  # float32 error (see float32_error) that needs no other scheme
ERROR_MAX = 2.5e-5  # a quarter of the zoo test's 1e-4 atol scale


def network_size(net, full):
    return REG.NETWORKS[net].full_size if full else REG.NETWORKS[net].ci_size


def gn_affine_randomize(model, gen):
    """Random GroupNorm scale and shift (export_torchvision does BN's)."""
    for m in model.modules():
        if isinstance(m, torch.nn.GroupNorm) and m.affine:
            n = m.num_channels
            m.weight.data = torch.empty(n).uniform_(0.5, 1.5, generator=gen)
            m.bias.data = torch.empty(n).normal_(0.0, 0.1, generator=gen)


def bn_var_floor(bns, power, var_floor):
    """Keeps each BN's running variance >= var_floor * the mean square of
    its input: a BN on globally pooled features (ResNeSt's split attention)
    sees nearly the same value for every random image and would otherwise
    divide by a near-zero deviation, amplifying rounding errors."""
    for bn, p in zip(bns, power):
        bn.running_var.copy_(torch.maximum(bn.running_var, var_floor * p))


def bn_calibrate_train(model, size, gen, var_floor=0.01):
    """export_torchvision's calibration (training mode, random images), with
    bn_var_floor applied to the result."""
    bns = [m for m in etv._bn_layers(model) if m.track_running_stats]
    sums = [[0.0, 0] for _ in bns]  # per BN: sum of input mean squares, calls

    def power_add(acc):
        def hook(bn, args):
            x = args[0]
            acc[0] = acc[0] + x.pow(2).mean([0] + list(range(2, x.dim())))
            acc[1] += 1
        return hook

    hooks = [bn.register_forward_pre_hook(power_add(acc)) for bn, acc in zip(bns, sums)]
    try:
        etv._bn_calibrate(model, size, gen)
    finally:
        for h in hooks:
            h.remove()
    bn_var_floor(bns, [total / max(calls, 1) for total, calls in sums], var_floor)


# Perturbation of each BN's statistics in the sequential schemes: (mean
# shift in standard deviations, variance factor spread).
_PERTURB = {"sequential": (0.2, 0.3), "sequential-mild": (0.1, 0.15)}


def bn_calibrate_sequential(model, size, gen, scheme, batch=16, var_floor=0.01):
    """Sets every BatchNorm's running statistics, in forward order, from its
    input on a batch of random images with the BatchNorms before it already
    in eval mode, so a deep network's eval-mode activations stay normalized
    (training-mode calibration lets EfficientNet's grow to 1e7). The
    statistics are perturbed at once, before the later layers are
    calibrated, by _PERTURB[scheme], or, for "sequential-then-perturb",
    afterwards by export_torchvision. bn_var_floor applies."""
    shift, spread = _PERTURB.get(scheme, (0.0, 0.0))

    def bn_set(bn, args):
        x = args[0]
        dims = [0] + list(range(2, x.dim()))
        mean, var = x.mean(dims), x.var(dims, unbiased=False)
        var = torch.maximum(var, var_floor * x.pow(2).mean(dims))
        n = bn.num_features
        mean = mean + shift * var.sqrt() * torch.empty(n).normal_(0, 1, generator=gen)
        var = var * torch.empty(n).uniform_(1 - spread, 1 + spread, generator=gen)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)

    hooks = [m.register_forward_pre_hook(bn_set) for m in etv._bn_layers(model)
             if m.track_running_stats]
    model.eval()
    try:
        with torch.no_grad():
            model(torch.randn(batch, 3, size, size, generator=gen))
    finally:
        for h in hooks:
            h.remove()
    if scheme == "sequential-then-perturb":
        etv._bn_stats_perturb(model, gen)


# BN calibration schemes, in the order network_build tries them.
SCHEMES = ["train", "sequential", "sequential-mild", "sequential-then-perturb"]


def network_build_scheme(net, size, scheme):
    """The network with seeded random weights, BN and GN affine parameters
    randomized, and BN statistics from `scheme`: "train" is
    export_torchvision's (calibrated in training mode, then perturbed; for
    our networks with bn_var_floor), the others bn_calibrate_sequential's."""
    spec = REG.NETWORKS[net]
    gen = torch.Generator().manual_seed(SEED + 1)
    if spec.tv:
        model = etv.build_model(spec.tv, size, SEED)  # the "train" scheme
    else:
        torch.manual_seed(SEED)
        model = spec.builder()
        etv._bn_affine_randomize(model, gen)
        gn_affine_randomize(model, gen)
        if scheme == "train":
            bn_calibrate_train(model, size, gen)
            etv._bn_stats_perturb(model, gen)
    if scheme != "train":
        bn_calibrate_sequential(model, size, gen, scheme)
    return model.eval()


def network_build(net, size, check=True):
    """(model, float32 error, scheme). Random networks are easily
    ill-conditioned: in some, float32 rounding alone moves the output by more
    than the test tolerance, and which calibration avoids it depends on the
    network. Unless check is False, the schemes are tried in turn until one
    gives an error below ERROR_GOOD; else the best one is kept."""
    if not check:
        return network_build_scheme(net, size, "train"), None, "train"
    best = None
    for scheme in SCHEMES if REG.NETWORKS[net].has_bn else SCHEMES[:1]:
        model = network_build_scheme(net, size, scheme)
        err = float32_error(model, size)
        if best is None or err < best[1]:
            best = (model, err, scheme)
        if err < ERROR_GOOD:
            break
    return best


def _local_modules(module, found):
    """`module` and the modules of this folder it takes names from."""
    if module.__name__ in found:
        return
    found[module.__name__] = module
    for obj in vars(module).values():
        dep = sys.modules.get(getattr(obj, "__module__", None) or "")
        if dep is not None and os.path.dirname(getattr(dep, "__file__", "") or "") == _HERE:
            _local_modules(dep, found)


def network_digest(net):
    """Hash of what a network's export depends on: torch's version, this
    script, export_torchvision.py and the model definition's files, so a
    changed network is re-exported and the others stay cached."""
    spec = REG.NETWORKS[net]
    found = {}
    _local_modules(etv, found)
    _local_modules(sys.modules[__name__], found)
    if spec.builder:
        func = getattr(spec.builder, "func", spec.builder)  # functools.partial
        _local_modules(sys.modules[func.__module__], found)
    found.pop("zoo", None)  # zoo's options are in the stamp itself
    h = hashlib.sha256(torch.__version__.encode())
    for path in sorted(os.path.abspath(m.__file__) for m in found.values()):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def entry_stamp(name, full):
    """What an entry was exported from: its options, its network's row in
    the zoo (builder aside), the input size and network_digest."""
    e = REG.ENTRIES[name]
    spec = REG.NETWORKS[e.network]._replace(builder=None)
    size = network_size(e.network, full)
    return "%s %r %r size=%d %s\n" % (name, tuple(e), tuple(spec), size, network_digest(e.network))


def entry_cached(out_dir, stamp):
    try:
        with open(os.path.join(out_dir, STAMP_FILE)) as f:
            return f.read() == stamp
    except OSError:
        return False


def external_data_convert(src, dst):
    """Rewrites src as dst with every weight in dst + '.data'."""
    model = onnx.load(src)
    onnx.save_model(model, dst, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=os.path.basename(dst) + ".data", size_threshold=1024)
    onnx.checker.check_model(dst)


def random_input(batch, size):
    rng = np.random.default_rng(SEED)
    return rng.standard_normal((batch, 3, size, size), dtype=np.float32)


def output_check(name, path):
    t = onnx.numpy_helper.to_array(onnx.load_tensor(path))
    peak = float(np.max(np.abs(t))) if np.all(np.isfinite(t)) else float("inf")
    if not OUTPUT_RANGE[0] <= peak <= OUTPUT_RANGE[1]:
        raise RuntimeError("%s: max |output| %g outside [%g, %g]" % (name, peak, *OUTPUT_RANGE))
    return peak


def float32_error(model, size):
    """max |float32 output - float64 output| / max |float64 output| on the
    reference input: how much of a tolerance PyTorch itself needs. The zoo
    test allows 1e-4 of the peak; a network near that is ill-conditioned."""
    x = torch.from_numpy(random_input(1, size))
    with torch.no_grad():
        y32 = model(x).double()
        y64 = copy.deepcopy(model).double()(x.double())
    return float((y32 - y64).abs().max() / y64.abs().max())


def entry_export(model, name, out_dir, size, stamp):
    """Writes the entry into a scratch folder, then renames it into place."""
    e = REG.ENTRIES[name]
    scratch = "%s.tmp-%d" % (out_dir, os.getpid())
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        path = os.path.join(scratch, "model.onnx")
        if e.external:
            raw = os.path.join(scratch, "raw", "model.onnx")
            etv.export_model(model, raw, size, e.opset, e.bn_kept, e.dynamic)
            external_data_convert(raw, path)
            shutil.rmtree(os.path.dirname(raw))
        else:
            etv.export_model(model, path, size, e.opset, e.bn_kept, e.dynamic)
        etv.write_reference(model, path, scratch, [random_input(1, size)])
        if e.dynamic:
            etv.write_reference(model, path, scratch, [random_input(2, size)], set_index=1)
        peak = output_check(name, os.path.join(scratch, "test_data_set_0", "output_0.pb"))
        with open(os.path.join(scratch, STAMP_FILE), "w") as f:
            f.write(stamp)
        shutil.rmtree(out_dir, ignore_errors=True)
        os.rename(scratch, out_dir)
        return peak
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_model_cache = {}


def network_get(net, size):
    """network_build's (model, error, scheme) for the last network asked
    for in this process (one at a time: the large ones take gigabytes).
    Benchmark-only networks skip the float32 check (float64 copies of them
    do not fit in memory)."""
    key = (net, size)
    if key not in _model_cache:
        _model_cache.clear()
        _model_cache[key] = network_build(net, size, check=not REG.NETWORKS[net].benchmark)
    model, err, scheme = _model_cache[key]
    if err is not None and err > ERROR_MAX:
        raise RuntimeError("%s: ill-conditioned: float32 rounding moves the output by %.1e of "
                           "its peak (limit %.1e)" % (net, err, ERROR_MAX))
    return _model_cache[key]


def network_export(job):
    """Exports one network's entries; returns (name, status, seconds, message)
    per entry."""
    net, names, out, full, force = job
    warnings.filterwarnings("ignore", category=UserWarning)
    size = network_size(net, full)
    results = []
    for name in names:
        out_dir = os.path.join(out, name)
        stamp = entry_stamp(name, full)
        if not force and entry_cached(out_dir, stamp):
            results.append((name, "cached", 0.0, ""))
            continue
        t0 = time.monotonic()
        try:
            model, err, scheme = network_get(net, size)
            peak = entry_export(model, name, out_dir, size, stamp)
            msg = "size %d, BN %s, max |output| %.3g" % (size, scheme, peak)
            if err is not None:
                msg += ", float32 error %.1e" % err
            results.append((name, "exported", time.monotonic() - t0, msg))
        except Exception as exc:  # report it and go on with the other entries
            msg = "%s: %s" % (type(exc).__name__, exc)
            results.append((name, "error", time.monotonic() - t0, msg))
    _model_cache.clear()
    return results


def export_all(names, out, full, force, jobs):
    """Exports `names` under `out`, one job per network (built once)."""
    os.makedirs(out, exist_ok=True)
    by_net = collections.OrderedDict()
    for n in names:
        by_net.setdefault(REG.ENTRIES[n].network, []).append(n)
    work = [(net, ns, out, full, force) for net, ns in by_net.items()]
    # The networks with a larger CI size are the slowest: start them first.
    work.sort(key=lambda job: -network_size(job[0], full))
    failed = 0
    with open(os.path.join(out, ".export.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        t0 = time.monotonic()
        pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None
        results = pool.imap_unordered(network_export, work) if pool else map(network_export, work)
        for batch in results:
            for name, status, secs, msg in batch:
                failed += status == "error"
                print("%-8s %-36s %6.1fs %s" % (status, name, secs, msg), file=sys.stderr,
                      flush=True)
        if pool:
            pool.close()
            pool.join()
        print("%d entries, %d failed, %.0fs" % (len(names), failed, time.monotonic() - t0),
              file=sys.stderr)
    return 1 if failed else 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true", help="print the entry names")
    ap.add_argument("--out", metavar="DIR", help="write the entries under DIR")
    ap.add_argument("--full", action="store_true", help="full resolution instead of CI size")
    ap.add_argument("--force", action="store_true", help="re-export cached entries")
    ap.add_argument("--all", action="store_true", help="include benchmark-only entries")
    ap.add_argument("--jobs", type=int, default=1, help="export processes (default 1)")
    ap.add_argument("--torchvision", action="store_true",
                    help="every torchvision classifier instead of the zoo")
    ap.add_argument("names", nargs="*", metavar="NAME")
    args = ap.parse_args(argv)
    global REG
    REG = tv_classifiers if args.torchvision else zoo
    if args.list:
        print("\n".join(REG.entry_names(args.all)))
        return 0
    if not args.out:
        ap.error("give --list or --out DIR")
    unknown = [n for n in args.names if n not in REG.ENTRIES]
    if unknown:
        ap.error("unknown entries: %s (see --list --all)" % " ".join(unknown))
    names = args.names or REG.entry_names(args.all)
    torch.set_num_threads(1 if args.jobs > 1 else torch.get_num_threads())
    return export_all(names, args.out, args.full, args.force, args.jobs)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
