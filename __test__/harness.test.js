'use strict'
// Proof of the E2E harness: the real CDK CLI bootstraps and deploys a two-account app
// into moto through a credential plugin. The plugin here is a tiny throwaway JS plugin
// (written into the temp dir); the real cdk-mfa-rs plugin gets the same treatment later.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { startMoto } = require('./helpers/moto')
const { makeTempHome, writeAwsConfig, makeCdkApp, runCdk, listStacks, createStaticKeys, callerAccount, getSsmParameter } = require('./helpers/cdk')

let moto
const homes = []
test.before(async () => {
  moto = await startMoto()
})
test.after.always(async () => {
  if (moto) await moto.stop()
  if (!process.env.KEEP_TMP) for (const h of homes) h.cleanup()
})

// A credential plugin in the CDK plugin API v1 shape: AssumeRole into
// arn:aws:iam::<account>:role/HarnessAdmin on moto (unsigned request; moto maps the
// returned keys to <account>). Every getProvider call is appended to HARNESS_PLUGIN_LOG.
function writeThrowawayPlugin(dir) {
  const file = path.join(dir, 'throwaway-plugin.js')
  fs.writeFileSync(
    file,
    `'use strict'
const fs = require('fs')
const { awsQuery, parseCredentials } = require(${JSON.stringify(path.join(__dirname, 'helpers', 'aws-query.js'))})
module.exports = {
  version: '1',
  init(host) {
    host.registerCredentialProviderSource({
      name: 'harness-throwaway-plugin',
      isAvailable: async () => true,
      canProvideCredentials: async (account) => /^\\d{12}$/.test(account),
      getProvider: async (account, mode, options) => {
        const r = await awsQuery(process.env.AWS_ENDPOINT_URL, 'sts', {
          Action: 'AssumeRole',
          RoleArn: 'arn:aws:iam::' + account + ':role/HarnessAdmin',
          RoleSessionName: 'harness',
        })
        if (r.status !== 200) throw new Error('AssumeRole failed: ' + r.body)
        const c = parseCredentials(r.body)
        fs.appendFileSync(process.env.HARNESS_PLUGIN_LOG,
          JSON.stringify({ account, mode, options, accessKeyId: c.accessKeyId, sessionToken: c.sessionToken }) + '\\n')
        return c // { accessKeyId, secretAccessKey, sessionToken, expiration: Date }
      },
    })
  },
}
`,
  )
  return file
}

function readPluginLog(file) {
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
}

async function bootstrapAndDeploy(t, { accounts, credentialsText }) {
  const home = makeTempHome()
  homes.push(home)
  writeAwsConfig(home, '[default]\nregion = us-east-1\noutput = json\n', credentialsText)
  const pluginFile = writeThrowawayPlugin(home.home)
  const appDir = path.join(home.home, 'app')
  const stacks = accounts.map((account, i) => ({ name: `Harness${'AB'[i]}${account.slice(0, 3)}`, account, region: 'us-east-1' }))
  makeCdkApp(appDir, stacks, { plugin: [pluginFile] })
  const pluginLog = path.join(home.home, 'plugin.log')
  const opts = { cwd: appDir, home, motoUrl: moto.url, env: { HARNESS_PLUGIN_LOG: pluginLog } }

  const boot = await runCdk(['bootstrap', ...accounts.map((a) => `aws://${a}/us-east-1`)], opts)
  t.is(boot.code, 0, `cdk bootstrap failed:\n${boot.stdout}\n${boot.stderr}`)
  t.log(`bootstrap ${boot.durationMs}ms`)
  const deploy = await runCdk(['deploy', '--all', '--require-approval', 'never', '--method=direct'], opts)
  t.is(deploy.code, 0, `cdk deploy failed:\n${deploy.stdout}\n${deploy.stderr}`)
  t.log(`deploy ${deploy.durationMs}ms`)
  return { stacks, pluginLog, deploy }
}

async function assertStacksInOwnAccounts(t, stacks) {
  for (const s of stacks) {
    const names = (await listStacks(moto.url, s.account)).map((x) => `${x.name}:${x.status}`).sort()
    const others = stacks.filter((o) => o !== s).map((o) => `${o.name}:CREATE_COMPLETE`)
    t.deepEqual(names, [`${s.name}:CREATE_COMPLETE`, 'CDKToolkit:CREATE_COMPLETE'].sort(), `stacks in ${s.account}`)
    for (const o of others) t.false(names.includes(o))
    // the stack's resource really exists in that account only
    t.is(await getSsmParameter(moto.url, s.account, `/cdk-mfa-test/${s.name}`), s.account)
    t.is(await getSsmParameter(moto.url, '123456789012', `/cdk-mfa-test/${s.name}`), null)
  }
}

test.serial('cdk bootstrap + deploy --all put each stack in its own moto account via a credential plugin', async (t) => {
  const accounts = ['111111111111', '222222222222']
  // Made-up static keys: moto attributes them to its default account 123456789012, so the
  // CLI needs the plugin for both target accounts.
  const { stacks, pluginLog, deploy } = await bootstrapAndDeploy(t, {
    accounts,
    credentialsText: '[default]\naws_access_key_id = AKIAHARNESSSTATIC001\naws_secret_access_key = not-a-real-secret\n',
  })
  for (const s of stacks) t.regex(deploy.stdout + deploy.stderr, new RegExp(`arn:aws:cloudformation:us-east-1:${s.account}:stack/${s.name}/`))
  await assertStacksInOwnAccounts(t, stacks)
  t.deepEqual(await listStacks(moto.url, '123456789012'), [])

  const calls = readPluginLog(pluginLog)
  t.deepEqual([...new Set(calls.map((c) => c.account))].sort(), accounts)
  for (const c of calls) {
    t.true([0, 1].includes(c.mode))
    t.deepEqual(c.options, { supportsV3Providers: true })
    t.is(await callerAccount(moto.url, c.accessKeyId, c.sessionToken), c.account)
  }
  t.true(calls.some((c) => c.mode === 1), 'ForWriting credentials were requested')
})

test.serial('static keys of an IAM user in account A: the CLI uses them for A and the plugin only for B', async (t) => {
  const accounts = ['333333333333', '444444444444']
  const keys = await createStaticKeys(moto.url, accounts[0], 'deployer')
  t.regex(keys.accessKeyId, /^AKIA/)
  t.is(keys.arn, `arn:aws:iam::${accounts[0]}:user/deployer`)
  t.is(await callerAccount(moto.url, keys.accessKeyId), accounts[0])

  const { stacks, pluginLog } = await bootstrapAndDeploy(t, {
    accounts,
    credentialsText: `[default]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
  })
  await assertStacksInOwnAccounts(t, stacks)
  const consulted = [...new Set(readPluginLog(pluginLog).map((c) => c.account))]
  t.deepEqual(consulted, [accounts[1]])
})
