'use strict'
// Issue 11: the plugin under every supported Node major. scripts/test.js runs this file (with
// the fake-host contract tests, plugin.test.js) once more under each official Node binary of
// scripts/node-versions/ that is not the Node running the main suite, with that Node first on
// PATH. One real `cdk deploy` through the plugin, the cheapest there is: no bootstrap (the
// legacy synthesizer sends the small template inline), one stack, one AssumeRole.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { motoSuite, writeAwsConfig, makeCdkApp, runCdk, listStacks, getSsmParameter } = require('./helpers/cdk')

const PLUGIN = path.resolve(__dirname, '..')
const B = '222222222222'

const suite = motoSuite(test)

test.serial(`cdk deploy through the plugin (role profile) on Node ${process.versions.node}: CLI and app both run on it`, async (t) => {
  const home = suite.home()
  writeAwsConfig(
    home,
    ['[profile shared]', 'region = us-east-1', '[profile target]', `role_arn = arn:aws:iam::${B}:role/Deployer`, 'source_profile = shared', 'region = us-east-1', ''].join('\n'),
    ['[shared]', 'aws_access_key_id = AKIANODEVERSIONS0001', 'aws_secret_access_key = node-versions-secret', ''].join('\n'),
  )
  const appDir = path.join(home.home, 'app')
  makeCdkApp(appDir, [{ name: 'NodeStack', account: B }], { plugin: [PLUGIN], synthesizer: 'legacy' })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [B]: 'target' } }))
  // Every Node process of the run (the CDK CLI, which loads the plugin, and the app) records
  // which Node it is: proof that the deploy ran on the Node under test, not on one from PATH.
  const record = path.join(home.home, 'record.js')
  const seen = path.join(home.home, 'node-versions.log')
  fs.writeFileSync(record, `require('fs').appendFileSync(${JSON.stringify(seen)}, process.version + ' ' + process.argv[1] + '\\n')\n`)

  const deploy = await runCdk(['deploy', '--all', '--require-approval', 'never', '--method=direct'], {
    cwd: appDir,
    home,
    motoUrl: suite.moto.url,
    env: { CDK_MFA_RS_CACHE_DIR: path.join(home.home, 'cache'), NODE_OPTIONS: `--require ${record}` },
  })
  t.is(deploy.code, 0, `cdk deploy failed:\n${deploy.stdout}\n${deploy.stderr}`)
  t.regex(deploy.stderr, new RegExp(`cdk-mfa-rs: account ${B} \\(ForWriting\\) → profile target`))
  t.deepEqual(
    (await listStacks(suite.moto.url, B)).map((s) => `${s.name}:${s.status}`),
    ['NodeStack:CREATE_COMPLETE'],
  )
  t.is(await getSsmParameter(suite.moto.url, B, '/cdk-mfa-test/NodeStack'), B)

  const runs = fs.readFileSync(seen, 'utf8').trim().split('\n').map((l) => l.split(' '))
  t.true(runs.some(([, script]) => /[/\\]cdk$/.test(script)), `the CDK CLI ran: ${JSON.stringify(runs)}`)
  t.true(runs.some(([, script]) => /app\.js$/.test(script)), `the app ran: ${JSON.stringify(runs)}`)
  for (const [version, script] of runs) t.is(version, process.version, script)
  // cdkEnv turns the CLI's telemetry off: no process posts to the real telemetry endpoint.
  t.false(runs.some(([, script]) => /telemetry/.test(script)), `telemetry sender ran: ${JSON.stringify(runs)}`)
})
