'use strict'
// Runs the companion command (`node cli.js …`) as a real process, the way a pipeline does.
const { spawn } = require('node:child_process')
const path = require('node:path')

const CLI = path.resolve(__dirname, '..', '..', 'cli.js')

/** `node cli.js …` as its own session (no controlling terminal), like a pipeline. */
function cli(args, { env, cwd, bin = process.execPath, timeoutMs = 30000 }) {
  const argv = bin === process.execPath ? [CLI, ...args] : args
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - t0 })
    })
  })
}

/** Exit code 1 or 2 and exactly one stderr line `cdk-mfa-rs: …`. */
function failsWithOneLine(t, r, re, code = 1) {
  t.is(r.code, code, r.stdout + r.stderr)
  const lines = r.stderr.split('\n').filter(Boolean)
  t.is(lines.length, 1, r.stderr)
  t.regex(lines[0], /^cdk-mfa-rs: /)
  t.regex(lines[0], re)
}

module.exports = { cli, failsWithOneLine, CLI }
