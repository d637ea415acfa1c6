#!/usr/bin/env node
'use strict'
// `npm test` (after `pretest` = scripts/setup.js):
//   1. build the addon:            napi build --platform            (dev profile, target/)
//                                  on Linux x64 with zig, glibc 2.17 as shipped (x86_64-unknown-linux-gnu.2.17)
//   1b. cross builds (quick):      scripts/build-cross.js --quick   (dev profile, target/cross-quick/):
//                                  linux-arm64-gnu, win32-x64-msvc, linux-x64-musl, linux-arm64-musl
//   2. Rust unit tests:            cargo test --target-dir target/cargo-test
//                                  (separate dir so it never invalidates the napi build)
//   3. lint:                       cargo fmt --check, cargo clippy -D warnings (SKIP_LINT=1 skips),
//                                  also for x86_64-pc-windows-gnu, x86_64-apple-darwin, aarch64-apple-darwin
//   4. JS tests:                   ava [extra args]
//   5. other Node majors:          ava NODE_VERSION_FILES under each official Node of
//                                  scripts/node-versions/ that is not the one running this
//                                  (full runs on linux-x64 only: no ava args given)
//   6. clean tree:                 the run created or changed no file git tracks or sees
//                                  (everything it writes is ignored or in a temp dir)
// Every step runs even if an earlier one failed (more signal per CI run);
// the exit code is non-zero if any step failed.
//
// Usage: node scripts/test.js [ava args...]   e.g. node scripts/test.js __test__/sts-stub.test.js
//        node scripts/test.js --portable      (`npm run test:portable`) the part of the suite that
//                                  needs neither Python/moto nor a pty nor Linux: build, cargo
//                                  test, PORTABLE_FILES (the fake-host plugin tests and the
//                                  companion command against the STS stub); the release workflow
//                                  runs it on macOS and Windows
// Env:   SKIP_BUILD=1  SKIP_CROSS_BUILD=1  SKIP_CARGO_TEST=1  SKIP_AVA=1  SKIP_NODE_VERSIONS=1  to
//        leave a step out (local loops only)
//        CDK_MFA_SKIP_CROSS=1   no cross steps (1, 1b, 3's other targets; setup skips the tools too):
//        the tests of the emulated platforms then fail. Cross steps run on Linux x64 hosts only,
//        never in --portable runs. Their cargo target dirs are in the cross cache
//        (scripts/setup-cross.js), so later runs on the same machine reuse the dependencies.

const { spawn, spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { extraNodes } = require('./setup')
const { crossEnv, cacheDir, crossHost } = require('./setup-cross')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'node_modules', '.bin')
// The JS entry points, run with a chosen node (node_modules/.bin holds .cmd shims on Windows).
const AVA = path.join(ROOT, 'node_modules', 'ava', 'entrypoints', 'cli.mjs')
const NAPI = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
// What runs on every platform (see --portable above).
const PORTABLE_FILES = ['__test__/plugin.test.js', '__test__/companion.test.js']
// What runs again under the other Node majors: the contract and one real `cdk deploy`.
const NODE_VERSION_FILES = ['__test__/plugin.test.js', '__test__/e2e-node.test.js']

function log(msg) {
  process.stdout.write(`\n[test] ${msg}\n`)
}

// Runs a command, streaming its output through while keeping a copy for parsing.
function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const child = spawn(cmd, args, { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      process.stdout.write(d)
    })
    child.stderr.on('data', (d) => {
      out += d
      process.stderr.write(d)
    })
    child.on('error', (e) => {
      process.stderr.write(`[test] ${cmd} failed to start: ${e.message}\n`)
      resolve({ code: 127, out, secs: 0 })
    })
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), out, secs: (Date.now() - t0) / 1000 })
    })
  })
}

function sumMatches(text, re) {
  let n = 0
  for (const m of text.matchAll(re)) n += Number(m[1])
  return n
}

// Files git reports (modified, added, untracked; not ignored) with a hash of their content,
// or null outside a git checkout.
function gitDirt() {
  const r = spawnSync('git', ['status', '--porcelain=v1', '-z', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' })
  if (r.status !== 0) return null
  const dirt = new Map()
  for (const entry of r.stdout.split('\0').filter(Boolean)) {
    const file = entry.slice(3)
    let hash = 'gone'
    try {
      hash = crypto.createHash('sha256').update(fs.readFileSync(path.join(ROOT, file))).digest('hex')
    } catch {}
    dirt.set(file, `${entry.slice(0, 2)} ${hash}`)
  }
  return dirt
}

// Counts from ava's closing summary.
function avaCounts(out) {
  const failed =
    sumMatches(out, /^\s*(\d+) (?:tests?|uncaught exceptions?|unhandled rejections?) failed/gm) +
    sumMatches(out, /^\s*(\d+) (?:uncaught exceptions?|unhandled rejections?)\s*$/gm)
  return { passed: sumMatches(out, /^\s*(\d+) tests? passed/gm), failed, skipped: sumMatches(out, /^\s*(\d+) tests? (?:skipped|todo)/gm) }
}

async function main() {
  const portable = process.argv.includes('--portable')
  const avaArgs = portable ? PORTABLE_FILES : process.argv.slice(2)
  const fullRun = !portable && avaArgs.length === 0
  const steps = []
  let passed = 0
  let failed = 0
  let skipped = 0
  const dirtBefore = gitDirt()

  const cross = !portable && crossHost()
  if (process.env.SKIP_BUILD !== '1') {
    // The binary every JS test loads; on Linux x64 built as shipped (zig, glibc 2.17 floor).
    const zig = cross ? ['--target', 'x86_64-unknown-linux-gnu.2.17', '--cross-compile'] : []
    log(`napi build --platform ${zig.join(' ')} (dev profile)`)
    const r = await run(process.execPath, [NAPI, 'build', '--platform', '--dts', path.join('target', 'napi.d.ts'), ...zig], { env: crossEnv() })
    steps.push({ name: 'build', ...r })
    if (r.code !== 0) failed++
  }

  if (cross && process.env.SKIP_CROSS_BUILD !== '1') {
    const targetDir = path.join(cacheDir(), 'target-quick')
    const keys = ['linux-arm64-gnu', 'win32-x64-msvc', 'linux-x64-musl', 'linux-arm64-musl']
    log(`build:cross --quick ${keys.join(' ')} (target dir ${targetDir})`)
    const r = await run(process.execPath, [path.join(__dirname, 'build-cross.js'), '--quick', '--target-dir', targetDir, ...keys])
    steps.push({ name: 'cross build', ...r })
    if (r.code !== 0) failed++
  }

  if (process.env.SKIP_CARGO_TEST !== '1') {
    log('cargo test --target-dir target/cargo-test')
    const r = await run('cargo', ['test', '--target-dir', path.join('target', 'cargo-test')])
    steps.push({ name: 'cargo test', ...r })
    // "test result: ok. 3 passed; 0 failed; 1 ignored; ..."
    const p = sumMatches(r.out, /^test result: \w+\. (\d+) passed;/gm)
    const f = sumMatches(r.out, /^test result: \w+\. \d+ passed; (\d+) failed;/gm)
    passed += p
    failed += f
    skipped += sumMatches(r.out, /^test result: .*?; (\d+) ignored;/gm)
    if (r.code !== 0 && f === 0) failed++ // compile error etc.
  }

  // Formatting and clippy (warnings are errors), in the cargo test target dir; skipped (and
  // counted as skipped) only where the toolchain lacks the rustfmt/clippy components. The
  // portable run leaves lint to the Linux job.
  if (process.env.SKIP_LINT !== '1' && !portable) {
    const haveLint = (await run('cargo', ['clippy', '--version'])).code === 0 && (await run('cargo', ['fmt', '--version'])).code === 0
    if (!haveLint) {
      log('lint skipped: cargo clippy / cargo fmt are not installed')
      skipped++
    } else {
      log('cargo fmt --check && cargo clippy --all-targets -- -D warnings')
      const fmt = await run('cargo', ['fmt', '--check'])
      const clippy = await run('cargo', ['clippy', '--all-targets', '--target-dir', path.join('target', 'cargo-test'), '--', '-D', 'warnings'])
      steps.push({ name: 'lint', code: fmt.code || clippy.code, out: fmt.out + clippy.out, secs: fmt.secs + clippy.secs })
      if (fmt.code !== 0 || clippy.code !== 0) failed++
      if (cross) {
        // The Windows and macOS code paths compile without warnings too (they link only on their
        // own OS). macOS: zig is the C compiler for ring's C code (cargo-zigbuild clippy).
        const lintDir = path.join(cacheDir(), 'target-lint')
        for (const [cmd, target] of [['cargo', 'x86_64-pc-windows-gnu'], ['cargo-zigbuild', 'x86_64-apple-darwin'], ['cargo-zigbuild', 'aarch64-apple-darwin']]) {
          log(`${cmd} clippy --all-targets --target ${target} -- -D warnings`)
          const c = await run(cmd, ['clippy', '--all-targets', '--target', target, '--target-dir', lintDir, '--', '-D', 'warnings'], { env: crossEnv() })
          steps.push({ name: `lint ${target}`, ...c })
          if (c.code !== 0) failed++
        }
      }
    }
  }

  if (process.env.SKIP_AVA !== '1') {
    log(`ava ${avaArgs.join(' ')}`.trimEnd())
    const r = await run(process.execPath, [AVA, ...avaArgs], { env: { ...process.env, FORCE_COLOR: '0' } })
    steps.push({ name: 'ava', ...r })
    const c = avaCounts(r.out)
    passed += c.passed
    failed += c.failed
    skipped += c.skipped
    if (r.code !== 0 && c.failed === 0) failed++ // e.g. timeout or a crash before the summary
  }

  // The same contract and deploy under the other supported Node majors, each with its own node
  // first on PATH so that everything the tests start with `node` (the CDK CLI, the app) runs on it.
  if (process.env.SKIP_NODE_VERSIONS !== '1' && fullRun) {
    for (const n of extraNodes()) {
      const name = `node ${n.major}`
      const version = fs.existsSync(n.bin) ? spawnSync(n.bin, ['--version'], { encoding: 'utf8' }).stdout.trim() : null
      if (!version) {
        log(`${name}: ${n.bin} is missing: run \`npm run setup\``)
        steps.push({ name, code: 1, out: '', secs: 0 })
        failed++
        continue
      }
      if (version === process.version) {
        log(`${name}: ${version} is the Node running the suite above`)
        continue
      }
      log(`${name} (${version}): ava ${NODE_VERSION_FILES.join(' ')}`)
      const env = { ...process.env, FORCE_COLOR: '0', PATH: `${path.dirname(n.bin)}${path.delimiter}${process.env.PATH}` }
      const r = await run(n.bin, [AVA, ...NODE_VERSION_FILES], { env })
      steps.push({ name, ...r })
      const c = avaCounts(r.out)
      passed += c.passed
      failed += c.failed
      skipped += c.skipped
      if (r.code !== 0 && c.failed === 0) failed++
    }
  }

  // Everything a run writes goes to a temp dir or an ignored path (target/, node_modules/,
  // .venv/, ...): a fresh clone must stay clean (.ci/run also checks after the setup).
  const dirtAfter = gitDirt()
  if (dirtBefore && dirtAfter) {
    const changed = [...dirtAfter].filter(([f, v]) => dirtBefore.get(f) !== v).map(([f, v]) => `${v.slice(0, 2)} ${f}`)
    const r = { code: changed.length ? 1 : 0, out: '', secs: 0 }
    if (changed.length) {
      log(`the run created or changed files in the checkout (write them to a temp dir, or ignore them):\n  ${changed.join('\n  ')}`)
      failed++
    }
    steps.push({ name: 'clean tree', ...r })
  }

  log('summary')
  for (const s of steps) {
    process.stdout.write(`  ${s.code === 0 ? 'ok  ' : 'FAIL'} ${s.name.padEnd(30)} ${s.secs.toFixed(1)}s\n`)
  }
  const anyFailed = steps.some((s) => s.code !== 0)
  if (anyFailed && failed === 0) failed = 1
  // Plain closing line understood by CI.
  process.stdout.write(`total: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  process.exit(anyFailed ? 1 : 0)
}

main().catch((e) => {
  process.stderr.write(`[test] ${e.stack || e}\n`)
  process.exit(1)
})
