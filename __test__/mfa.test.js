'use strict'
// Issue "MFA, once": one GetSessionToken for every account sharing an MFA device, kept on disk
// across processes, refreshed silently; code sources, validation, strategies, no-terminal failure.
// Every scenario runs in fresh processes (resolve-child.js) against the fault-injecting STS suite.stub.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { stsSuite } = require('./helpers/plugin')
const { resolveInChild, CHILD } = require('./helpers/child')
const { runInPty } = require('./helpers/pty')

const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const ACCOUNTS = ['111111111111', '222222222222', '333333333333']
const BASE_SECRET = 'base-secret-canary-0001'

const suite = stsSuite(test)

/** Three role profiles behind one long-term source profile with one MFA device. */
function mfaWorld({ extraConfig = '', plugin = {}, sourceExtra = '' } = {}) {
  const roles = ACCOUNTS.map(
    (a, i) => `[profile role${i}]\nrole_arn = arn:aws:iam::${a}:role/AdminMFARole\nsource_profile = base\nmfa_serial = ${SERIAL}\n`,
  )
  const w = suite.world({
    config: `[profile base]\nregion = us-east-1\n${sourceExtra}\n${roles.join('')}${extraConfig}`,
    credentials: `[base]\naws_access_key_id = AKIABASEKEY000000001\naws_secret_access_key = ${BASE_SECRET}\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: Object.fromEntries(ACCOUNTS.map((a, i) => [a, `role${i}`])), ...plugin } },
  })
  return w
}

const envFor = suite.env

const ALL = ACCOUNTS.flatMap((a) => [[a, 0], [a, 1]])
const count = (action, pred = () => true) => suite.stub.calls.filter((c) => c.action === action && pred(c)).length

function allOk(t, r) {
  t.is(r.code, 0, r.stderr)
  for (const x of r.results) t.falsy(x.error, `${x.account}/${x.mode}: ${x.error}`)
  t.is(r.results.length, ALL.length)
}

test.serial('one GetSessionToken for three accounts × two modes; the next process makes no STS call', async (t) => {
  const w = mfaWorld()
  const first = await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '123456' }), cwd: w.cwd })
  allOk(t, first)
  t.is(count('GetSessionToken'), 1)
  const gst = suite.stub.calls.find((c) => c.action === 'GetSessionToken')
  t.is(gst.serialNumber, SERIAL)
  t.is(gst.tokenCode, '123456')
  t.is(gst.durationSeconds, 43200)
  t.is(gst.accessKeyId, 'AKIABASEKEY000000001')
  const roles = suite.stub.calls.filter((c) => c.action === 'AssumeRole')
  t.is(roles.length, 3)
  for (const r of roles) {
    t.is(r.serialNumber, null, 'no MFA parameters on AssumeRole with the MFA session')
    t.true(r.hasSessionToken)
    t.true(r.durationSeconds === null || r.durationSeconds <= 3600)
  }
  t.is(new Set(first.results.map((r) => r.accessKeyId)).size, 3, 'one key per account')
  for (const r of first.results) t.true(Date.parse(r.expiration) > Date.now())

  // Cache: one MFA session + one entry per role, private, no long-term secret, no code.
  const files = fs.readdirSync(w.cacheDir).filter((f) => f.endsWith('.json')).sort()
  t.is(files.filter((f) => f.startsWith('mfa-session-')).length, 1)
  t.is(files.filter((f) => f.startsWith('role-')).length, 3)
  t.is(fs.statSync(w.cacheDir).mode & 0o777, 0o700)
  for (const f of files) {
    const p = path.join(w.cacheDir, f)
    t.is(fs.statSync(p).mode & 0o777, 0o600, f)
    const text = fs.readFileSync(p, 'utf8')
    t.false(text.includes(BASE_SECRET))
    t.false(text.includes('123456'))
    t.false(text.includes('AKIABASEKEY000000001'))
  }
  // Nothing secret on stderr either.
  t.false(first.stderr.includes(BASE_SECRET))
  t.false(first.stderr.includes('123456'))

  suite.stub.clearCalls()
  const second = await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w), cwd: w.cwd })
  allOk(t, second)
  t.is(suite.stub.calls.length, 0, 'warm run: everything from the disk cache')
  t.deepEqual(second.results.map((r) => r.accessKeyId).sort(), first.results.map((r) => r.accessKeyId).sort())
})

test.serial('mfaSessionDurationSeconds sets the GetSessionToken duration', async (t) => {
  const w = mfaWorld({ plugin: { mfaSessionDurationSeconds: 7200 } })
  const r = await resolveInChild({ requests: [[ACCOUNTS[0], 0]] }, { env: envFor(w, { CDK_MFA_CODE: '222222' }), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.is(suite.stub.calls.find((c) => c.action === 'GetSessionToken').durationSeconds, 7200)
})

test.serial('no terminal and no code source: fails within 2 s naming the serial, CDK_MFA_CODE and mfa_process', async (t) => {
  const w = mfaWorld()
  const r = await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w), cwd: w.cwd, timeoutMs: 20000 })
  t.true(r.ms < 2000 + 1500, `took ${r.ms} ms (process start included)`)
  for (const x of r.results) {
    t.true(x.ms < 2000, `${x.ms} ms`)
    t.regex(x.error, new RegExp(`MFA code for ${SERIAL.replace(/[/]/g, '\\/')} is needed but there is no terminal`))
    t.regex(x.error, /CDK_MFA_CODE/)
    t.regex(x.error, /mfa_process/)
  }
  t.is(suite.stub.calls.length, 0)
  t.deepEqual(fs.readdirSync(w.cacheDir).filter((f) => f.endsWith('.json')), [])
})

test.serial('mfa_process supplies the code; a failing mfa_process says so', async (t) => {
  let w = mfaWorld({ sourceExtra: 'mfa_process = echo 314159' })
  let r = await resolveInChild({ requests: [[ACCOUNTS[1], 1]] }, { env: envFor(w), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.is(suite.stub.calls.find((c) => c.action === 'GetSessionToken').tokenCode, '314159')

  // mfa_process on the role profiles this time (where mfa_serial is).
  w = mfaWorld({ extraConfig: '' })
  fs.appendFileSync(path.join(w.home, '.aws', 'config'), '')
  const cfg = fs.readFileSync(path.join(w.home, '.aws', 'config'), 'utf8').replace(/mfa_serial = (.*)\n/g, 'mfa_serial = $1\nmfa_process = exit 7\n')
  fs.writeFileSync(path.join(w.home, '.aws', 'config'), cfg)
  suite.stub.clearCalls()
  r = await resolveInChild({ requests: [[ACCOUNTS[0], 0]] }, { env: envFor(w), cwd: w.cwd })
  t.regex(r.results[0].error, /mfa_process of profile role0 exited with exit status: 7/)
  t.is(suite.stub.calls.length, 0)
})

test.serial('CDK_MFA_CODE: refused locally unless 6 digits; a rejected code fails without retry', async (t) => {
  const w = mfaWorld()
  let r = await resolveInChild({ requests: [[ACCOUNTS[0], 0]] }, { env: envFor(w, { CDK_MFA_CODE: '12345' }), cwd: w.cwd })
  t.regex(r.results[0].error, /CDK_MFA_CODE is not a 6-digit code/)
  t.is(suite.stub.calls.length, 0)
  r = await resolveInChild({ requests: [[ACCOUNTS[0], 0]] }, { env: envFor(w, { CDK_MFA_CODE: '000000' }), cwd: w.cwd })
  t.regex(r.results[0].error, /STS rejected the MFA code .* wrong or was already used/)
  t.is(count('GetSessionToken'), 1)
  t.false(r.results[0].error.includes('000000'))
})

test.serial('CDK_MFA_CODE serves at most one STS call: a second device needs another source', async (t) => {
  const other = 'arn:aws:iam::999999999999:mfa/other-device'
  const w = mfaWorld({
    extraConfig: `[profile base2]\naws_access_key_id = AKIABASEKEY000000002\naws_secret_access_key = s2\n[profile role9]\nrole_arn = arn:aws:iam::444444444444:role/R\nsource_profile = base2\nmfa_serial = ${other}\n`,
  })
  const cfgFile = path.join(w.cwd, 'cdkmultiprofileplugin.json')
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'))
  cfg.awsProfiles['444444444444'] = 'role9'
  fs.writeFileSync(cfgFile, JSON.stringify(cfg))
  const r = await resolveInChild({ requests: [[ACCOUNTS[0], 0], ['444444444444', 0]] }, { env: envFor(w, { CDK_MFA_CODE: '246810' }), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.regex(r.results[1].error, /MFA code for arn:aws:iam::999999999999:mfa\/other-device is needed but there is no terminal/)
  t.is(count('GetSessionToken'), 1)
})

test.serial('temporary base credentials: MFA goes on AssumeRole (per-role), chained duration capped at 3600', async (t) => {
  const w = suite.world({
    config: `[profile temp]\naws_access_key_id = ASIATEMPKEY000000001\naws_secret_access_key = x\naws_session_token = tok\n[profile r]\nrole_arn = arn:aws:iam::${ACCOUNTS[0]}:role/R\nsource_profile = temp\nmfa_serial = ${SERIAL}\nduration_seconds = 7200\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [ACCOUNTS[0]]: 'r' } } },
  })
  const r = await resolveInChild({ requests: [[ACCOUNTS[0], 0], [ACCOUNTS[0], 1]], concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '135790' }), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.falsy(r.results[1].error)
  t.is(count('GetSessionToken'), 0)
  const roles = suite.stub.calls.filter((c) => c.action === 'AssumeRole')
  t.is(roles.length, 1)
  t.is(roles[0].serialNumber, SERIAL)
  t.is(roles[0].tokenCode, '135790')
  t.is(roles[0].durationSeconds, 3600)
})

test.serial('"mfaStrategy": "per-role" with long-term keys keeps the requested long duration', async (t) => {
  const w = mfaWorld({ plugin: { mfaStrategy: 'per-role' } })
  fs.writeFileSync(
    path.join(w.home, '.aws', 'config'),
    fs.readFileSync(path.join(w.home, '.aws', 'config'), 'utf8').replace(/(role_arn = .*\n)/g, '$1duration_seconds = 14400\n'),
  )
  const r = await resolveInChild({ requests: [[ACCOUNTS[2], 1]] }, { env: envFor(w, { CDK_MFA_CODE: '864200' }), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.is(count('GetSessionToken'), 0)
  const role = suite.stub.calls.find((c) => c.action === 'AssumeRole')
  t.is(role.serialNumber, SERIAL)
  t.is(role.durationSeconds, 14400)
  t.false(role.hasSessionToken)
})

function setExpiry(w, prefix, date) {
  for (const f of fs.readdirSync(w.cacheDir).filter((f) => f.startsWith(prefix) && f.endsWith('.json'))) {
    const p = path.join(w.cacheDir, f)
    const e = JSON.parse(fs.readFileSync(p, 'utf8'))
    e.credentials.expiration = date.toISOString()
    fs.writeFileSync(p, JSON.stringify(e))
  }
}

test.serial('silent refresh: expiring roles are re-assumed from the cached session; an expired session asks again', async (t) => {
  const w = mfaWorld()
  allOk(t, await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '111222' }), cwd: w.cwd }))
  // Roles with 5 minutes left count as expired (margin 10 min); the session is still good.
  setExpiry(w, 'role-', new Date(Date.now() + 5 * 60 * 1000))
  suite.stub.clearCalls()
  const refresh = await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w), cwd: w.cwd })
  allOk(t, refresh)
  t.is(count('GetSessionToken'), 0)
  t.is(count('AssumeRole'), 3)

  // Session expired too: a code is needed again (none available here → clear error).
  setExpiry(w, 'role-', new Date(Date.now() - 1000))
  setExpiry(w, 'mfa-session-', new Date(Date.now() + 60 * 1000))
  suite.stub.clearCalls()
  const expired = await resolveInChild({ requests: [[ACCOUNTS[0], 0]] }, { env: envFor(w), cwd: w.cwd })
  t.regex(expired.results[0].error, /no terminal/)
  const again = await resolveInChild({ requests: [[ACCOUNTS[0], 0]] }, { env: envFor(w, { CDK_MFA_CODE: '333444' }), cwd: w.cwd })
  t.falsy(again.results[0].error)
  t.is(count('GetSessionToken'), 1)
})

test.serial('corrupt or foreign cache entries are ignored with a warning and replaced', async (t) => {
  const w = mfaWorld()
  allOk(t, await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '555666' }), cwd: w.cwd }))
  const session = fs.readdirSync(w.cacheDir).find((f) => f.startsWith('mfa-session-'))
  const role = fs.readdirSync(w.cacheDir).find((f) => f.startsWith('role-'))
  fs.writeFileSync(path.join(w.cacheDir, role), '{"format":"cdk-mfa-rs","version":1,"kind":"ro')
  fs.writeFileSync(path.join(w.cacheDir, session), JSON.stringify({ format: 'cdk-mfa-rs', version: 7 }))
  suite.stub.clearCalls()
  const r = await resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '777888' }), cwd: w.cwd })
  allOk(t, r)
  t.regex(r.stderr, /warning: ignoring cache entry .*truncated or corrupt/)
  t.regex(r.stderr, /warning: ignoring cache entry .*newer cdk-mfa-rs/)
  t.is(count('GetSessionToken'), 1)
  t.is(count('AssumeRole'), 1)
  t.notThrows(() => JSON.parse(fs.readFileSync(path.join(w.cacheDir, role), 'utf8')))
})

test.serial('two processes at once with an empty cache: one GetSessionToken in total', async (t) => {
  const w = mfaWorld()
  suite.stub.setFaults({ latencyMs: 400 })
  const [p1, p2] = await Promise.all([
    resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '909090' }), cwd: w.cwd }),
    resolveInChild({ requests: ALL, concurrent: true }, { env: envFor(w, { CDK_MFA_CODE: '909090' }), cwd: w.cwd }),
  ])
  allOk(t, p1)
  allOk(t, p2)
  t.is(count('GetSessionToken'), 1)
  t.is(count('AssumeRole'), 3)
})

/** The resolve child (`opts`: its requests) in a pseudo-terminal for world `w`, typing `answers` at its prompts. */
const childInPty = (w, opts, answers) =>
  runInPty(process.execPath, [CHILD, JSON.stringify(opts)], { env: envFor(w), cwd: w.cwd, answers })

/** The request lines a child printed in a pty transcript (one JSON object each). */
const childLines = (r) => r.transcript.split(/\r?\n/).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))

test.serial('terminal: a wrong code then the right one → exactly 2 prompts, typed digits never echoed', async (t) => {
  const w = mfaWorld()
  const r = await childInPty(w, { requests: ALL, concurrent: true }, ['000000', '424242'])
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 2, r.transcript)
  t.regex(r.transcript, /\r\nMFA token for arn:aws:iam::999999999999:mfa\/dev-user \(profile role\d\): /)
  t.regex(r.transcript, /STS rejected that code .* \(wrong, or already used\); enter the next code/)
  t.false(r.transcript.includes('424242'), 'input is hidden')
  t.notRegex(r.transcript, /MFA token for \S+ \(profile [^)]+\): [^\r\n]*cdk-mfa-rs/, 'no notice lands on the prompt line')
  t.is(count('GetSessionToken'), 2)
  const lines = childLines(r)
  t.is(lines.length, 6)
  for (const l of lines) t.falsy(l.error)
})

test.serial('terminal: a code that is not 6 digits is refused locally and asked again, no STS call for it', async (t) => {
  const w = mfaWorld()
  const r = await childInPty(w, { requests: [[ACCOUNTS[0], 0]] }, ['12ab', '575757'])
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 2)
  t.regex(r.transcript, /an MFA code is 6 digits; try again/)
  t.is(count('GetSessionToken'), 1)
  t.is(suite.stub.calls.find((c) => c.action === 'GetSessionToken').tokenCode, '575757')
})

test.serial('terminal: requests arriving 60 ms apart share one prompt, and the line above it names them all', async (t) => {
  const w = mfaWorld()
  // The first request reaches the prompt at once; the others join within the gather window.
  const requests = ACCOUNTS.map((a) => [a, 1])
  const r = await childInPty(w, { requests, concurrent: true, staggerMs: 60 }, ['363636'])
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 1, r.transcript)
  const forWhom = (r.transcript.match(/cdk-mfa-rs: the code is for ([^\r\n]*)\r*\nMFA token for /) || [])[1]
  t.is(forWhom, ACCOUNTS.map((a, i) => `account ${a} (profile role${i})`).join(', '), r.transcript)
  t.is(count('GetSessionToken'), 1)
})

test.serial('terminal: three answers that are not codes (one an empty Enter): 3 prompts, then one error for every waiting account, nothing cached', async (t) => {
  const w = mfaWorld()
  // Six requests (3 accounts × 2 modes) wait on the one MFA session: none may ask a fourth time.
  const r = await childInPty(w, { requests: ALL, concurrent: true }, ['12ab', '', '1234567'])
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 3, r.transcript)
  t.regex(r.transcript, /an MFA code is 6 digits; try again \(2 of 3 attempts left\)/)
  t.regex(r.transcript, /an MFA code is 6 digits; try again \(1 of 3 attempts left\)/)
  const lines = childLines(r)
  t.is(lines.length, ALL.length)
  for (const l of lines) {
    t.regex(l.error, new RegExp(`no valid MFA code for ${SERIAL.replace(/[/]/g, '\\/')} after 3 attempts \\(the last was not 6 digits\\); nothing was cached`))
  }
  t.is(suite.stub.calls.length, 0)
  t.deepEqual(fs.readdirSync(w.cacheDir).filter((f) => f.endsWith('.json')), [])
})

test.serial('terminal: rejected, malformed, rejected: 3 attempts in all, 2 STS calls, then one error and no further prompt', async (t) => {
  const w = mfaWorld()
  const r = await childInPty(w, { requests: ALL, concurrent: true }, ['000000', '12ab', '000000'])
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 3, r.transcript)
  t.regex(r.transcript, /STS rejected that code .* enter the next code \(2 of 3 attempts left\)/)
  t.regex(r.transcript, /an MFA code is 6 digits; try again \(1 of 3 attempts left\)/)
  t.is(count('GetSessionToken'), 2)
  const lines = childLines(r)
  t.is(lines.length, ALL.length)
  for (const l of lines) t.regex(l.error, /no valid MFA code for \S+ after 3 attempts \(the last was rejected by STS: wrong, or already used\); nothing was cached/)
  t.deepEqual(fs.readdirSync(w.cacheDir).filter((f) => f.endsWith('.json')), [])
})

test.serial('Ctrl-C at the prompt: the process stops, the terminal is restored, nothing is cached', async (t) => {
  const w = mfaWorld()
  // Three accounts wait on the one MFA session: after Ctrl-C none of them may prompt again.
  // The shell traps SIGINT (the plugin signals the whole process group, as a terminal would).
  const script = `trap 'echo shell-saw-sigint' INT; "${process.execPath}" "${CHILD}" '${JSON.stringify({ requests: ALL, concurrent: true })}'; echo "child-status=$?"; stty -a`
  const r = await runInPty('/bin/sh', ['-c', script], { env: envFor(w), cwd: w.cwd, answers: ['\x03'], onExtraPrompt: 'wait', timeoutMs: 20000 })
  t.is(r.prompts, 1, r.transcript)
  t.false(r.timedOut)
  t.regex(r.transcript, /shell-saw-sigint/, 'SIGINT reached the foreground process group')
  t.regex(r.transcript, /child-status=130/, 'stopped by SIGINT')
  // stty -a after the child: echo and canonical mode are back on.
  t.regex(r.transcript, /(^|\s)echo(\s|$)/m, r.transcript)
  t.regex(r.transcript, /(^|\s)icanon(\s|$)/m)
  t.regex(r.transcript, /(^|\s)isig(\s|$)/m)
  t.deepEqual(fs.readdirSync(w.cacheDir).filter((f) => f.endsWith('.json')), [])
  t.is(suite.stub.calls.length, 0)
})

test.serial('credential_process base: long-term keys → one GetSessionToken; temporary keys → MFA on AssumeRole', async (t) => {
  const proc = (json) => `credential_process = echo '${JSON.stringify(json)}'`
  const role = `[profile r]\nrole_arn = arn:aws:iam::${ACCOUNTS[0]}:role/R\nsource_profile = src\nmfa_serial = ${SERIAL}\n`
  const project = { 'cdkmultiprofileplugin.json': { awsProfiles: { [ACCOUNTS[0]]: 'r' } } }

  let w = suite.world({ config: `[profile src]\n${proc({ Version: 1, AccessKeyId: 'AKIAPROCESSKEY000001', SecretAccessKey: 'p' })}\n${role}`, project })
  let r = await resolveInChild({ requests: [[ACCOUNTS[0], 1]] }, { env: envFor(w, { CDK_MFA_CODE: '202020' }), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.is(count('GetSessionToken'), 1)
  t.is(suite.stub.calls.find((c) => c.action === 'GetSessionToken').accessKeyId, 'AKIAPROCESSKEY000001')
  t.is(suite.stub.calls.find((c) => c.action === 'AssumeRole').serialNumber, null)

  suite.stub.clearCalls()
  const expiration = new Date(Date.now() + 3600 * 1000).toISOString()
  w = suite.world({
    config: `[profile src]\n${proc({ Version: 1, AccessKeyId: 'ASIAPROCESSKEY000001', SecretAccessKey: 'p', SessionToken: 't', Expiration: expiration })}\n${role}`,
    project,
  })
  r = await resolveInChild({ requests: [[ACCOUNTS[0], 1]] }, { env: envFor(w, { CDK_MFA_CODE: '303030' }), cwd: w.cwd })
  t.falsy(r.results[0].error)
  t.is(count('GetSessionToken'), 0)
  const ar = suite.stub.calls.find((c) => c.action === 'AssumeRole')
  t.is(ar.serialNumber, SERIAL)
  t.is(ar.tokenCode, '303030')
  t.is(ar.accessKeyId, 'ASIAPROCESSKEY000001')
})
