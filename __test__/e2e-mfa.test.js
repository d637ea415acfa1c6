'use strict'
// End to end, issue "MFA, once": the real CDK CLI in a pseudo-terminal deploys a 3-account app
// whose role profiles share one MFA device. STS calls go through the fault-injecting stub (which
// counts them) to moto (which runs CloudFormation).
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { motoSuite, writeAwsConfig, makeCdkApp, mfaApp, runCdk, cdkEnv, listStacks, CDK_BIN } = require('./helpers/cdk')
const { runInPty } = require('./helpers/pty')

const PLUGIN = path.resolve(__dirname, '..')
const ACCOUNTS = ['111111111111', '222222222222', '333333333333']
const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const BASE_SECRET = 'long-term-secret-canary'

const suite = motoSuite(test, { stub: true })

function setup(stackPrefix) {
  const home = suite.home()
  const { appDir, stacks, env } = mfaApp(home, {
    accounts: ACCOUNTS,
    serial: SERIAL,
    stackPrefix,
    baseKeyId: 'AKIAE2EBASEKEY000001',
    baseSecret: BASE_SECRET,
    stsUrl: suite.stub.url,
  })
  return { home, appDir, stacks, env }
}

const gstCalls = () => suite.stub.calls.filter((c) => c.action === 'GetSessionToken')

function deployInPty(s, answers) {
  return runInPty(CDK_BIN, ['deploy', '--all', '--require-approval', 'never', '--method=direct', '--concurrency', '3', '--no-notices'], {
    env: cdkEnv({ home: s.home, motoUrl: suite.moto.url, env: { ...s.env, TERM: 'xterm-256color' } }),
    cwd: s.appDir,
    answers,
    timeoutMs: 240000,
  })
}

/** Bootstrap all accounts without a terminal (code from the environment, the pipeline path), then
 * empty the cache so that the next command must prompt. Returns the bootstrap run. */
async function bootstrapThenForget(s, code) {
  const boot = await runCdk(['bootstrap', ...ACCOUNTS.map((a) => `aws://${a}/us-east-1`)], {
    cwd: s.appDir,
    home: s.home,
    motoUrl: suite.moto.url,
    env: { ...s.env, CDK_MFA_CODE: code },
  })
  const gst = gstCalls().length
  for (const f of fs.readdirSync(s.env.CDK_MFA_RS_CACHE_DIR)) fs.rmSync(path.join(s.env.CDK_MFA_RS_CACHE_DIR, f))
  suite.stub.clearCalls()
  return { ...boot, gst }
}

test.serial('cdk deploy --all of 3 accounts on a terminal: 1 prompt, 1 GetSessionToken; next run: none', async (t) => {
  const s = setup('MfaApp')
  const boot = await bootstrapThenForget(s, '123456')
  t.is(boot.code, 0, boot.stderr)
  t.is(boot.gst, 1)

  const first = await deployInPty(s, ['654321'])
  t.is(first.exitCode, 0, first.transcript)
  t.is(first.prompts, 1, first.transcript)
  t.is(gstCalls().length, 1)
  t.is(gstCalls()[0].tokenCode, '654321')
  // The prompt sits on its own line, readable, and the typed code is not echoed.
  t.regex(first.transcript, /(^|\r?\n)MFA token for arn:aws:iam::999999999999:mfa\/dev-user \(profile mfa\d\): /)
  // The CLI's three requests arrive milliseconds apart: the prompt waits for them and names all,
  // on the line right above the question.
  const forWhom = (first.transcript.match(/cdk-mfa-rs: the code is for ([^\r\n]*)\r*\nMFA token for /) || [])[1] || ''
  t.is(forWhom, ACCOUNTS.map((a, i) => `account ${a} (profile mfa${i})`).join(', '), first.transcript)
  t.false(first.transcript.includes('654321'))
  // Our own notices about other accounts wait until the prompt is answered.
  t.notRegex(first.transcript, /MFA token for \S+ \(profile [^)]+\): [^\r\n]*cdk-mfa-rs/)
  t.false(first.transcript.includes(BASE_SECRET))
  for (const st of s.stacks) {
    const names = (await listStacks(suite.moto.url, st.account)).map((x) => `${x.name}:${x.status}`)
    t.true(names.includes(`${st.name}:CREATE_COMPLETE`), `${st.account}: ${names}`)
  }
  t.log(first.transcript.split(/\r?\n/).filter((l) => /MFA token|cdk-mfa-rs/.test(l)).join('\n'))

  suite.stub.clearCalls()
  const second = await deployInPty(s, [])
  t.is(second.exitCode, 0, second.transcript)
  t.is(second.prompts, 0)
  t.is(gstCalls().length, 0)
})

test.serial('two cdk processes started at the same moment with an empty cache: 1 prompt in total', async (t) => {
  const s = setup('TwinApp')
  const boot = await bootstrapThenForget(s, '111111')
  t.is(boot.code, 0, boot.stderr)
  // Both runs synthesize; only one may ask. Each pty answers at most one prompt. Template diffs:
  // two change-set diffs of one stack at once race on the same change set name in moto (one
  // failed with "Stack with id TwinApp2 does not exist"); the credentials are asked for alike.
  const synth = (answers, out) =>
    runInPty(CDK_BIN, ['diff', '--method=template', '--output', out, '--no-notices'], {
      env: cdkEnv({ home: s.home, motoUrl: suite.moto.url, env: s.env }),
      cwd: s.appDir,
      answers,
      timeoutMs: 180000,
    })
  const [a, b] = await Promise.all([synth(['222222'], 'cdk.out.a'), synth(['333333'], 'cdk.out.b')])
  t.is(a.prompts + b.prompts, 1, `${a.transcript}\n----\n${b.transcript}`)
  t.is(a.exitCode, 0, a.transcript)
  t.is(b.exitCode, 0, b.transcript)
  t.is(gstCalls().length, 1)
})

test.serial('short-lived role credentials during a deploy: re-assumed from the cached MFA session, never a second prompt', async (t) => {
  const s = setup('RefreshApp')
  const boot = await bootstrapThenForget(s, '444444')
  t.is(boot.code, 0, boot.stderr)
  // Role credentials that expire 6 s after they are issued count as expired at once (10 min
  // margin): every later request for them (ForReading after ForWriting, the CLI's own refresh
  // 5 s before expiry) re-assumes the role with the cached MFA session.
  suite.stub.setFaults({ expiresInSeconds: { AssumeRole: 6 } })
  const r = await deployInPty(s, ['555555'])
  const ours = suite.stub.calls.filter((c) => c.action === 'AssumeRole' && /role\/AdminMFARole$/.test(c.roleArn))
  suite.stub.resetFaults()
  t.is(r.exitCode, 0, r.transcript)
  t.is(r.prompts, 1, r.transcript)
  t.is(gstCalls().length, 1)
  t.log(`AssumeRole into the 3 MFA roles during one deploy: ${ours.length}`)
  for (const a of ACCOUNTS) {
    const n = ours.filter((c) => c.roleArn.includes(`::${a}:`)).length
    t.true(n >= 2, `account ${a}: ${n} AssumeRole`)
  }
  for (const c of ours) {
    t.is(c.serialNumber, null, 'no MFA parameters: the cached MFA session is used')
    t.true(c.hasSessionToken)
  }
})

test.serial('role chain through the real CDK CLI: the MFA profile on top of a cached role still sends the code; a role in another account warns once', async (t) => {
  // top (role B in 222…, mfa_serial) → mid (role A in 111…, no MFA) → base keys; stray (333…) assumes a role in 222….
  const home = suite.home()
  const [A, B, C] = ACCOUNTS
  writeAwsConfig(
    home,
    [
      '[profile base]', 'region = us-east-1',
      '[profile mid]', `role_arn = arn:aws:iam::${A}:role/ChainA`, 'source_profile = base', 'region = us-east-1',
      '[profile top]', `role_arn = arn:aws:iam::${B}:role/ChainB`, 'source_profile = mid', `mfa_serial = ${SERIAL}`, 'region = us-east-1',
      '[profile stray]', `role_arn = arn:aws:iam::${B}:role/Stray`, 'source_profile = base', 'region = us-east-1',
      '',
    ].join('\n'),
    `[base]\naws_access_key_id = AKIAE2EBASEKEY000001\naws_secret_access_key = ${BASE_SECRET}\n`,
  )
  const appDir = path.join(home.home, 'app')
  makeCdkApp(appDir, [{ name: 'ChainMid', account: A }, { name: 'ChainTop', account: B }, { name: 'ChainStray', account: C }], { plugin: [PLUGIN] })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [A]: 'mid', [B]: 'top', [C]: 'stray' } }))
  const env = { AWS_ENDPOINT_URL_STS: suite.stub.url, CDK_MFA_RS_CACHE_DIR: path.join(home.home, 'cache') }
  const diff = (stacks, extra = {}) => runCdk(['diff', ...stacks], { cwd: appDir, home, motoUrl: suite.moto.url, env: { ...env, ...extra } })
  const ours = (role) => suite.stub.calls.filter((c) => c.action === 'AssumeRole' && c.roleArn.endsWith(`:role/${role}`))

  const mid = await diff(['ChainMid'])
  t.is(mid.code, 0, mid.stderr)
  t.true(ours('ChainA').length >= 1 && ours('ChainA').every((c) => c.serialNumber === null))
  suite.stub.clearCalls()

  const next = await diff(['ChainTop', 'ChainStray'], { CDK_MFA_CODE: '246810' })
  t.is(next.code, 0, next.stderr)
  t.deepEqual(ours('ChainA'), [], 'role A comes from the cache')
  t.true(ours('ChainB').length >= 1)
  for (const c of ours('ChainB')) t.deepEqual([c.serialNumber, c.tokenCode], [SERIAL, '246810'], 'AssumeRole B carries the MFA code')
  t.is(gstCalls().length, 0)
  const warnings = next.stderr.split('\n').filter((l) => l.startsWith('cdk-mfa-rs: warning'))
  t.deepEqual(warnings, [
    `cdk-mfa-rs: warning: account ${C} → profile stray assumes arn:aws:iam::${B}:role/Stray, a role in account ${B}: the CDK CLI gets credentials of ${B} for ${C}; map ${C} to a profile whose role is in ${C}`,
  ])
})
