#!/usr/bin/env node
'use strict'
// `npm run build:cross`: builds every platform this machine can link into the napi-rs package
// layout, npm/<platform>/cdk-mfa-rs.<platform>.node:
//   linux-x64-gnu, linux-arm64-gnu   zig, glibc floor pinned to 2.17 (`<triple>.2.17`)
//   linux-x64-musl, linux-arm64-musl zig
//   win32-x64-msvc                   x86_64-pc-windows-gnu with Debian's mingw-w64
// The macOS targets cannot be linked here (Apple's SDK); the release workflow builds them.
// Tools (zig, cargo-zigbuild, mingw-w64, rustup targets) come from `node scripts/setup-cross.js`,
// which this runs first.
//
// Usage: node scripts/build-cross.js [--quick] [--out DIR] [platform ...]
//   --quick   dev profile (no LTO, not stripped): what `npm test` builds and runs under emulation
//   --out     where the <platform>/ folders go (default: npm, or target/cross-quick with --quick)
//   --target-dir DIR   cargo's target directory (default: target)
// Prints each .node's size and, for glibc targets, the highest GLIBC symbol version it needs;
// every build must pass scripts/check-binary.js (release builds: ≤ 8 MiB and stripped, on every
// platform, the mingw win32 build too; gnu builds: glibc floor at most the pin), else the command fails.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { BUILT_HERE, byKey } = require('./platforms')
const { ensureCrossTools, crossEnv } = require('./setup-cross')
const { glibcFloor } = require('./elf')
const { checkBinary } = require('./check-binary')

const ROOT = path.resolve(__dirname, '..')
const NAPI = path.join(ROOT, 'node_modules', '.bin', 'napi')

function log(msg) {
  process.stdout.write(`[build:cross] ${msg}\n`)
}

function parseArgs(argv) {
  const opts = { quick: false, out: null, targetDir: null, keys: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--quick') opts.quick = true
    else if (a === '--out') opts.out = argv[++i]
    else if (a === '--target-dir') opts.targetDir = path.resolve(argv[++i])
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`)
    else opts.keys.push(a)
  }
  opts.out = path.resolve(ROOT, opts.out || (opts.quick ? path.join('target', 'cross-quick') : 'npm'))
  opts.platforms = opts.keys.length ? opts.keys.map(byKey) : BUILT_HERE
  for (const p of opts.platforms) {
    if (p.how === 'check') throw new Error(`${p.key} cannot be linked on this machine (the release workflow builds it)`)
  }
  return opts
}

// One platform: napi build into a scratch folder, then the .node under its napi name into <out>/<key>/.
function buildOne(p, { quick, out, targetDir }) {
  const scratch = fs.mkdtempSync(path.join(ROOT, 'target', `.cross-${p.key}-`))
  const args = ['build', '--platform', '--target', p.triple, '--no-js', '--output-dir', scratch]
  // The typings are napi's, written where they harm nothing (index.d.ts is hand-written).
  args.push('--dts', path.relative(scratch, path.join(ROOT, 'target', 'napi.d.ts')))
  if (p.how === 'zig') args.push('--cross-compile')
  if (targetDir) args.push('--target-dir', targetDir)
  if (!quick) args.push('--release')
  const t0 = Date.now()
  const r = spawnSync(NAPI, args, { cwd: ROOT, env: crossEnv(), stdio: 'inherit' })
  const secs = (Date.now() - t0) / 1000
  try {
    if (r.status !== 0) throw new Error(`napi build for ${p.key} (${p.triple}) exited with ${r.status ?? r.signal}`)
    const built = fs.readdirSync(scratch).filter((f) => f.endsWith('.node'))
    if (built.length !== 1) throw new Error(`napi build for ${p.key} left ${built.length} .node files in ${scratch}`)
    const dir = path.join(out, p.key)
    fs.mkdirSync(dir, { recursive: true })
    const dest = path.join(dir, `cdk-mfa-rs.${p.key}.node`)
    fs.copyFileSync(path.join(scratch, built[0]), dest)
    return { dest, secs }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2))
  const t0 = Date.now()
  // From a fresh clone: node_modules (napi CLI) and the .venv (zig, cargo-zigbuild) first.
  require('./setup').main({ crossTests: false })
  ensureCrossTools({ log: (m) => log(m), need: opts.platforms })
  fs.mkdirSync(path.join(ROOT, 'target'), { recursive: true })
  const rows = []
  let bad = 0
  for (const p of opts.platforms) {
    log(`${p.key}: napi build --target ${p.triple}${opts.quick ? ' (dev profile)' : ' --release'}`)
    const { dest, secs } = buildOne(p, opts)
    const size = fs.statSync(dest).size
    const floor = p.glibc ? glibcFloor(dest) : null
    // The release workflow's checks (8 MiB, stripped, format and CPU, glibc floor); the 8 MiB holds
    // for the mingw win32 build too, though the MSVC one that ships is built by the release workflow.
    const { problems } = checkBinary(dest, { dev: opts.quick })
    bad += problems.length
    rows.push({ key: p.key, size, floor, secs, problems, dest })
    log(`built ${row(rows[rows.length - 1]).trim()}`)
  }
  log(`done in ${((Date.now() - t0) / 1000).toFixed(0)}s`)
  for (const r of rows) process.stdout.write(row(r))
  if (bad) throw new Error(`${bad} problem(s) above`)
}

function row(r) {
  const glibc = r.floor ? `  glibc >= ${r.floor}` : ''
  const mib = (r.size / 1024 / 1024).toFixed(2)
  const fail = r.problems.length ? `  FAIL: ${r.problems.join(', ')}` : ''
  return `  ${r.key.padEnd(17)} ${String(r.size).padStart(9)} bytes (${mib} MiB)${glibc}  ${r.secs.toFixed(0)}s  ${path.relative(ROOT, r.dest)}${fail}\n`
}

if (require.main === module) {
  try {
    main()
  } catch (e) {
    process.stderr.write(`[build:cross] FAILED: ${e.message}\n`)
    process.exit(1)
  }
}
