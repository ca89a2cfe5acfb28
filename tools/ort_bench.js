// onnxruntime-node's side of tools/bench_compare.sh: the figures of
// `onnxi bench --json`, measured the same way, as one JSON object.
//
//   node tools/ort_bench.js MODEL --inputs DIR [--threads N] [--warmup N]
//                           [--warmup-ms T] [--runs N]
//
// DIR holds one NAME.npy per model input (NAME with anything but
// [A-Za-z0-9_.-] turned into '_'), as `onnxi bench --save-inputs DIR` writes
// them, so both engines run the same data. Session: intraOpNumThreads N,
// interOpNumThreads 1, sequential execution, all graph optimizations, CPU.
// load_ms is InferenceSession.create; first_run_ms the first run; latency over
// --runs runs after --warmup untimed ones (and more until they took
// --warmup-ms, as onnxi bench does). peak_rss_bytes is the process's
// maxRSS (node itself included; baseline_rss_bytes is the figure before the
// model is loaded). onnxruntime-node comes from ONNXI_NPM_DIR (default build/npm).
'use strict';

const fs = require('fs');
const path = require('path');
const { performance } = require('perf_hooks');

const NPY_TYPES = {
  '<f4': ['float32', Float32Array],
  '<f8': ['float64', Float64Array],
  '<i8': ['int64', BigInt64Array],
  '<i4': ['int32', Int32Array],
  '|u1': ['uint8', Uint8Array],
  '|i1': ['int8', Int8Array],
  '|b1': ['bool', Uint8Array],
};

function usage() {
  console.error('usage: node tools/ort_bench.js MODEL --inputs DIR [--threads N] [--warmup N] [--warmup-ms T] [--runs N]');
  return 2;
}

function argsParse(argv) {
  const a = { model: null, inputs: null, threads: 1, warmup: 3, warmupMs: 0, runs: 20 };
  for (let i = 0; i < argv.length; i++) {
    const o = argv[i];
    if (o === '--inputs' || o === '--threads' || o === '--warmup' || o === '--warmup-ms' ||
        o === '--runs') {
      const v = argv[++i];
      if (v === undefined) return null;
      if (o === '--inputs') a.inputs = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < (o.startsWith('--warmup') ? 0 : 1)) return null;
        if (o === '--warmup-ms') a.warmupMs = n;
        else a[o.slice(2)] = n;
      }
    } else if (o.startsWith('-') || a.model) {
      return null;
    } else {
      a.model = o;
    }
  }
  return a.model && a.inputs ? a : null;
}

// Version 1.0-3.0 .npy files, little-endian, C order.
function npyRead(ort, file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shape || order[1] !== 'False') throw new Error(`${file}: unsupported .npy header ${header}`);
  const type = NPY_TYPES[descr[1]];
  if (!type) throw new Error(`${file}: dtype ${descr[1]} not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const count = dims.reduce((x, y) => x * y, 1);
  const bytes = buf.subarray(start + hlen);
  if (bytes.length < count * type[1].BYTES_PER_ELEMENT) throw new Error(`${file}: data is short`);
  // copy into an aligned buffer of its own
  const data = new type[1](count);
  new Uint8Array(data.buffer).set(bytes.subarray(0, count * type[1].BYTES_PER_ELEMENT));
  return new ort.Tensor(type[0], type[0] === 'bool' ? Uint8Array.from(data, (v) => v !== 0) : data, dims);
}

function fileName(name) {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_') + '.npy';
}

function stats(lat) {
  const v = [...lat].sort((x, y) => x - y);
  const n = v.length;
  const median = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  const p90 = v[Math.max(0, Math.ceil(0.9 * n) - 1)];
  const mean = v.reduce((x, y) => x + y, 0) / n;
  return { min: v[0], median, p90, mean, max: v[n - 1] };
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}

async function main(argv) {
  const a = argsParse(argv);
  if (!a) return usage();
  const npmDir = process.env.ONNXI_NPM_DIR || path.join(__dirname, '..', 'build', 'npm');
  const pkgDir = path.join(npmDir, 'node_modules', 'onnxruntime-node');
  const ort = require(pkgDir);
  const version = require(path.join(pkgDir, 'package.json')).version;
  const baseline = process.resourceUsage().maxRSS * 1024;
  const options = {
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  };
  let t0 = performance.now();
  const session = await ort.InferenceSession.create(a.model, options);
  const loadMs = performance.now() - t0;
  const feeds = {};
  for (const name of session.inputNames) feeds[name] = npyRead(ort, path.join(a.inputs, fileName(name)));
  const batch = feeds[session.inputNames[0]].dims.length ? feeds[session.inputNames[0]].dims[0] : 1;
  t0 = performance.now();
  await session.run(feeds);
  const firstMs = performance.now() - t0;
  let warmupDone = 0;
  const w0 = performance.now();
  while (warmupDone < a.warmup || performance.now() - w0 < a.warmupMs) {
    await session.run(feeds);
    warmupDone++;
  }
  const lat = [];
  for (let i = 0; i < a.runs; i++) {
    t0 = performance.now();
    await session.run(feeds);
    lat.push(performance.now() - t0);
  }
  const s = stats(lat);
  const result = {
    engine: 'onnxruntime-node',
    version,
    model: a.model,
    threads: a.threads,
    batch,
    runs: a.runs,
    warmup: warmupDone,
    warmup_ms: a.warmupMs,
    load_ms: round3(loadMs),
    first_run_ms: round3(firstMs),
    latency_ms: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round3(v)])),
    throughput_ips: round3((batch * 1000) / s.median),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
    baseline_rss_bytes: baseline,
  };
  await session.release();
  console.log(JSON.stringify(result, null, 2));
  return 0;
}

main(process.argv.slice(2)).then(
  (rc) => { process.exitCode = rc; },
  (e) => { console.error(`ort_bench.js: ${e.message || e}`); process.exitCode = 1; });
