'use strict'
// Run resolve-child.js as a separate process without a controlling terminal (setsid), the way a
// CI pipeline runs the CDK CLI.
const { spawn } = require('node:child_process')
const path = require('node:path')

const CHILD = path.join(__dirname, 'resolve-child.js')

/**
 * @param {{requests: [string, number][], concurrent?: boolean, staggerMs?: number}} spec
 * @param {{env: object, cwd: string, timeoutMs?: number}} opts
 * @returns {Promise<{code: number|null, results: object[], stdout: string, stderr: string, ms: number}>}
 */
function resolveInChild(spec, { env, cwd, timeoutMs = 60000 }) {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify(spec)], { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n[resolveInChild] timed out after ${timeoutMs} ms\n`
      process.kill(-child.pid, 'SIGKILL')
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const results = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
      resolve({ code, results, stdout, stderr, ms: Date.now() - t0 })
    })
  })
}

module.exports = { resolveInChild, CHILD }
