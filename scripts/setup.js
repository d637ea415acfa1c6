#!/usr/bin/env node
'use strict'
// Prepares everything the test-suite (and `npm run demo`) needs:
//   1. node_modules, via `npm ci`, when missing or stale vs package-lock.json (never
//      `npm install`: the committed lock is used as is and never rewritten)
//   2. on linux-x64, the official Node 22 and 24 binaries of scripts/node-versions/ (npm ci there)
//   3. a project-local Python venv `.venv/` with scripts/requirements.txt
//      (moto[server], pexpect, awscli v1, ziglang, cargo-zigbuild), re-installed only when the
//      requirements (or the Python interpreter) change.
//   4. on Linux, the Debian packages of the desktop dialog tests (__test__/dialog.test.js):
//      xvfb, zenity, xdotool, imagemagick — apt-get install (as root, else `sudo -n`) when their
//      commands are missing.
//   5. cross-build and emulation tools (scripts/setup-cross.js: apt packages, rustup targets,
//      official Node builds for arm64/Windows, a Wine prefix, musl userlands).
// Idempotent: a second run does no network access and takes well under a second.
//
// `node scripts/setup.js --debian-packages` prints the Debian packages of steps 4 and 5 (the CI
// workflow installs them with sudo before `npm test`) and does nothing else.
//
// Env knobs:
//   PYTHON=/path/to/python3   interpreter used to create the venv (default: python3)
//   CDK_MFA_SKIP_SETUP=1      do nothing (e.g. when a caller already ran it)
//   CDK_MFA_SKIP_CROSS=1      leave out step 5 (the cross tests then fail: they need it)

const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const VENV = path.join(ROOT, '.venv')
const REQS = path.join(__dirname, 'requirements.txt')
const STAMP = path.join(VENV, '.requirements-stamp')
const NODE_VERSIONS_DIR = path.join(__dirname, 'node-versions')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function log(msg) {
  process.stdout.write(`[setup] ${msg}\n`)
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts })
  if (r.error) throw new Error(`${cmd} failed to start: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`)
  return r
}

function readJson(p) {
  try {
    return JSON.parse(fs.readFileSync(p, 'utf8'))
  } catch {
    return undefined
  }
}

// Returns a reason string when node_modules must be (re)installed, else null.
// npm keeps node_modules/.package-lock.json (the "hidden lockfile") in sync with
// what is actually installed; comparing it to package-lock.json is cheap and exact.
function nodeModulesStaleReason(dir = ROOT) {
  const nm = path.join(dir, 'node_modules')
  if (!fs.existsSync(nm)) return 'node_modules missing'
  const lock = readJson(path.join(dir, 'package-lock.json'))
  if (!lock || !lock.packages) return null // nothing to compare against; leave it alone
  const hidden = readJson(path.join(nm, '.package-lock.json'))
  if (!hidden || !hidden.packages) return 'node_modules/.package-lock.json missing'
  for (const [key, want] of Object.entries(lock.packages)) {
    if (key === '' || !key.startsWith('node_modules/')) continue
    const have = hidden.packages[key]
    if (!have) {
      if (want.optional) continue // platform-specific optional deps are skipped by npm
      return `${key} not installed`
    }
    if (want.version && have.version !== want.version) {
      return `${key} is ${have.version}, lock wants ${want.version}`
    }
  }
  // The declared devDependencies must all be present too (package.json edited, no lock update).
  const pkg = readJson(path.join(dir, 'package.json')) || {}
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    if (!fs.existsSync(path.join(nm, name, 'package.json'))) return `${name} not installed`
  }
  return null
}

// `npm ci` only: it installs exactly the committed lock and never writes it. When npm refuses
// the lock (package.json changed without it, or a lock written by a tool that dropped entries),
// stop and say how to fix it rather than letting `npm install` rewrite it behind the user's back.
function npmCi(dir, label, reason) {
  log(`npm ci${label} (${reason}) ...`)
  // npm is npm.cmd on Windows, which Node only starts through a shell (CVE-2024-27980).
  const ci = spawnSync(NPM, ['ci', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' })
  if (ci.status === 0) {
    process.stdout.write(ci.stdout)
    log(`npm ci${label} done`)
    return
  }
  process.stderr.write(`${ci.stdout || ''}${ci.stderr || ''}`)
  const lock = path.relative(ROOT, path.join(dir, 'package-lock.json'))
  throw new Error(
    `npm ci${label} exited with ${ci.status ?? ci.signal}; if it refused ${lock}, run \`npm install\`` +
      `${dir === ROOT ? '' : ` in ${path.relative(ROOT, dir)}`} and commit ${lock} with package.json`,
  )
}

function ensureNodeModules() {
  const reason = nodeModulesStaleReason()
  if (!reason) {
    log('node_modules up to date')
    return
  }
  npmCi(ROOT, '', reason)
}

// Official Node binaries of the other supported majors (scripts/node-versions/package.json),
// which scripts/test.js runs the contract and end-to-end tests under. They exist on npm as
// node-<os>-<arch> packages; only the linux-x64 ones are pinned, the one platform whose CI runs
// the whole suite (the release workflow tests other platforms with actions/setup-node).
function ensureNodeVersions() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    log(`extra Node versions: none for ${process.platform}-${process.arch}`)
    return
  }
  const reason = nodeModulesStaleReason(NODE_VERSIONS_DIR)
  if (!reason) {
    log('extra Node versions up to date')
    return
  }
  npmCi(NODE_VERSIONS_DIR, ' (scripts/node-versions)', reason)
}

/** The pinned Node binaries: [{ name: 'node22', major: 22, bin }] on linux-x64, [] elsewhere. */
function extraNodes() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return []
  const pkg = readJson(path.join(NODE_VERSIONS_DIR, 'package.json')) || {}
  return Object.keys(pkg.dependencies || {}).map((name) => ({
    name,
    major: Number(name.replace(/^node/, '')),
    bin: path.join(NODE_VERSIONS_DIR, 'node_modules', name, 'bin', 'node'),
  }))
}

function pythonCmd() {
  return process.env.PYTHON || 'python3'
}

function pythonVersion(py) {
  const r = spawnSync(py, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8' })
  if (r.status !== 0) return null
  return r.stdout.trim()
}

function ensureVenv() {
  const reqText = fs.readFileSync(REQS, 'utf8')
  const venvPy = path.join(VENV, 'bin', 'python')
  const venvPyVersion = fs.existsSync(venvPy) ? pythonVersion(venvPy) : null
  const want = crypto.createHash('sha256').update(reqText).update(`\npython=${venvPyVersion}\n`).digest('hex')
  let have = null
  try {
    have = fs.readFileSync(STAMP, 'utf8').trim()
  } catch {}
  if (venvPyVersion && have === want && fs.existsSync(path.join(VENV, 'bin', 'moto_server'))) {
    log(`.venv up to date (python ${venvPyVersion})`)
    return
  }

  const py = pythonCmd()
  if (!venvPyVersion) {
    const v = pythonVersion(py)
    if (!v) throw new Error(`no usable Python interpreter (${py}); set PYTHON=/path/to/python3`)
    const [maj, min] = v.split('.').map(Number)
    if (maj < 3 || (maj === 3 && min < 9)) throw new Error(`Python >= 3.9 needed, ${py} is ${v}`)
    if (fs.existsSync(VENV)) {
      log('.venv is broken, recreating')
      fs.rmSync(VENV, { recursive: true, force: true })
    }
    log(`creating .venv with ${py} (${v}) ...`)
    run(py, ['-m', 'venv', VENV])
  }
  log('pip install -r scripts/requirements.txt (takes ~30s cold) ...')
  const env = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' }
  run(venvPy, ['-m', 'pip', 'install', '--quiet', '--no-input', '-r', REQS], { env })
  const finalVersion = pythonVersion(venvPy)
  const stamp = crypto.createHash('sha256').update(reqText).update(`\npython=${finalVersion}\n`).digest('hex')
  fs.writeFileSync(STAMP, stamp + '\n')
  log('.venv ready')
}

// The dialog tests: a private X display, the dialog program, a "person" and a camera.
const DESKTOP_PACKAGES = [
  { pkg: 'xvfb', cmd: 'Xvfb' },
  { pkg: 'zenity', cmd: 'zenity' },
  { pkg: 'xdotool', cmd: 'xdotool' },
  { pkg: 'imagemagick', cmd: 'import' },
]

function ensureDesktopTools() {
  if (process.platform !== 'linux') return
  const { ensureDebianPackages, onPath } = require('./apt')
  ensureDebianPackages(DESKTOP_PACKAGES.map((p) => ({ pkg: p.pkg, present: () => onPath(p.cmd) })), log)
  log('desktop dialog tools present (Xvfb, zenity, xdotool, import)')
}

// `crossTests: false` (build:cross) leaves out what only the cross tests need (test Nodes, Wine prefix).
// `demo`: only what `npm run demo` needs (node_modules, .venv); no test Nodes, desktop tools or
// cross-test userlands (those live under ~/.cache and the demo must leave HOME untouched).
function main({ crossTests = true, demo = false } = {}) {
  if (process.env.CDK_MFA_SKIP_SETUP === '1') {
    log('skipped (CDK_MFA_SKIP_SETUP=1)')
    return
  }
  const t0 = Date.now()
  ensureNodeModules()
  if (demo) {
    ensureVenv()
    log(`done in ${((Date.now() - t0) / 1000).toFixed(1)}s (demo: node_modules and .venv only)`)
    return
  }
  ensureNodeVersions()
  ensureVenv()
  ensureDesktopTools()
  const { crossHost, ensureCrossTools } = require('./setup-cross')
  if (crossHost()) ensureCrossTools({ log, tests: crossTests })
  else log('cross tools: not on this host (Linux x64 only) or CDK_MFA_SKIP_CROSS=1')
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
}

/** Every Debian package `npm test` needs on Linux x64 (`--debian-packages`: for CI to install them up front). */
function debianPackages() {
  return [...DESKTOP_PACKAGES.map((p) => p.pkg), ...require('./setup-cross').debianPackages()]
}

if (require.main === module) {
  if (process.argv.includes('--debian-packages')) {
    process.stdout.write(`${debianPackages().join(' ')}\n`)
    process.exit(0)
  }
  try {
    main()
  } catch (e) {
    process.stderr.write(`[setup] FAILED: ${e.message}\n`)
    process.exit(1)
  }
}

module.exports = { main, nodeModulesStaleReason, extraNodes, debianPackages, VENV, NODE_VERSIONS_DIR }
