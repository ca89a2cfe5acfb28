// Times onnxruntime-node's session creation for one model, single-threaded,
// the way tools/compare_load.sh compares it with onnxi's load.
//
//   node tools/ort_load.js MODEL      prints "create_ms: X" and "ort_version: V"
//
// onnxruntime-node comes from ONNXI_NPM_DIR (default build/npm, filled by
// `tools/deps.sh ort`). Only InferenceSession.create is timed: node's start-up
// and loading the runtime library are not part of a model load.
'use strict';

const path = require('path');
const { performance } = require('perf_hooks');

async function main(argv) {
  if (argv.length !== 1) {
    console.error('usage: node tools/ort_load.js MODEL');
    return 2;
  }
  const npmDir = process.env.ONNXI_NPM_DIR || path.join(__dirname, '..', 'build', 'npm');
  const pkgDir = path.join(npmDir, 'node_modules', 'onnxruntime-node');
  const ort = require(pkgDir);
  const version = require(path.join(pkgDir, 'package.json')).version;
  const options = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  };
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(argv[0], options);
  const ms = performance.now() - t0;
  await session.release();
  console.log(`create_ms: ${ms.toFixed(1)}`);
  console.log(`ort_version: ${version}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (rc) => { process.exitCode = rc; },
  (e) => { console.error(`ort_load.js: ${e.message || e}`); process.exitCode = 1; });
