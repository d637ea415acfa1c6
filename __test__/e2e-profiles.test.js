'use strict'
// End to end, issue "plugin works on the real CDK CLI": the pinned aws-cdk@2 CLI bootstraps two
// accounts and deploys a two-stack app through cdk-mfa-rs against moto. Account A is mapped to a
// profile with static keys, account B to a role_arn + source_profile profile.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { motoSuite, writeAwsConfig, makeCdkApp, runCdk, listStacks, createStaticKeys, getSsmParameter } = require('./helpers/cdk')

const PLUGIN = path.resolve(__dirname, '..')
const A = '111111111111'
const B = '222222222222'

const suite = motoSuite(test)

test.serial('cdk bootstrap + deploy --all into two accounts: static-key profile and role profile', async (t) => {
  const home = suite.home()
  const keysA = await createStaticKeys(suite.moto.url, A, 'deployer-a')
  // No [default]: the CLI has no default credentials and asks the plugin for both accounts.
  writeAwsConfig(
    home,
    [
      '[profile dev]',
      'region = us-east-1',
      '[profile shared]',
      'region = us-east-1',
      '[profile prod]',
      `role_arn = arn:aws:iam::${B}:role/Deployer`,
      'source_profile = shared',
      'role_session_name = e2e-prod',
      'duration_seconds = 1800',
      'region = us-east-1',
      '',
    ].join('\n'),
    [
      '[dev]',
      `aws_access_key_id = ${keysA.accessKeyId}`,
      `aws_secret_access_key = ${keysA.secretAccessKey}`,
      '[shared]',
      'aws_access_key_id = AKIASHAREDSTATIC0001',
      'aws_secret_access_key = shared-secret-canary',
      '',
    ].join('\n'),
  )
  const appDir = path.join(home.home, 'app')
  const stacks = [
    { name: 'DevStack', account: A },
    { name: 'ProdStack', account: B },
  ]
  makeCdkApp(appDir, stacks, { plugin: [PLUGIN] })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [A]: 'dev', [B]: 'prod' } }))
  const opts = { cwd: appDir, home, motoUrl: suite.moto.url, env: { CDK_MFA_RS_CACHE_DIR: path.join(home.home, 'cache') } }

  const boot = await runCdk(['bootstrap', `aws://${A}/us-east-1`, `aws://${B}/us-east-1`], opts)
  t.is(boot.code, 0, `cdk bootstrap failed:\n${boot.stdout}\n${boot.stderr}`)
  t.regex(boot.stderr, new RegExp(`cdk-mfa-rs: account ${A} \\(ForWriting\\) → profile dev`))
  t.regex(boot.stderr, new RegExp(`cdk-mfa-rs: account ${B} \\(ForWriting\\) → profile prod`))

  const deploy = await runCdk(['deploy', '--all', '--require-approval', 'never', '--method=direct'], opts)
  t.is(deploy.code, 0, `cdk deploy failed:\n${deploy.stdout}\n${deploy.stderr}`)

  for (const s of stacks) {
    const names = (await listStacks(suite.moto.url, s.account)).map((x) => `${x.name}:${x.status}`).sort()
    t.deepEqual(names, ['CDKToolkit:CREATE_COMPLETE', `${s.name}:CREATE_COMPLETE`], `stacks in ${s.account}`)
    t.is(await getSsmParameter(suite.moto.url, s.account, `/cdk-mfa-test/${s.name}`), s.account)
  }
  // Nothing secret in the CLI's output.
  for (const out of [boot.stdout, boot.stderr, deploy.stdout, deploy.stderr]) {
    t.false(out.includes(keysA.secretAccessKey))
    t.false(out.includes('shared-secret-canary'))
  }
  // The role credentials were cached on disk (0600) for the next run; static keys were not.
  const cacheFiles = fs.readdirSync(path.join(home.home, 'cache')).filter((f) => f.endsWith('.json'))
  t.is(cacheFiles.length, 1, cacheFiles.join(','))
  t.regex(cacheFiles[0], /^role-[0-9a-f]{40}\.json$/)
  const cached = fs.readFileSync(path.join(home.home, 'cache', cacheFiles[0]), 'utf8')
  t.false(cached.includes('shared-secret-canary'))
  t.false(cached.includes(keysA.secretAccessKey))
  t.is(fs.statSync(path.join(home.home, 'cache', cacheFiles[0])).mode & 0o777, 0o600)
})
