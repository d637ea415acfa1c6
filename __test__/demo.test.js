'use strict'
// `npm run demo` (scripts/demo.js) without a terminal: the MFA code comes from CDK_MFA_CODE, the
// process has no controlling terminal (detached = setsid), as in CI. Checks the figures the demo
// promises: both accounts get their stacks, exactly one GetSessionToken over the whole run, the
// second deploy needs no MFA at all, the cache holds one MFA session + one entry per role, and
// the demo cleans up after itself (moto stopped, throwaway HOME removed, the caller's HOME
// untouched).
const test = require('ava')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const DEMO = path.join(ROOT, 'scripts', 'demo.js')
const TIMEOUT_MS = 150000

function runDemo(env) {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, '--summary-json', env.SUMMARY_FILE], {
      cwd: ROOT,
      env,
      detached: true, // new session: no controlling terminal, /dev/tty cannot be opened
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      out += `\n[demo.test] timed out after ${TIMEOUT_MS} ms\n`
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, out, ms: Date.now() - t0 })
    })
  })
}

const alive = (pid) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('npm run demo, no terminal, CDK_MFA_CODE: one GetSessionToken, both stages deployed, 0 prompts on the second deploy', async (t) => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-demo-test-'))
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }))
  // The caller's HOME, as the demo sees it: must stay empty (the demo uses its own throwaway HOME).
  const callerHome = path.join(scratch, 'home')
  fs.mkdirSync(callerHome)
  const realHome = os.homedir()
  const env = {
    ...process.env,
    HOME: callerHome,
    // Keep a Rust toolchain reachable in case the demo has to build the addon.
    CARGO_HOME: process.env.CARGO_HOME || path.join(realHome, '.cargo'),
    RUSTUP_HOME: process.env.RUSTUP_HOME || path.join(realHome, '.rustup'),
    CDK_MFA_CODE: '123456',
    SUMMARY_FILE: path.join(scratch, 'summary.json'),
  }
  for (const k of ['KEEP_TMP', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'CDK_MFA_RS_DISABLE']) delete env[k]

  const r = await runDemo(env)
  t.log(`demo: exit ${r.code} in ${(r.ms / 1000).toFixed(1)} s`)
  t.is(r.code, 0, r.out.slice(-6000))
  t.regex(r.out, /\[demo\] demo OK/)
  t.regex(r.out, /cdk-mfa-rs: account 111111111111 \(ForWriting\) → profile dev/)
  t.regex(r.out, /cdk-mfa-rs: account 222222222222 \(ForWriting\) → profile prod/)
  t.notRegex(r.out, /MFA token for /, 'no prompt without a terminal')
  t.false(r.out.includes('demo-secret-not-a-real-key'), 'the long-term secret never shows')

  const s = JSON.parse(fs.readFileSync(env.SUMMARY_FILE, 'utf8'))
  t.true(s.ok, JSON.stringify(s.problems))
  t.is(s.mfaCodeSource, 'CDK_MFA_CODE')
  t.is(s.getSessionTokenTotal, 1)
  t.is(s.mfaCodesTotal, 1)
  t.is(s.mfaCodesRejected, 0)
  t.is(s.pluginAssumeRoleTotal, 2, 'one AssumeRole per account for the whole demo')
  t.deepEqual(s.phases.map((p) => p.name), ['bootstrap', 'deploy', 'deploy again'])
  for (const p of s.phases) t.is(p.exitCode, 0, p.command)
  const again = s.phases[2]
  t.is(again.getSessionToken, 0)
  t.is(again.mfaCodes, 0)
  t.is(again.pluginAssumeRole, 0)

  const stacks = (acct) => Object.fromEntries(s.accounts[acct].map((x) => [x.name, x.status]))
  t.deepEqual(stacks('111111111111'), { CDKToolkit: 'CREATE_COMPLETE', dev: 'CREATE_COMPLETE', 'required-resources': 'CREATE_COMPLETE' })
  t.deepEqual(stacks('222222222222'), { CDKToolkit: 'CREATE_COMPLETE', prod: 'CREATE_COMPLETE', 'required-resources': 'CREATE_COMPLETE' })

  const files = s.cacheFiles.map((f) => f.file)
  t.is(files.filter((f) => /^mfa-session-[0-9a-f]+\.json$/.test(f)).length, 1, files.join(' '))
  t.is(files.filter((f) => /^role-[0-9a-f]+\.json$/.test(f)).length, 2, files.join(' '))
  for (const f of s.cacheFiles) t.is(f.mode, '0600', f.file)

  // Cleaned up: moto stopped, throwaway HOME removed, the caller's HOME untouched.
  t.false(alive(s.motoPid), 'moto still running')
  t.true(s.home.startsWith(os.tmpdir()))
  t.false(fs.existsSync(s.home), `${s.home} left behind`)
  t.deepEqual(fs.readdirSync(callerHome), [])
})
