'use strict'
// A private X display (Xvfb) and a person in front of it (xdotool): finds the MFA dialog by its
// window title, types the answers one dialog at a time, and counts the dialogs.
//
//   const desk = await startDesktop()                 // { display: ':5', env: { DISPLAY }, stop() }
//   const person = desk.answer(['000000', '123456'], { screenshot: 'target/test-artifacts/x.png', screenshotOf: 2 })
//   … run the program with desk.env …
//   const seen = await person.stop()   // { dialogs, answered, argv: [[...]], screenshots: [...] }
//
// An answer is a code (typed, then Enter), 'cancel' (Escape) or 'leave' (left open).
// Debian packages: xvfb, xdotool, imagemagick (import); scripts/setup.js installs them.
const { spawn, execFile } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { onPath } = require('../../scripts/apt')

const TITLE = 'cdk-mfa-rs: MFA code'
const PROGRAMS = ['Xvfb', 'xdotool', 'import']

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))


/** The programs this helper needs that are missing (empty on a prepared Linux machine). */
function missingPrograms() {
  return PROGRAMS.filter((p) => !onPath(p))
}

function run(cmd, args, env, timeoutMs = 10000) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) })
    })
  })
}

/** Start Xvfb on a display number it picks itself (-displayfd: no clash with other runs);
 * -noreset: no server reset when the last client (an xdotool call) leaves, which would refuse
 * a dialog connecting at that moment. */
async function startDesktop() {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  })
  let log = ''
  xvfb.stderr.on('data', (d) => (log += d))
  const number = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start within 15 s: ${log}`)), 15000)
    xvfb.stdio[3].on('data', (d) => {
      out += d
      if (out.includes('\n')) {
        clearTimeout(timer)
        resolve(out.trim())
      }
    })
    xvfb.on('exit', (code) => reject(new Error(`Xvfb exited with ${code}: ${log}`)))
  })
  const display = `:${number}`
  const env = { PATH: process.env.PATH, DISPLAY: display, HOME: process.env.HOME || '/tmp' }
  return {
    display,
    env: { DISPLAY: display },
    answer: (answers, opts) => answerDialogs(env, answers, opts),
    stop: async () => {
      xvfb.kill('SIGTERM')
      await new Promise((r) => (xvfb.exitCode !== null ? r() : xvfb.on('exit', r)))
    },
  }
}

/** The visible dialog as { wid, pid } (pid: its owner process, new for every dialog), or null. */
async function dialogWindow(env) {
  const r = await run('xdotool', ['search', '--onlyvisible', '--name', `^${TITLE}$`], env)
  const wid = r.stdout.split('\n').filter(Boolean)[0]
  if (!wid) return null
  const p = await run('xdotool', ['getwindowpid', wid], env)
  return { wid, pid: p.stdout.trim() }
}

function argvOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
  } catch {
    return null
  }
}

/**
 * Watch for dialogs until stop(): each one is counted, its owner's argv recorded, one of them
 * (`screenshotOf`, 1-based) photographed with the code typed, then answered with the next answer (none left: cancelled).
 */
function answerDialogs(env, answers, { screenshot, screenshotOf = 1, pollMs = 150 } = {}) {
  const seen = { dialogs: 0, answered: 0, argv: [], screenshots: [] }
  let stopping = false
  const stillOpen = async (d) => (await dialogWindow(env))?.pid === d.pid
  const loop = (async () => {
    while (!stopping) {
      const d = await dialogWindow(env)
      if (!d) {
        await sleep(pollMs)
        continue
      }
      seen.dialogs++
      seen.argv.push(argvOf(d.pid))
      await sleep(300) // let it draw
      const answer = answers[seen.dialogs - 1] ?? 'cancel'
      if (answer !== 'leave') {
        // No window manager: give the dialog the keyboard focus directly.
        await run('xdotool', ['windowfocus', '--sync', d.wid], env)
        if (answer === 'cancel') {
          await run('xdotool', ['key', '--clearmodifiers', 'Escape'], env)
        } else {
          await run('xdotool', ['type', '--delay', '40', answer], env)
          if (screenshot && seen.dialogs === screenshotOf) {
            fs.mkdirSync(path.dirname(screenshot), { recursive: true })
            const r = await run('import', ['-window', 'root', screenshot], env, 20000)
            if (r.code === 0) seen.screenshots.push(screenshot)
          }
          await run('xdotool', ['key', '--clearmodifiers', 'Return'], env)
        }
        seen.answered++
      }
      // Wait until this dialog is gone before looking for the next.
      while (!stopping && (await stillOpen(d))) await sleep(pollMs)
    }
  })()
  return {
    seen,
    /** Whether a dialog is open right now. */
    isOpen: async () => Boolean(await dialogWindow(env)),
    stop: async () => {
      stopping = true
      await loop
      return seen
    },
  }
}

module.exports = { startDesktop, missingPrograms, TITLE }
