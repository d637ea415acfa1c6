'use strict'
// End to end, issue "the CDK Toolkit Library": a program using @aws-cdk/toolkit-lib (not the CDK
// CLI) loads cdk-mfa-rs with `toolkit.pluginHost.load('cdk-mfa-rs')` and bootstraps + deploys the
// two-account sample app (sample-app/, MFA role profiles `dev` / `prod` on one device) in a
// pseudo-terminal: one prompt, all stacks in both accounts; a second run deploys without a prompt.
// STS calls go through the recording stub to moto.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { motoSuite, writeAwsConfig, cdkEnv, listStacks, NODE_MODULES } = require('./helpers/cdk')
const { runInPty } = require('./helpers/pty')

const ROOT = path.resolve(__dirname, '..')
const SCRIPT = path.join(__dirname, 'helpers', 'toolkit-deploy.js')
const SERIAL = 'arn:aws:iam::123456789012:mfa/toolkit-user'
const SECRET = 'toolkit-shared-secret-canary'
const CODE = '640217'
const STAGES = [
  { stage: 'dev', account: '111111111111' },
  { stage: 'prod', account: '222222222222' },
]

const suite = motoSuite(test, { stub: true })

test('toolkit-lib: pluginHost.load("cdk-mfa-rs"), bootstrap + deploy of the two-account sample with one MFA prompt; second run: no prompt', async (t) => {
  const home = suite.home()
  writeAwsConfig(
    home,
    ['[profile shared]', 'region = us-east-1', ...STAGES.flatMap((s) => [
      `[profile ${s.stage}]`,
      `role_arn = arn:aws:iam::${s.account}:role/OrganizationAccountAccessRole`,
      'source_profile = shared',
      `mfa_serial = ${SERIAL}`,
      'region = us-east-1',
    ]), ''].join('\n'),
    `[shared]\naws_access_key_id = AKIATOOLKITSHARED001\naws_secret_access_key = ${SECRET}\n`,
  )
  // The sample app as a user has it: a copy, with cdk-mfa-rs installed where toolkit-lib's
  // require.resolve finds it by name (NODE_PATH, as for a globally installed plugin).
  const appDir = path.join(home.home, 'sample-app')
  fs.cpSync(path.join(ROOT, 'sample-app'), appDir, { recursive: true })
  fs.symlinkSync(NODE_MODULES, path.join(appDir, 'node_modules'), 'dir')
  const globalModules = path.join(home.home, 'global-node-modules')
  fs.mkdirSync(globalModules)
  fs.symlinkSync(ROOT, path.join(globalModules, 'cdk-mfa-rs'), 'dir')
  const env = cdkEnv({
    home,
    motoUrl: suite.moto.url,
    env: { AWS_ENDPOINT_URL_STS: suite.stub.url, CDK_MFA_RS_CACHE_DIR: path.join(home.home, 'cache'), NODE_PATH: globalModules, TERM: 'xterm-256color' },
  })
  const run = (extra, answers) =>
    runInPty(process.execPath, [SCRIPT, appDir, path.join(home.home, 'cdk.out'), ...extra], { env, cwd: appDir, answers, timeoutMs: 280000 })
  const gst = () => suite.stub.calls.filter((c) => c.action === 'GetSessionToken')
  const deployed = (r) => JSON.parse((/\{"deployed":.*\}/.exec(r.transcript) || ['{"deployed":[]}'])[0]).deployed

  const t0 = Date.now()
  const first = await run(['--bootstrap', ...STAGES.map((s) => `aws://${s.account}/us-east-1`)], [CODE])
  t.log(`first run (bootstrap + deploy of 4 stacks, 1 prompt): ${Date.now() - t0} ms`)
  t.false(first.timedOut, first.transcript)
  t.is(first.exitCode, 0, first.transcript)
  t.is(first.prompts, 1, first.transcript)
  t.is((first.transcript.match(/MFA token for /g) || []).length, 1)
  t.is(gst().length, 1)
  t.is(gst()[0].tokenCode, CODE)
  for (const s of STAGES) {
    t.regex(first.transcript, new RegExp(`cdk-mfa-rs: account ${s.account} \\(ForWriting\\) → profile ${s.stage} \\(static keys of profile shared\\)`))
    const names = (await listStacks(suite.moto.url, s.account)).map((x) => `${x.name}:${x.status}`).sort()
    t.deepEqual(names, ['CDKToolkit:CREATE_COMPLETE', `${s.stage}:CREATE_COMPLETE`, 'required-resources:CREATE_COMPLETE'], `stacks in ${s.account}`)
  }
  t.deepEqual(deployed(first).map((d) => `${d.account}/${d.stack}`).sort(), [
    '111111111111/dev',
    '111111111111/required-resources',
    '222222222222/prod',
    '222222222222/required-resources',
  ])
  t.false(first.transcript.includes(SECRET))
  t.false(first.transcript.includes(CODE), 'the code is not echoed')

  suite.stub.clearCalls()
  const t1 = Date.now()
  const second = await run([], [])
  t.log(`second run (deploy, cached MFA session): ${Date.now() - t1} ms`)
  t.is(second.exitCode, 0, second.transcript)
  t.is(second.prompts, 0, second.transcript)
  t.is(gst().length, 0)
  t.is(deployed(second).length, 4)
  t.regex(second.transcript, /cdk-mfa-rs: account 222222222222 \(For\w+\) → profile prod/)
})
