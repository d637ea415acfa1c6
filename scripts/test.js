#!/usr/bin/env node
'use strict'
// `npm test` (after `pretest` = scripts/setup.js):
//   1. build the addon:            napi build --platform            (dev profile, target/)
//   2. Rust unit tests:            cargo test --target-dir target/cargo-test
//                                  (separate dir so it never invalidates the napi build)
//   3. lint:                       cargo fmt --check, cargo clippy -D warnings (SKIP_LINT=1 skips)
//   4. JS tests:                   ava [extra args]
// Every step runs even if an earlier one failed (more signal per CI run);
// the exit code is non-zero if any step failed.
//
// Usage: node scripts/test.js [ava args...]   e.g. node scripts/test.js __test__/sts-stub.test.js
// Env:   SKIP_BUILD=1  SKIP_CARGO_TEST=1  SKIP_AVA=1  to leave a step out (local loops only)

const { spawn } = require('node:child_process')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'node_modules', '.bin')

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

async function main() {
  const avaArgs = process.argv.slice(2)
  const steps = []
  let passed = 0
  let failed = 0
  let skipped = 0

  if (process.env.SKIP_BUILD !== '1') {
    log('napi build --platform (dev profile)')
    const r = await run(path.join(BIN, 'napi'), ['build', '--platform', '--dts', 'target/napi.d.ts'])
    steps.push({ name: 'build', ...r })
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
  // counted as skipped) only where the toolchain lacks the rustfmt/clippy components.
  const haveLint = (await run('cargo', ['clippy', '--version'])).code === 0 && (await run('cargo', ['fmt', '--version'])).code === 0
  if (!haveLint) {
    log('lint skipped: cargo clippy / cargo fmt are not installed')
    skipped++
  }
  if (process.env.SKIP_LINT !== '1' && haveLint) {
    log('cargo fmt --check && cargo clippy --all-targets -- -D warnings')
    const fmt = await run('cargo', ['fmt', '--check'])
    const clippy = await run('cargo', ['clippy', '--all-targets', '--target-dir', path.join('target', 'cargo-test'), '--', '-D', 'warnings'])
    steps.push({ name: 'lint', code: fmt.code || clippy.code, out: fmt.out + clippy.out, secs: fmt.secs + clippy.secs })
    if (fmt.code !== 0 || clippy.code !== 0) failed++
  }

  if (process.env.SKIP_AVA !== '1') {
    log(`ava ${avaArgs.join(' ')}`.trimEnd())
    const r = await run(path.join(BIN, 'ava'), avaArgs, { env: { ...process.env, FORCE_COLOR: '0' } })
    steps.push({ name: 'ava', ...r })
    const p = sumMatches(r.out, /^\s*(\d+) tests? passed/gm)
    const f = sumMatches(r.out, /^\s*(\d+) (?:tests?|uncaught exceptions?|unhandled rejections?) failed/gm) +
      sumMatches(r.out, /^\s*(\d+) (?:uncaught exceptions?|unhandled rejections?)\s*$/gm)
    const s = sumMatches(r.out, /^\s*(\d+) tests? (?:skipped|todo)/gm)
    passed += p
    failed += f
    skipped += s
    if (r.code !== 0 && f === 0) failed++ // e.g. timeout or a crash before the summary
  }

  log('summary')
  for (const s of steps) {
    process.stdout.write(`  ${s.code === 0 ? 'ok  ' : 'FAIL'} ${s.name.padEnd(11)} ${s.secs.toFixed(1)}s\n`)
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
