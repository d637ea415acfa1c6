'use strict'
// Secret-leak canary (issue "Evidence"): end-to-end scenarios run with known fake secrets — the
// long-term keys in the AWS files or the environment, the MFA codes, and every secret key and
// session token STS hands out (recorded by the stub). None may appear in any stdout, stderr or
// terminal transcript, nor in any file of the scenario's HOME outside the cache directory
// (~/.aws/credentials, where the user put the long-term key, is the one other exception).
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { motoSuite, writeAwsConfig, makeCdkApp, runCdk, cdkEnv, listStacks, CDK_BIN } = require('./helpers/cdk')
const { runInPty } = require('./helpers/pty')

const PLUGIN = path.resolve(__dirname, '..')
const CLI = path.join(PLUGIN, 'cli.js')
const A = '111111111111'
const B = '222222222222'
const SERIAL = 'arn:aws:iam::999999999999:mfa/canary'
const LONG_TERM = 'CANARY-long-term-secret-7f3a9c'
const ENV_SECRET = 'CANARY-env-secret-51be02'
const TYPED_CODE = '271828'
const ENV_CODE = '314159'

const suite = motoSuite(test, { stub: true })
const outputs = [] // {scenario, text}

function scenarioHome(config, credentials) {
  const home = suite.home('cdk-mfa-canary-')
  writeAwsConfig(home, config, credentials)
  return home
}

function filesOutsideCache(root, cacheDir) {
  const out = []
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (p === cacheDir || e.isSymbolicLink()) continue
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) out.push(p)
    }
  }
  walk(root)
  return out
}

function assertNoSecrets(t, home, cacheDir) {
  const secrets = [LONG_TERM, ENV_SECRET, TYPED_CODE, ENV_CODE, ...suite.stub.issuedSecrets]
  t.true(suite.stub.issuedSecrets.size > 0, 'STS issued credentials in this scenario')
  for (const { scenario, text } of outputs) {
    for (const s of secrets) t.false(text.includes(s), `${scenario}: output contains a secret (${s.slice(0, 6)}…)`)
  }
  const allowed = new Set([path.join(home.home, '.aws', 'credentials')])
  let scanned = 0
  for (const f of filesOutsideCache(home.home, cacheDir)) {
    if (allowed.has(f)) continue
    const text = fs.readFileSync(f, 'latin1')
    scanned++
    for (const s of secrets) t.false(text.includes(s), `${path.relative(home.home, f)} contains a secret (${s.slice(0, 6)}…)`)
  }
  t.true(scanned > 5, `scanned ${scanned} files`)
  outputs.length = 0
}

function record(scenario, ...texts) {
  for (const text of texts) outputs.push({ scenario, text: String(text || '') })
}

function runCli(args, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code, out }))
  })
}

test.serial('profiles with MFA on a terminal, the companion command, and a refused role: no secret leaks', async (t) => {
  const config = [
    '[profile base]',
    'region = us-east-1',
    '[profile dev]',
    `role_arn = arn:aws:iam::${A}:role/AdminMFARole`,
    'source_profile = base',
    `mfa_serial = ${SERIAL}`,
    '[profile prod]',
    `role_arn = arn:aws:iam::${B}:role/AdminMFARole`,
    'source_profile = base',
    `mfa_serial = ${SERIAL}`,
    '',
  ].join('\n')
  const home = scenarioHome(config, `[base]\naws_access_key_id = AKIACANARYBASE000001\naws_secret_access_key = ${LONG_TERM}\n`)
  const cacheDir = path.join(home.home, 'cache')
  const appDir = path.join(home.home, 'app')
  makeCdkApp(appDir, [{ name: 'CanaryDev', account: A }, { name: 'CanaryProd', account: B }], { plugin: [PLUGIN] })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [A]: 'dev', [B]: 'prod' } }))
  const extra = { AWS_ENDPOINT_URL_STS: suite.stub.url, CDK_MFA_RS_CACHE_DIR: cacheDir }

  const boot = await runCdk(['bootstrap', `aws://${A}/us-east-1`, `aws://${B}/us-east-1`], { cwd: appDir, home, motoUrl: suite.moto.url, env: { ...extra, CDK_MFA_CODE: ENV_CODE } })
  record('bootstrap', boot.stdout, boot.stderr)
  t.is(boot.code, 0, boot.stderr)
  fs.rmSync(cacheDir, { recursive: true, force: true })

  const deploy = await runInPty(CDK_BIN, ['deploy', '--all', '--require-approval', 'never', '--method=direct', '--no-notices'], {
    env: cdkEnv({ home, motoUrl: suite.moto.url, env: extra }),
    cwd: appDir,
    answers: [TYPED_CODE],
    timeoutMs: 240000,
  })
  record('deploy (pty)', deploy.transcript)
  t.is(deploy.exitCode, 0, deploy.transcript)
  t.is(deploy.prompts, 1)
  t.is((await listStacks(suite.moto.url, B)).filter((s) => s.name === 'CanaryProd').length, 1)

  const env = cdkEnv({ home, motoUrl: suite.moto.url, env: extra })
  for (const args of [['status'], ['status', '--json'], ['doctor']]) {
    const r = await runCli(args, env, appDir)
    record(`cdk-mfa-rs ${args.join(' ')}`, r.out)
  }

  suite.stub.setFaults({ denyRoles: [`arn:aws:iam::${A}:role/AdminMFARole`] })
  fs.rmSync(cacheDir, { recursive: true, force: true })
  const refused = await runCdk(['diff', '--no-notices'], { cwd: appDir, home, motoUrl: suite.moto.url, env: { ...extra, CDK_MFA_CODE: '161803' } })
  suite.stub.resetFaults()
  record('refused role', refused.stdout, refused.stderr)
  t.regex(refused.stdout + refused.stderr, /AccessDenied/)

  assertNoSecrets(t, home, cacheDir)
})

test.serial('pipeline: conventional roles with keys in the environment: no secret leaks', async (t) => {
  const home = scenarioHome('[default]\nregion = us-east-1\n')
  const cacheDir = path.join(home.home, 'cache')
  const appDir = path.join(home.home, 'app')
  makeCdkApp(appDir, [{ name: 'PipeA', account: A }, { name: 'PipeB', account: B }], { plugin: [PLUGIN] })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ assumeRole: { externalId: 'canary-ext' } }))
  const env = {
    AWS_ENDPOINT_URL_STS: suite.stub.url,
    CDK_MFA_RS_CACHE_DIR: cacheDir,
    AWS_ACCESS_KEY_ID: 'AKIACANARYPIPELINE01',
    AWS_SECRET_ACCESS_KEY: ENV_SECRET,
  }
  const opts = { cwd: appDir, home, motoUrl: suite.moto.url, env }
  const boot = await runCdk(['bootstrap', `aws://${A}/us-east-1`, `aws://${B}/us-east-1`], opts)
  record('pipeline bootstrap', boot.stdout, boot.stderr)
  t.is(boot.code, 0, boot.stderr)
  const deploy = await runCdk(['deploy', '--all', '--require-approval', 'never', '--method=direct'], opts)
  record('pipeline deploy', deploy.stdout, deploy.stderr)
  t.is(deploy.code, 0, deploy.stderr)
  t.true(suite.stub.calls.some((c) => c.roleArn === `arn:aws:iam::${B}:role/cdk-writeRole` && c.externalId === 'canary-ext'))
  assertNoSecrets(t, home, cacheDir)
})
