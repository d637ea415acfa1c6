'use strict'
// Issue 12 (security review): MFA in role chains, secrets and control characters in what we print,
// processes left behind by time-outs, BOMs, skipped profile sections, account/role mismatches.
// Every scenario runs the companion command or the addon in real processes against the STS stub.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { stsSuite, loadSource } = require('./helpers/plugin')
const { cli } = require('./helpers/cli')
const { resolveInChild } = require('./helpers/child')
const { runInPty } = require('./helpers/pty')
const { CLI } = require('./helpers/cli')

const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const A1 = '111111111111'
const A2 = '222222222222'
const ROLE_A = `arn:aws:iam::${A1}:role/RoleA`
const ROLE_B = `arn:aws:iam::${A2}:role/RoleB`
const BASE_KEYS = '[base]\naws_access_key_id = AKIABASEKEY000000001\naws_secret_access_key = base-secret-canary-chain\n'

const suite = stsSuite(test)
const envFor = suite.env

/** `top` (role B, mfa_serial) → `mid` (role A, no MFA) → `base` (long-term keys). */
function chainWorld(strategy) {
  return suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile mid]\nrole_arn = ${ROLE_A}\nsource_profile = base\n` +
      `[profile top]\nrole_arn = ${ROLE_B}\nsource_profile = mid\nmfa_serial = ${SERIAL}\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'mid', [A2]: 'top' }, mfaStrategy: strategy } },
  })
}

const calls = () => suite.stub.calls.map((c) => `${c.action} ${c.roleArn || ''} ${c.serialNumber ? `MFA ${c.serialNumber} ${c.tokenCode}` : 'no MFA'}`.replace('  ', ' '))

for (const strategy of ['auto', 'session', 'per-role']) {
  test.serial(`item 4 (${strategy}): role B of an mfa_serial profile is assumed with MFA, whether role A was cached before or not`, async (t) => {
    // STS side: B refuses a call without MFA, as a trust policy with aws:MultiFactorAuthPresent does.
    suite.stub.setFaults({ mfaRequiredRoles: [ROLE_B] })
    const w = chainWorld(strategy)
    const opts = (extra) => ({ env: envFor(w, extra), cwd: w.cwd })

    // `mid` first: role A without MFA (no code is available, none is needed).
    const mid = await cli(['credential-process', '--profile', 'mid'], opts())
    t.is(mid.code, 0, mid.stderr)
    t.deepEqual(calls(), [`AssumeRole ${ROLE_A} no MFA`])

    // Then `top`: the cached role A may be its caller, but B itself carries the MFA parameters.
    suite.stub.clearCalls()
    const top = await cli(['credential-process', '--profile', 'top'], opts({ CDK_MFA_CODE: '123456' }))
    t.is(top.code, 0, top.stderr)
    t.deepEqual(calls(), [`AssumeRole ${ROLE_B} MFA ${SERIAL} 123456`])
    t.true(suite.stub.calls[0].hasSessionToken, 'B is assumed from role A credentials')

    // A later run reuses the cached B: no STS call, no code needed.
    suite.stub.clearCalls()
    const again = await cli(['credential-process', '--profile', 'top'], opts())
    t.is(again.code, 0, again.stderr)
    t.deepEqual(calls(), [])
    t.is(JSON.parse(again.stdout).AccessKeyId, JSON.parse(top.stdout).AccessKeyId)

    // Other order, fresh cache: `top` first gives the same STS conversation (A plain, B with MFA),
    // and `mid` afterwards reuses that role A, which was assumed without MFA.
    suite.stub.clearCalls()
    suite.stub.usedCodes.clear()
    const fresh = { CDK_MFA_RS_CACHE_DIR: path.join(w.root, 'cache-2') }
    const top2 = await cli(['credential-process', '--profile', 'top'], opts({ ...fresh, CDK_MFA_CODE: '654321' }))
    t.is(top2.code, 0, top2.stderr)
    t.deepEqual(calls(), [`AssumeRole ${ROLE_A} no MFA`, `AssumeRole ${ROLE_B} MFA ${SERIAL} 654321`])
    suite.stub.clearCalls()
    const mid2 = await cli(['credential-process', '--profile', 'mid'], opts(fresh))
    t.is(mid2.code, 0, mid2.stderr)
    t.deepEqual(calls(), [])
  })
}

// ─── item 4b: two MFA devices in one chain ──────────────────────────────────────────────────────

const SERIAL_X = 'arn:aws:iam::999999999999:mfa/device-x'
const SERIAL_Y = 'arn:aws:iam::999999999999:mfa/device-y'

/** `top` (role B, `topLines`) → `mid` (role A, `midLines`) → `base` (long-term keys). */
function twoLevelWorld(strategy, midLines, topLines) {
  return suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile mid]\nrole_arn = ${ROLE_A}\nsource_profile = base\n${midLines.join('\n')}\n` +
      `[profile top]\nrole_arn = ${ROLE_B}\nsource_profile = mid\n${topLines.join('\n')}\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'mid', [A2]: 'top' }, mfaStrategy: strategy } },
  })
}

/** An mfa_process printing `code` that counts its runs in `file`. */
const countingProcess = (file, code) => `mfa_process = echo run >> '${file}'; echo ${code}`
const runs = (file) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0)

for (const strategy of ['auto', 'session', 'per-role']) {
  test.serial(`item 4b (${strategy}): top (device X) → mid (device Y) → keys: each AssumeRole carries its own profile's device, one code each`, async (t) => {
    suite.stub.setFaults({ mfaRequiredRoles: [ROLE_B] })
    const root = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'two-devices-'))
    const [countX, countY] = [path.join(root, 'x'), path.join(root, 'y')]
    const w = twoLevelWorld(
      strategy,
      [`mfa_serial = ${SERIAL_Y}`, countingProcess(countY, '111111')],
      [`mfa_serial = ${SERIAL_X}`, countingProcess(countX, '222222')],
    )
    const opts = { env: envFor(w), cwd: w.cwd }
    const top = await cli(['credential-process', '--profile', 'top'], opts)
    t.is(top.code, 0, top.stderr)
    // Device Y enters under role A (a GetSessionToken session with long-term keys, unless per-role);
    // role B is assumed from role A with device X's own code. Before: B went without X (AccessDenied here).
    const underA = strategy === 'per-role' ? [`AssumeRole ${ROLE_A} MFA ${SERIAL_Y} 111111`] : [`GetSessionToken MFA ${SERIAL_Y} 111111`, `AssumeRole ${ROLE_A} no MFA`]
    t.deepEqual(calls(), [...underA, `AssumeRole ${ROLE_B} MFA ${SERIAL_X} 222222`])
    t.deepEqual([runs(countY), runs(countX)], [1, 1], 'one code per device')

    // Cached: `top` again and `mid` (the same role A, assumed with Y) need no STS call and no code.
    suite.stub.clearCalls()
    for (const profile of ['top', 'mid']) {
      const again = await cli(['credential-process', '--profile', profile], opts)
      t.is(again.code, 0, again.stderr)
    }
    t.deepEqual(calls(), [])
    t.deepEqual([runs(countY), runs(countX)], [1, 1])
  })
}

test.serial('item 4b: the same device declared on top and mid enters once: one code for the chain, and the session serves it', async (t) => {
  for (const strategy of ['auto', 'per-role']) {
    suite.stub.clearCalls()
    suite.stub.usedCodes.clear()
    const root = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'one-device-'))
    const count = path.join(root, 'y')
    const w = twoLevelWorld(strategy, [`mfa_serial = ${SERIAL_Y}`, countingProcess(count, '111111')], [`mfa_serial = ${SERIAL_Y}`])
    const top = await cli(['credential-process', '--profile', 'top'], { env: envFor(w), cwd: w.cwd })
    t.is(top.code, 0, top.stderr)
    const underA = strategy === 'per-role' ? [`AssumeRole ${ROLE_A} MFA ${SERIAL_Y} 111111`] : [`GetSessionToken MFA ${SERIAL_Y} 111111`, `AssumeRole ${ROLE_A} no MFA`]
    t.deepEqual(calls(), [...underA, `AssumeRole ${ROLE_B} no MFA`], strategy)
    t.is(runs(count), 1, strategy)
  }
})

test.serial('item 4b: on a terminal the two codes are asked for one after the other, each prompt naming its device and profile; CDK_MFA_CODE alone cannot serve both (error, doctor); status lists both devices', async (t) => {
  suite.stub.setFaults({ mfaRequiredRoles: [ROLE_B] })
  const w = twoLevelWorld('auto', [`mfa_serial = ${SERIAL_Y}`], [`mfa_serial = ${SERIAL_X}`])
  const r = await runInPty(process.execPath, [CLI, 'credential-process', '--profile', 'top'], {
    env: envFor(w),
    cwd: w.cwd,
    answers: ['333333', '444444'],
    timeoutMs: 40000,
  })
  t.is(r.exitCode, 0, r.transcript)
  t.deepEqual(r.promptTexts, [`MFA token for ${SERIAL_Y} (profile mid): `, `MFA token for ${SERIAL_X} (profile top): `])
  t.deepEqual(calls(), [`GetSessionToken MFA ${SERIAL_Y} 333333`, `AssumeRole ${ROLE_A} no MFA`, `AssumeRole ${ROLE_B} MFA ${SERIAL_X} 444444`])

  // A pipeline with one CDK_MFA_CODE: the first device takes it; the error for the second names
  // its device and profile and says what serves a second code.
  suite.stub.clearCalls()
  const ci = await cli(['credential-process', '--profile', 'top'], {
    env: envFor(w, { CDK_MFA_CODE: '555555', CDK_MFA_RS_CACHE_DIR: path.join(w.root, 'cache-ci') }),
    cwd: w.cwd,
  })
  t.is(ci.code, 1, ci.stderr)
  t.regex(ci.stderr, new RegExp(`an MFA code for ${SERIAL_X} is needed .*CDK_MFA_CODE serves one STS call and went to an earlier one.*add mfa_process = .* to profile top`))
  t.deepEqual(calls(), [`GetSessionToken MFA ${SERIAL_Y} 555555`, `AssumeRole ${ROLE_A} no MFA`])

  // status lists both devices of top's chain; doctor warns that one CDK_MFA_CODE cannot serve X.
  const status = await cli(['status'], { env: envFor(w), cwd: w.cwd })
  t.regex(status.stdout, new RegExp(`\\n${A2} .*RoleB .*  ${SERIAL_Y}, ${SERIAL_X}  `))
  const doctor = await cli(['doctor'], { env: envFor(w, { CDK_MFA_CODE: '555555' }), cwd: w.cwd })
  t.regex(doctor.stdout, new RegExp(`\\| MFA ${SERIAL_Y} \\(from profile mid\\) \\| MFA ${SERIAL_X} \\(from profile top\\) → ${ROLE_A} → ${ROLE_B}`))
  t.regex(doctor.stdout, new RegExp(`WARN  MFA device ${SERIAL_X} \\(profile top\\): CDK_MFA_CODE serves one STS call, which a device below it in the chain takes`))
  t.regex(doctor.stdout, new RegExp(`OK    MFA device ${SERIAL_Y} \\(profile mid\\): code from CDK_MFA_CODE`))
})

// ─── item 5: the mfa_process command line is never printed ─────────────────────────────────────

const SEED = 'JBSWY3DPEHPK3PXPSEEDCANARY'

test.serial('item 5: errors and doctor name the profile and the failure of mfa_process, never its command (a TOTP seed)', async (t) => {
  const cases = [
    [`exit 3 # oathtool --totp -b ${SEED}`, /mfa_process of profile top exited with exit status: 3; fix the command/],
    [`echo not-a-code # oathtool --totp -b ${SEED}`, /mfa_process of profile top did not print a 6-digit code/],
    [`sleep 5 # oathtool --totp -b ${SEED}`, /mfa_process of profile top did not finish within 1 s/],
  ]
  for (const [command, says] of cases) {
    const w = suite.world({
      config: `[profile base]\nregion = us-east-1\n[profile top]\nrole_arn = ${ROLE_B}\nsource_profile = base\nmfa_serial = ${SERIAL}\nmfa_process = ${command}\n`,
      credentials: BASE_KEYS,
      project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A2]: 'top' } } },
    })
    const opts = { env: envFor(w, { CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS: '1' }), cwd: w.cwd }
    for (const args of [['credential-process', '--profile', 'top'], ['login']]) {
      const r = await cli(args, opts)
      t.is(r.code, 1, r.stderr)
      t.regex(r.stderr, says)
      t.false((r.stdout + r.stderr).includes(SEED), r.stderr)
    }
    const doctor = await cli(['doctor'], opts)
    t.regex(doctor.stdout, new RegExp(`MFA device ${SERIAL} \\(profile top\\): code from the mfa_process of profile top`))
    t.false((doctor.stdout + doctor.stderr).includes(SEED), doctor.stdout)
  }
  t.is(suite.stub.calls.length, 0)
})

// ─── item 6: a time-out leaves no process behind ────────────────────────────────────────────────

/** Live processes whose command line contains `marker` (zombies have an empty one). */
function processesWith(marker) {
  const found = []
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(marker)) found.push(`${pid}: ${cmd}`)
    } catch {} // gone meanwhile
  }
  return found
}

/** Zombie children of `ppid` (state Z in /proc/<pid>/stat). */
function zombieChildren(ppid) {
  const found = []
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (state === 'Z' && Number(parent) === ppid) found.push(stat.slice(0, stat.lastIndexOf(')') + 1))
    } catch {}
  }
  return found
}

async function eventually(check, ms = 3000) {
  const end = Date.now() + ms
  let last = check()
  while (last.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50))
    last = check()
  }
  return last
}

test.serial('item 6: after an mfa_process or credential_process time-out, neither the command nor its children remain, and no zombie', async (t) => {
  if (process.platform !== 'linux') return t.pass('reads /proc')
  // Unique durations: the processes of this test, not someone else's sleep.
  const n = `${process.pid}${Date.now() % 1000}`
  const w = suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile proc]\ncredential_process = sleep 173.${n} & sleep 174.${n}\n` +
      `[profile top]\nrole_arn = ${ROLE_B}\nsource_profile = base\nmfa_serial = ${SERIAL}\nmfa_process = sleep 171.${n} & sleep 172.${n}\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'proc', [A2]: 'top' } } },
  })
  // In this (long-lived) Node process, as inside the CDK CLI.
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: suite.stub.url, CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS: '1' })
  const t0 = Date.now()
  await t.throwsAsync(source.getProvider(A1, 0), { message: /credential_process of profile proc gave no credentials within 1 s/ })
  await t.throwsAsync(source.getProvider(A2, 0), { message: /mfa_process of profile top did not finish within 1 s/ })
  t.true(Date.now() - t0 < 5000, `${Date.now() - t0} ms`)
  t.deepEqual(await eventually(() => processesWith(`.${n}`)), [], 'sleep 171-174 are gone')
  t.deepEqual(await eventually(() => zombieChildren(process.pid)), [], 'the killed shells are reaped')
  t.is(suite.stub.calls.length, 0)
})

test.serial('item 6: an mfa_process that asks on the terminal (a password manager unlocking) still can, and our own prompt after it too', async (t) => {
  const SERIAL2 = 'arn:aws:iam::999999999999:mfa/second-device'
  const w = suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile top]\nrole_arn = ${ROLE_A}\nsource_profile = base\nmfa_serial = ${SERIAL}\n` +
      `mfa_process = printf 'Unlock the vault: ' > /dev/tty; read -r answer < /dev/tty; echo "$answer"\n` +
      `[profile second]\nrole_arn = ${ROLE_B}\nsource_profile = base\nmfa_serial = ${SERIAL2}\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'top', [A2]: 'second' } } },
  })
  // `login` asks for both devices: one code through the mfa_process (which reads the terminal in
  // its own process group), one at our own prompt (the terminal must have come back to us).
  const r = await runInPty(process.execPath, [CLI, 'login'], {
    env: envFor(w, { CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS: '20' }),
    cwd: w.cwd,
    prompt: /Unlock the vault: |MFA token for \S+ \(profile [^)]+\): /,
    answers: ['135790', '135790'],
    timeoutMs: 40000,
  })
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 2, r.transcript)
  t.deepEqual(r.promptTexts, ['Unlock the vault: ', `MFA token for ${SERIAL2} (profile second): `], 'the mfa_process first, then our prompt')
  t.deepEqual(calls().filter((c) => c.startsWith('GetSessionToken')).sort(), [
    `GetSessionToken MFA ${SERIAL} 135790`,
    `GetSessionToken MFA ${SERIAL2} 135790`,
  ])
})

// ─── item 8: control characters in names and values reach the terminal as text ─────────────────

test.serial('item 8: OSC 52 and ESC[2K in profile names and config values are escaped in status, notices and errors', async (t) => {
  const OSC52 = 'prod\u001b]52;c;ZXZpbA==\u0007'
  const ERASE = 'gone\u001b[2K\u009b2K'
  const w = suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile ctl]\nrole_arn = arn:aws:iam::333333333333:role/x\u001b[2K\nsource_profile = base\n`,
    credentials: BASE_KEYS,
    project: {
      'cdkmultiprofileplugin.json': {
        awsProfiles: { [A1]: OSC52, [A2]: ERASE, '333333333333': 'ctl' },
        assumeRole: { sourceProfile: 'base', accounts: ['444444444444'], readRoleName: `cdk-${OSC52}` },
      },
    },
  })
  suite.stub.setFaults({ denyRoles: ['arn:aws:iam::333333333333:role/x\u001b[2K'] })
  const env = envFor(w)
  const outputs = []
  const status = await cli(['status'], { env, cwd: w.cwd })
  outputs.push(status.stdout + status.stderr)
  t.regex(status.stdout, /prod\\x1b\]52;c;ZXZpbA==\\x07/)
  t.regex(status.stdout, /role\/x\\x1b\[2K/)
  for (const args of [['credential-process', '--account', A1], ['credential-process', '--account', A2], ['doctor']]) {
    const r = await cli(args, { env, cwd: w.cwd })
    outputs.push(r.stdout + r.stderr)
  }
  t.regex(outputs[1], /AWS profile "prod\\x1b\]52;c;ZXZpbA==\\x07" does not exist/)
  t.regex(outputs[2], /AWS profile "gone\\x1b\[2K\\x9b2K" does not exist/)
  // The plugin: notices on stderr and the errors handed to the CDK CLI.
  const r = await resolveInChild({ requests: [[A1, 0], [A2, 0], ['333333333333', 0], ['444444444444', 0]] }, { env, cwd: w.cwd })
  outputs.push(r.stdout + r.stderr)
  t.regex(r.results[0].error, /AWS profile "prod\\x1b\]52;c;ZXZpbA==\\x07" does not exist/)
  t.regex(r.results[2].error, /AssumeRole into arn:aws:iam::333333333333:role\/x\\x1b\[2K/)
  t.regex(r.stderr, /account 444444444444 \(ForReading\) → role arn:aws:iam::444444444444:role\/cdk-prod\\x1b\]52;c;ZXZpbA==\\x07 via profile base/)
  for (const out of outputs) t.false(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(out), JSON.stringify(out))
})

test.serial('item 8: status --json, credential-process and export --format json stay valid JSON with DEL, C1 and bidi controls in names and keys, printing none raw', async (t) => {
  // serde_json leaves DEL, C1 (CSI \u009b) and bidi overrides raw; the text escape made them `\x9b`: not JSON.
  const NAME = 'a\u009b2K\u007fb\u202ec\u001b]52;c;ZXZpbA==\u0007'
  const w = suite.world({
    config: `[profile base]\nregion = us-east-1\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: NAME, [A2]: 'base' } } },
  })
  const r = await cli(['status', '--json'], { env: envFor(w), cwd: w.cwd })
  t.is(r.code, 0, r.stderr)
  t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(r.stdout), JSON.stringify(r.stdout))
  const strings = []
  JSON.parse(r.stdout, (k, v) => (typeof v === 'string' && strings.push(v), v))
  t.true(strings.some((s) => s.includes(NAME)), 'the name comes back unchanged from the JSON')

  // The same for the JSON we hand to the AWS CLI / SDK: a key from an upstream credential_process.
  const KEY = 'ASIA\u009bUPSTREAM\u202e1'
  // Not under w.root: its name holds "cdk-mfa-rs", which the self-reference check refuses.
  const tool = path.join(fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'upstream-')), 'upstream.json')
  fs.writeFileSync(tool, JSON.stringify({ Version: 1, AccessKeyId: KEY, SecretAccessKey: 's', SessionToken: 't' }))
  fs.appendFileSync(path.join(w.home, '.aws', 'config'), `[profile up]\ncredential_process = cat ${tool}\n`)
  for (const args of [['credential-process', '--profile', 'up'], ['export', '--profile', 'up', '--format', 'json']]) {
    const c = await cli(args, { env: envFor(w), cwd: w.cwd })
    t.is(c.code, 0, c.stderr)
    t.false(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(c.stdout), JSON.stringify(c.stdout))
    t.is(JSON.parse(c.stdout).AccessKeyId, KEY, args.join(' '))
  }
})

test.serial('item 8: a line break in a role or profile name from the JSON config cannot forge output lines in status or doctor', async (t) => {
  const FORGED = 'OK   everything is fine'
  for (const project of [
    { awsProfiles: { [A1]: 'base' }, assumeRole: { sourceProfile: 'base', accounts: [A2], readRoleName: `cdk\n${FORGED}` } },
    { awsProfiles: { [A1]: { read: `base\r\n${FORGED}`, write: 'base' } } },
    { awsProfiles: { [A1]: `base\n${FORGED}` } },
  ]) {
    const w = suite.world({ config: `[profile base]\nregion = us-east-1\n`, credentials: BASE_KEYS, project: { 'cdkmultiprofileplugin.json': project } })
    for (const args of [['status'], ['doctor'], ['status', '--json']]) {
      const r = await cli(args, { env: envFor(w), cwd: w.cwd })
      const lines = (r.stdout + r.stderr).split('\n')
      t.false(lines.some((l) => l.startsWith(FORGED)), `${args.join(' ')}: ${r.stdout}${r.stderr}`)
      t.regex(r.stdout + r.stderr, /holds a line break/, `${args.join(' ')}: the value is refused, naming its key`)
    }
  }
})

// ─── item 11: a UTF-8 byte order mark ───────────────────────────────────────────────────────────

test.serial('item 11: cdkmultiprofileplugin.json, package.json and cdk.json starting with a BOM are read (plugin and doctor)', async (t) => {
  const BOM = '\ufeff'
  const w = suite.world({
    config: `[profile base]\nregion = us-east-1\n[profile plain]\naws_access_key_id = AKIAPLAINKEY00000001\naws_secret_access_key = plain-secret\n`,
    credentials: BASE_KEYS,
    project: {
      'package.json': BOM + JSON.stringify({ name: 'app', awsProfiles: { [A1]: 'plain' } }),
      'cdkmultiprofileplugin.json': BOM + JSON.stringify({ assumeRole: { sourceProfile: 'base', accounts: [A2] } }),
      'cdk.json': BOM + JSON.stringify({ app: 'node app.js', plugin: ['cdk-mfa-rs'], context: { 'assume-role-credentials:readIamRoleName': 'ctx-reader' } }),
    },
  })
  const env = envFor(w)
  const r = await resolveInChild({ requests: [[A1, 0], [A2, 0]] }, { env, cwd: w.cwd })
  t.is(r.results[0].accessKeyId, 'AKIAPLAINKEY00000001', r.stdout + r.stderr)
  t.falsy(r.results[1].error, r.results[1].error)
  t.deepEqual(calls(), [`AssumeRole arn:aws:iam::${A2}:role/ctx-reader no MFA`])
  const doctor = await cli(['doctor'], { env, cwd: w.cwd })
  t.notRegex(doctor.stdout, /invalid JSON|^FAIL|neither cdk.json/m, doctor.stdout)
  t.regex(doctor.stdout, /OK {4}configuration: 2 account\(s\) mapped \(.*package.json, .*cdkmultiprofileplugin.json\)/)
})

// ─── item 13: a role in another account than the one asked for ─────────────────────────────────

test.serial('item 13: an account mapped to a profile whose role is in another account: one warning line, once', async (t) => {
  const w = suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile prod]\nrole_arn = ${ROLE_B}\nsource_profile = base\n` +
      `[profile right]\nrole_arn = arn:aws:iam::333333333333:role/Deployer\nsource_profile = base\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'prod', '333333333333': 'right' } } },
  })
  const r = await resolveInChild({ requests: [[A1, 0], [A1, 1], [A1, 0], ['333333333333', 1]] }, { env: envFor(w), cwd: w.cwd })
  for (const x of r.results) t.falsy(x.error, x.error)
  const warnings = r.stderr.split('\n').filter((l) => l.includes('warning'))
  t.deepEqual(warnings, [
    `cdk-mfa-rs: warning: account ${A1} → profile prod assumes ${ROLE_B}, a role in account ${A2}: the CDK CLI gets credentials of ${A2} for ${A1}; map ${A1} to a profile whose role is in ${A1}`,
  ])
})

// ─── item 12: profile sections aws-config's parser skips ───────────────────────────────────────

test.serial('item 12: [profile dév] and [profile a[b] are named as present but skipped, with the reason, by doctor and the error', async (t) => {
  const w = suite.world({
    config: `[profile base]\nregion = us-east-1\n[profile dév]\nrole_arn = ${ROLE_A}\nsource_profile = base\n[profile a[b]\nrole_arn = ${ROLE_B}\nsource_profile = base\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'dév', [A2]: 'a[b' } } },
  })
  const env = envFor(w)
  const config = path.join(w.home, '.aws', 'config')
  const why = /accepts only A-Z a-z 0-9 and _ - \/ \. % @ : \+ in a profile name/
  const r = await resolveInChild({ requests: [[A1, 0], [A2, 0]] }, { env, cwd: w.cwd })
  t.regex(r.results[0].error, new RegExp(`AWS profile "dév" is in ${config}:3 but was skipped: .*rename the section`))
  t.regex(r.results[0].error, why)
  t.regex(r.results[1].error, new RegExp(`AWS profile "a\\[b" is in ${config}:6 but was skipped`))
  const cp = await cli(['credential-process', '--profile', 'dév'], { env, cwd: w.cwd })
  t.regex(cp.stderr, /AWS profile "dév" is in .* but was skipped/)
  const doctor = await cli(['doctor'], { env, cwd: w.cwd })
  t.regex(doctor.stdout, new RegExp(`WARN  AWS profile "dév" \\(${config}:3\\) is skipped: the AWS SDK for Rust accepts only`))
  t.regex(doctor.stdout, new RegExp(`WARN  AWS profile "a\\[b" \\(${config}:6\\) is skipped`))
  t.is(suite.stub.calls.length, 0)
})
