'use strict'
// Run a command inside a pseudo-terminal (pexpect, via helpers/pty_run.py and the
// project .venv), answering prompts like a person at a keyboard.
//
//   const r = await runInPty('node', ['cli.js'], {
//     env, cwd,
//     prompt: /MFA token for \S+ \(profile [^)]+\): /,   // default
//     answers: ['000000', '123456'],    // one per prompt, in order, each followed by Enter
//     timeoutMs: 60000,
//   })
//   r → { exitCode, signal, timedOut, prompts, answered, promptTexts, transcript, error }
//
// The pty is the child's controlling terminal, so code reading /dev/tty gets the answers
// even when its stdin/stdout are redirected. The transcript is the full pty output
// (including the echo of what was typed), with \r\n line ends.

const { spawn } = require('node:child_process')
const path = require('node:path')
const fs = require('node:fs')
const { VENV_PYTHON } = require('./moto')

const PTY_RUN = path.join(__dirname, 'pty_run.py')

function regexToPython(re) {
  if (typeof re === 'string') return re
  if (!(re instanceof RegExp)) throw new TypeError('prompt must be a RegExp or a string')
  const flags = re.flags.includes('i') ? '(?i)' : ''
  return flags + re.source
}

/**
 * @param {string} cmd  program (PATH is searched using env.PATH)
 * @param {string[]} [args]
 * @param {{env?: object, cwd?: string, prompt?: RegExp|string, answers?: string[], timeoutMs?: number,
 *          answerDelayMs?: number, onExtraPrompt?: 'eof'|'wait'|'kill', rows?: number, cols?: number}} [opts]
 * @returns {Promise<{exitCode: number|null, signal: number|null, timedOut: boolean, prompts: number,
 *          answered: number, promptTexts: string[], transcript: string, error: string|null}>}
 */
function runInPty(cmd, args = [], opts = {}) {
  if (!fs.existsSync(VENV_PYTHON)) {
    return Promise.reject(new Error(`${VENV_PYTHON} missing: run \`node scripts/setup.js\` first`))
  }
  const timeoutMs = opts.timeoutMs ?? 60000
  const env = { TERM: 'dumb', ...(opts.env || process.env) }
  const spec = {
    cmd: [cmd, ...args],
    env,
    cwd: opts.cwd || process.cwd(),
    prompt: regexToPython(opts.prompt || /MFA token for \S+ \(profile [^)]+\): /),
    answers: (opts.answers || []).map(String),
    timeout: timeoutMs / 1000,
    answer_delay: (opts.answerDelayMs || 0) / 1000,
    on_extra_prompt: opts.onExtraPrompt || 'eof',
    rows: opts.rows || 40,
    cols: opts.cols || 200,
  }
  return new Promise((resolve, reject) => {
    const py = spawn(VENV_PYTHON, [PTY_RUN], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    py.stdout.on('data', (d) => (out += d))
    py.stderr.on('data', (d) => (err += d))
    // Safety net in case pty_run.py itself wedges: its own timeout + 15 s.
    const guard = setTimeout(() => py.kill('SIGKILL'), timeoutMs + 15000)
    py.on('error', (e) => {
      clearTimeout(guard)
      reject(e)
    })
    py.on('close', (code) => {
      clearTimeout(guard)
      try {
        resolve(JSON.parse(out))
      } catch {
        reject(new Error(`pty_run.py failed (exit ${code}): ${err || out}`))
      }
    })
    py.stdin.end(JSON.stringify(spec))
  })
}

module.exports = { runInPty, PTY_RUN }
