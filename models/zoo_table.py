#!/usr/bin/python3
"""Generates README.md's model-zoo table (between <!-- zoo:begin --> and
<!-- zoo:end -->): one row per network of models/zoo.py with its parameter
count (PyTorch), the ops onnxi runs after its graph passes (`onnxi dump
--after-passes --format json` of the opset-13 entry), the zoo test result
over its entries (`onnxi test --json`, the zoo test's tolerances) and, with
--latency, full-resolution latency in onnxi and onnxruntime
(tools/bench_compare.sh, 1 thread by default; slow: run on a quiet machine).

    /usr/bin/python3 models/zoo_table.py [--onnxi BIN] [--zoo DIR]... [--variants]
        [--results FILE] [--latency] [--threads "1"] [--runs N] [--print]

Entries are looked up in every --zoo DIR (default $ONNXI_MODEL_CACHE/zoo);
missing ones are exported into the first (the opset-13 entry of each
network, or with --variants every CI entry, as tests/test_zoo.sh does). The
test results are saved to FIRST_ZOO_DIR/zoo_test.json; --results FILE
reuses such a file (or any `onnxi test --json` output over zoo entries)
instead of running the tests. Without --latency the latency columns show "-".
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
sys.path.insert(0, _HERE)

import zoo  # noqa: E402

TOLERANCES = ["--atol-scale", "1e-4", "--rtol", "1e-3"]  # tests/test_zoo.sh's
BEGIN, END = "<!-- zoo:begin -->", "<!-- zoo:end -->"


def log(msg):
    print("zoo_table.py: " + msg, file=sys.stderr, flush=True)


def networks():
    """Networks with CI entries (the benchmark-only ones are several GB)."""
    return [n for n, spec in zoo.NETWORKS.items() if not spec.benchmark]


def entries_of(net, variants):
    names = [e for e in zoo.entry_names() if zoo.ENTRIES[e].network == net]
    return names if variants else [e for e in names if e == net + "_op13"]


def param_count(net):
    """Parameters of the PyTorch module (weights are irrelevant: default init)."""
    import torch
    import torchvision
    spec = zoo.NETWORKS[net]
    torch.manual_seed(0)
    if spec.tv:
        get = getattr(torchvision.models, "get_model", None)
        model = get(spec.tv, weights=None) if get else getattr(torchvision.models, spec.tv)()
    else:
        model = spec.builder()
    return sum(p.numel() for p in model.parameters())


def params_text(n):
    return "%.1f M" % (n / 1e6) if n >= 1e5 else "%.0f k" % (n / 1e3)


def entry_find(dirs, name):
    for d in dirs:
        if os.path.isfile(os.path.join(d, name, "model.onnx")):
            return os.path.join(d, name)
    return None


def export_missing(dirs, names, full=False):
    missing = [n for n in names if not entry_find(dirs, n)]
    if not missing:
        return
    log("exporting %d entries into %s" % (len(missing), dirs[0]))
    cmd = [sys.executable, os.path.join(_HERE, "export.py"), "--out", dirs[0]] + missing
    if full:
        cmd.insert(2, "--full")
    if subprocess.call(cmd) != 0:
        log("some exports failed (their rows show '-')")


def ops_after_passes(onnxi, entry_dir):
    """Op types of the graph after passes, most frequent first, with counts."""
    out = subprocess.run([onnxi, "dump", "--after-passes", "--format", "json",
                          os.path.join(entry_dir, "model.onnx")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return None
    counts = collections.Counter(n["op_type"] for n in json.loads(out.stdout)["nodes"])
    return ", ".join("%s %d" % (op, c) for op, c in sorted(counts.items(), key=lambda t: (-t[1], t[0])))


def run_tests(onnxi, cases, out_path):
    log("onnxi test over %d entries" % len(cases))
    out = subprocess.run([onnxi, "test", "--json", "--threads", "1"] + TOLERANCES + cases,
                         capture_output=True, text=True)
    try:
        results = json.loads(out.stdout)
    except ValueError:
        sys.exit("zoo_table.py: onnxi test printed no JSON: %s" % out.stderr[-600:])
    with open(out_path, "w") as f:
        json.dump(results, f, indent=1)
    return results


def test_text(statuses, n_entries):
    """'pass' / 'FAIL' over the entries that ran, with how many of the network's ran."""
    if not statuses:
        return "-"
    bad = [s for s in statuses if s != "pass"]
    word = "pass" if not bad else "FAIL (%d)" % len(bad)
    return "%s, %d/%d entries" % (word, len(statuses), n_entries)


def latencies(onnxi, nets, dirs, threads, runs):
    """{net: (onnxi ms, ORT ms)} at full resolution through tools/bench_compare.sh."""
    full_dir = os.path.normpath(os.path.join(dirs[0], "..", "zoo_full"))
    os.makedirs(full_dir, exist_ok=True)
    export_missing([full_dir], [n + "_op13" for n in nets], full=True)
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        models = []
        for net in nets:
            entry = entry_find([full_dir], net + "_op13")
            if entry:  # bench_compare.sh names rows after the file
                os.symlink(os.path.abspath(os.path.join(entry, "model.onnx")),
                           os.path.join(tmp, net + ".onnx"))
                models.append(os.path.join(tmp, net + ".onnx"))
        report = os.path.join(tmp, "bench.md")
        os.environ.setdefault("ONNXI_BINARY", os.path.abspath(onnxi))
        subprocess.call(["bash", os.path.join(ROOT, "tools", "bench_compare.sh"), "--threads",
                         threads, "--runs", str(runs), "--out", report] + models,
                        stdout=sys.stderr)  # its report: the table gets the numbers
        if not os.path.exists(report):
            return result
        for line in open(report):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 4 and cells[0] in nets and cells[1] == threads.split()[0]:
                result[cells[0]] = (cells[2], cells[3])
    return result


def table(args):
    dirs = args.zoo or [os.path.join(os.environ.get("ONNXI_MODEL_CACHE",
                                                    os.path.join(ROOT, "build", "models")), "zoo")]
    os.makedirs(dirs[0], exist_ok=True)
    nets = networks()
    wanted = [e for net in nets for e in entries_of(net, args.variants)]
    export_missing(dirs, wanted)
    if args.results:
        results = json.load(open(args.results))
    else:
        listed = [e for net in nets for e in entries_of(net, True)]
        cases = [entry_find(dirs, e) for e in listed if entry_find(dirs, e)]
        results = run_tests(args.onnxi, cases, os.path.join(dirs[0], "zoo_test.json"))
    status = {c["name"]: c["status"] for c in results.get("cases", [])}
    lat = latencies(args.onnxi, nets, dirs, args.threads, args.runs) if args.latency else {}
    first_threads = args.threads.split()[0]
    rows = [
        "Generated by `models/zoo_table.py` (`onnxi dump --after-passes`, `onnxi test --json` with",
        "the zoo test's tolerances over the entries exported at CI resolution, and with",
        "`--latency` `tools/bench_compare.sh` at full resolution, %s thread(s)). Ops are after"
        % first_threads,
        "onnxi's passes, in the opset-13 entry; '-': not run.",
        "",
        "| network | source | params | full input | ops after passes | zoo test | onnxi ms | ORT ms |",
        "|---|---|---:|---:|---|---|---:|---:|",
    ]
    for net in nets:
        spec = zoo.NETWORKS[net]
        entry = entry_find(dirs, net + "_op13")
        ops = ops_after_passes(args.onnxi, entry) if entry else None
        names = entries_of(net, True)
        ran = [status[e] for e in names if e in status]
        a, b = lat.get(net, ("-", "-"))
        rows.append("| %s | %s | %s | %d | %s | %s | %s | %s |" % (
            net, "torchvision" if spec.tv else "models/", params_text(param_count(net)),
            spec.full_size, ops or "-", test_text(ran, len(names)), a, b))
    return "\n".join(rows) + "\n"


def readme_update(path, body):
    text = open(path).read()
    if BEGIN not in text or END not in text:
        sys.exit("zoo_table.py: %s lacks the %s ... %s markers" % (path, BEGIN, END))
    i, j = text.index(BEGIN) + len(BEGIN), text.index(END)
    with open(path, "w") as f:
        f.write(text[:i] + "\n" + body.strip() + "\n" + text[j:])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onnxi", default=os.environ.get("ONNXI_BINARY",
                                                      os.path.join(ROOT, "build", "onnxi")))
    ap.add_argument("--zoo", action="append", metavar="DIR", help="entry folders (repeatable)")
    ap.add_argument("--variants", action="store_true", help="export every CI entry, not only op13")
    ap.add_argument("--results", metavar="FILE", help="`onnxi test --json` output to use")
    ap.add_argument("--latency", action="store_true", help="measure full-resolution latency")
    ap.add_argument("--threads", default="1", help="bench_compare.sh --threads (first is shown)")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per latency measurement")
    ap.add_argument("--print", action="store_true", help="print the table, leave README.md")
    args = ap.parse_args(argv)
    if not os.access(args.onnxi, os.X_OK):
        ap.error("no onnxi binary at %s (give --onnxi)" % args.onnxi)
    body = table(args)
    if args.print:
        sys.stdout.write(body)
    else:
        readme_update(os.path.join(ROOT, "README.md"), body)
        log("README.md: zoo table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
