#!/usr/bin/env node
'use strict'
// Prepares everything the test-suite (and `npm run demo`) needs:
//   1. node_modules, via `npm ci`, when missing or stale vs package-lock.json
//   2. a project-local Python venv `.venv/` with scripts/requirements.txt
//      (moto[server], pexpect, awscli v1), re-installed only when the
//      requirements (or the Python interpreter) change.
// Idempotent: a second run does no network access and takes well under a second.
//
// Env knobs:
//   PYTHON=/path/to/python3   interpreter used to create the venv (default: python3)
//   CDK_MFA_SKIP_SETUP=1      do nothing (e.g. when a caller already ran it)

const { spawnSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const VENV = path.join(ROOT, '.venv')
const REQS = path.join(__dirname, 'requirements.txt')
const STAMP = path.join(VENV, '.requirements-stamp')

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
function nodeModulesStaleReason() {
  const nm = path.join(ROOT, 'node_modules')
  if (!fs.existsSync(nm)) return 'node_modules missing'
  const lock = readJson(path.join(ROOT, 'package-lock.json'))
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
  const pkg = readJson(path.join(ROOT, 'package.json')) || {}
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })) {
    if (!fs.existsSync(path.join(nm, name, 'package.json'))) return `${name} not installed`
  }
  return null
}

function ensureNodeModules() {
  const reason = nodeModulesStaleReason()
  if (!reason) {
    log('node_modules up to date')
    return
  }
  log(`npm ci (${reason}) ...`)
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const ci = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, encoding: 'utf8' })
  if (ci.status === 0) {
    process.stdout.write(ci.stdout)
    log('npm ci done')
    return
  }
  const out = `${ci.stdout || ''}${ci.stderr || ''}`
  if (!/can only install packages when your package\.json and package-lock\.json/.test(out)) {
    process.stderr.write(out)
    throw new Error(`npm ci exited with ${ci.status ?? ci.signal}`)
  }
  // npm 11 writes lock files without the other platforms' optional packages (e.g.
  // @napi-rs/lzma-darwin-x64) and then `npm ci` rejects its own lock file
  // ("Missing: ... from lock file", npm/cli#4828). `npm install` installs the exact
  // locked versions from the same lock file without that check.
  const missing = (out.match(/^npm error Missing: .*$/gm) || []).length
  log(`npm ci refused the lock file (${missing} other-platform optional packages "missing"); using npm install`)
  const before = fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')
  run(npm, ['install', '--no-audit', '--no-fund'])
  const after = fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')
  if (after !== before) log('warning: npm install changed package-lock.json')
  log('npm install done')
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

function main() {
  if (process.env.CDK_MFA_SKIP_SETUP === '1') {
    log('skipped (CDK_MFA_SKIP_SETUP=1)')
    return
  }
  const t0 = Date.now()
  ensureNodeModules()
  ensureVenv()
  log(`done in ${((Date.now() - t0) / 1000).toFixed(1)}s`)
}

if (require.main === module) {
  try {
    main()
  } catch (e) {
    process.stderr.write(`[setup] FAILED: ${e.message}\n`)
    process.exit(1)
  }
}

module.exports = { main, nodeModulesStaleReason, VENV }
