'use strict'
// Starts a private moto server (from the project .venv, see scripts/setup.js)
// on 127.0.0.1:<free port>.
//
//   const moto = await startMoto()      // { url, port, stop(), logs() }
//   ... AWS_ENDPOINT_URL = moto.url ...
//   await moto.stop()
//
// The server is killed when the Node process exits, even if stop() is never called.
// Account mapping facts (moto 5.2.5) are documented in helpers/cdk.js.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { freePort, sleep, httpProbe } = require('./ports')

const ROOT = path.resolve(__dirname, '..', '..')
const VENV = path.join(ROOT, '.venv')
const MOTO_SERVER = path.join(VENV, 'bin', 'moto_server')
const VENV_PYTHON = path.join(VENV, 'bin', 'python')

const WATCHDOG = `
import os, sys, threading
def _watch():
    try:
        sys.stdin.buffer.read()
    finally:
        os._exit(0)
threading.Thread(target=_watch, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`

const live = new Set()
let exitHookInstalled = false
function installExitHook() {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL')
      } catch {}
    }
  })
}

function checkVenv() {
  if (!fs.existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} not found: run \`node scripts/setup.js\` (npm test does it) first`)
  }
}

/**
 * @param {{readyTimeoutMs?: number, env?: object}} [opts]
 * @returns {Promise<{url: string, port: number, stop: () => Promise<void>, logs: () => string, pid: number}>}
 */
async function startMoto(opts = {}) {
  checkVenv()
  installExitHook()
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30000
  let lastErr
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    try {
      return await startOn(port, readyTimeoutMs, opts.env)
    } catch (e) {
      lastErr = e // port raced away, or a slow start: try another port
    }
  }
  throw lastErr
}

async function startOn(port, readyTimeoutMs, extraEnv) {
  // Minimal, deterministic environment: no MOTO_ACCOUNT_ID (it would override the
  // access-key → account mapping the E2E tests rely on), no proxies, no AWS creds.
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    PYTHONUNBUFFERED: '1',
    NO_PROXY: '*',
    ...extraEnv,
  }
  // Equivalent to `.venv/bin/moto_server -H 127.0.0.1 -p <port>`, plus a watchdog: the
  // server exits when its stdin pipe closes, i.e. when this Node process dies in any way
  // (even SIGKILL by an ava timeout), so no orphaned moto outlives a test run.
  const child = spawn(VENV_PYTHON, ['-c', WATCHDOG, '-H', '127.0.0.1', '-p', String(port)], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  live.add(child)
  let output = ''
  const keep = (d) => {
    output += d
    if (output.length > 200000) output = output.slice(-100000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exited = false
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true
      live.delete(child)
      resolve({ code, signal })
    })
  })
  child.on('error', (e) => {
    output += `spawn error: ${e.message}\n`
  })

  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + readyTimeoutMs
  for (;;) {
    if (exited) throw new Error(`moto_server exited before becoming ready:\n${output.slice(-2000)}`)
    const status = await httpProbe(`${url}/moto-api/`, 500)
    if (status !== null) break
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`moto_server not ready after ${readyTimeoutMs}ms:\n${output.slice(-2000)}`)
    }
    await sleep(100)
  }

  async function stop() {
    if (exited) return
    child.kill('SIGTERM')
    const t = setTimeout(() => child.kill('SIGKILL'), 3000)
    await exitPromise
    clearTimeout(t)
  }

  return { url, port, pid: child.pid, stop, logs: () => output }
}

module.exports = { startMoto, VENV, VENV_PYTHON, MOTO_SERVER }
