'use strict'
// End to end, feature "conventional cross-account role": the real CDK CLI (aws-cdk@2) through
// cdk-mfa-rs assumes arn:aws:iam::<account>:role/cdk-readOnlyRole for synth-time context
// lookups (ForReading) and arn:aws:iam::<account>:role/cdk-writeRole for deploy (ForWriting),
// from the default credentials (pipeline) or from a source profile with one MFA session (laptop).
// Every STS call goes through the fault-injecting stub (which records it) to moto (which maps
// AssumeRole keys to the role's account, so each stack lands in its own moto account).
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { startMoto } = require('./helpers/moto')
const { startStsStub } = require('./helpers/sts-stub')
const { makeTempHome, writeAwsConfig, makeCdkApp, runCdk, cdkEnv, listStacks, getSsmParameter, awsJson, CDK_BIN } = require('./helpers/cdk')
const { runInPty } = require('./helpers/pty')
const { startContainerCredentials, startInstanceMetadata } = require('./helpers/signin-stubs')
const { cli } = require('./helpers/cli')

const PLUGIN = path.resolve(__dirname, '..')
const A = '111111111111'
const B = '222222222222'
const ACCOUNTS = [A, B]
// Made-up static keys: moto attributes them to its default account 123456789012, so the CLI
// consults the plugin for A and B.
const PIPELINE_KEYS = { AWS_ACCESS_KEY_ID: 'AKIAPIPELINEKEY00001', AWS_SECRET_ACCESS_KEY: 'pipeline-secret-canary' }
const SHARED_SECRET = 'shared-secret-canary'
const SERIAL = 'arn:aws:iam::123456789012:mfa/dev'
const CODE = '482913' // not a substring of any account id or ARN in the output
const LOOKUP_PARAM = '/cdk-mfa-test/lookup-source'
const DEPLOY = ['deploy', '--all', '--require-approval', 'never', '--method=direct']

const readRole = (acct, name = 'cdk-readOnlyRole') => `arn:aws:iam::${acct}:role/${name}`
const writeRole = (acct, name = 'cdk-writeRole') => `arn:aws:iam::${acct}:role/${name}`

let moto
let stub
const homes = []
test.before(async () => {
  moto = await startMoto()
  stub = await startStsStub({ upstream: moto.url })
  // What each account's lookup must find: a value only that account has.
  for (const acct of ACCOUNTS) {
    const r = await awsJson(moto.url, 'ssm', 'AmazonSSM.PutParameter', { Name: LOOKUP_PARAM, Value: `looked-up-in-${acct}`, Type: 'String' }, { account: acct })
    if (r.status !== 200) throw new Error(`PutParameter in ${acct}: ${JSON.stringify(r.json)}`)
  }
})
test.after.always(async () => {
  if (stub) await stub.stop()
  if (moto) await moto.stop()
  if (!process.env.KEEP_TMP) for (const h of homes) h.cleanup()
})
test.beforeEach(() => {
  stub.resetFaults()
  stub.clearCalls()
  stub.usedCodes.clear()
})

/**
 * A fresh HOME + CDK app with one stack per account. Each stack looks up LOOKUP_PARAM at synth
 * time (ssm.StringParameter.valueFromLookup → the CLI's SSM context provider, ForReading) and
 * deploys its value as /cdk-mfa-test/<stack>/looked-up, so the deployed stack proves which
 * account the lookup read.
 */
function world(prefix, { pluginConfig, context, awsConfig = '', awsCredentials } = {}) {
  const home = makeTempHome()
  homes.push(home)
  writeAwsConfig(home, awsConfig, awsCredentials)
  const appDir = path.join(home.home, 'app')
  const stacks = ACCOUNTS.map((account) => ({ name: `${prefix}-${account.slice(0, 1)}`, account }))
  makeCdkApp(appDir, stacks, { plugin: [PLUGIN], context })
  // Same app as makeCdkApp's, plus the lookup.
  const app = fs.readFileSync(path.join(appDir, 'app.js'), 'utf8')
  const marker = "  new sqs.Queue(stack, 'Queue')\n"
  if (!app.includes(marker)) throw new Error('makeCdkApp output changed: cannot add the lookup')
  fs.writeFileSync(
    path.join(appDir, 'app.js'),
    app.replace(
      marker,
      marker +
        `  const found = ssm.StringParameter.valueFromLookup(stack, ${JSON.stringify(LOOKUP_PARAM)})\n` +
        "  new ssm.StringParameter(stack, 'LookedUp', { parameterName: '/cdk-mfa-test/' + s.name + '/looked-up', stringValue: found })\n",
    ),
  )
  if (pluginConfig !== undefined) {
    fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify(pluginConfig, null, 2))
  }
  const cacheDir = path.join(home.home, 'cache')
  const env = { AWS_ENDPOINT_URL_STS: stub.url, CDK_MFA_RS_CACHE_DIR: cacheDir }
  const run = (args, extraEnv = {}) => runCdk(args, { cwd: appDir, home, motoUrl: moto.url, env: { ...env, ...extraEnv } })
  return { home, appDir, stacks, env, cacheDir, run }
}

/** Bootstrap A and B once per moto (pipeline style); the CDKToolkit stacks live in moto. */
let bootstrapped
function bootstrap() {
  bootstrapped ??= (async () => {
    const w = world('Boot', { pluginConfig: { assumeRole: {} } })
    const from = stub.calls.length
    const r = await w.run(['bootstrap', ...ACCOUNTS.map((a) => `aws://${a}/us-east-1`)], PIPELINE_KEYS)
    return { ...r, calls: stub.calls.slice(from) }
  })()
  return bootstrapped
}

const assumeRoleCalls = (calls = stub.calls) => calls.filter((c) => c.action === 'AssumeRole')
const okRoles = (calls = stub.calls) => new Set(assumeRoleCalls(calls).filter((c) => c.status === 200).map((c) => c.roleArn))
const gstCalls = () => stub.calls.filter((c) => c.action === 'GetSessionToken')
const out = (r) => `${r.stdout}\n${r.stderr}`

async function assertDeployed(t, w) {
  for (const s of w.stacks) {
    const names = (await listStacks(moto.url, s.account)).map((x) => `${x.name}:${x.status}`)
    t.true(names.includes(`${s.name}:CREATE_COMPLETE`), `stacks in ${s.account}: ${names}`)
    t.is(await getSsmParameter(moto.url, s.account, `/cdk-mfa-test/${s.name}`), s.account)
    t.is(await getSsmParameter(moto.url, s.account, `/cdk-mfa-test/${s.name}/looked-up`), `looked-up-in-${s.account}`, 'the lookup read its own account')
  }
  // The lookups were recorded for the next synth.
  const ctx = JSON.parse(fs.readFileSync(path.join(w.appDir, 'cdk.context.json'), 'utf8'))
  for (const acct of ACCOUNTS) {
    const key = Object.keys(ctx).find((k) => k.startsWith(`ssm:account=${acct}:`) && k.includes(LOOKUP_PARAM))
    t.truthy(key, `cdk.context.json has the ${acct} lookup: ${Object.keys(ctx)}`)
    t.is(ctx[key], `looked-up-in-${acct}`)
  }
}

test.serial('pipeline: env keys + assumeRole {} → cdk-readOnlyRole for lookups, cdk-writeRole for bootstrap and deploy', async (t) => {
  const boot = await bootstrap()
  t.is(boot.code, 0, `cdk bootstrap failed:\n${out(boot)}`)
  t.log(`bootstrap: ${boot.durationMs} ms`)
  for (const acct of ACCOUNTS) {
    t.regex(boot.stderr, new RegExp(`cdk-mfa-rs: account ${acct} \\(ForWriting\\) → role ${writeRole(acct)} via the default credentials`))
    t.true(okRoles(boot.calls).has(writeRole(acct)), `bootstrap assumed ${writeRole(acct)}`)
    const names = (await listStacks(moto.url, acct)).map((x) => `${x.name}:${x.status}`)
    t.true(names.includes('CDKToolkit:CREATE_COMPLETE'), `${acct}: ${names}`)
  }

  const w = world('Pipe', { pluginConfig: { assumeRole: {} } })
  // 1. cdk synth: only the context lookups need AWS, ForReading → cdk-readOnlyRole, nothing else.
  stub.clearCalls()
  const synth = await w.run(['synth', '--quiet'], PIPELINE_KEYS)
  t.log(`synth (2 lookups): ${synth.durationMs} ms`)
  t.is(synth.code, 0, `cdk synth failed:\n${out(synth)}`)
  let roles = okRoles()
  for (const acct of ACCOUNTS) {
    t.true(roles.has(readRole(acct)), `lookup in ${acct} via ${readRole(acct)}; assumed: ${[...roles]}`)
    t.false(roles.has(writeRole(acct)), 'a lookup needs no write role')
    t.regex(synth.stderr, new RegExp(`cdk-mfa-rs: account ${acct} \\(ForReading\\) → role ${readRole(acct)} via the default credentials`))
    t.notRegex(synth.stderr, /\(ForWriting\)/)
  }
  const synthCalls = [...stub.calls]

  // 2. cdk deploy: ForWriting → cdk-writeRole (the CLI also reads the current templates ForReading).
  stub.clearCalls()
  const deploy = await w.run(DEPLOY, PIPELINE_KEYS)
  t.log(`deploy (2 stacks): ${deploy.durationMs} ms`)
  t.is(deploy.code, 0, `cdk deploy failed:\n${out(deploy)}`)
  roles = okRoles()
  for (const acct of ACCOUNTS) {
    t.true(roles.has(writeRole(acct)), `deploy to ${acct} via ${writeRole(acct)}; assumed: ${[...roles]}`)
    t.regex(deploy.stderr, new RegExp(`cdk-mfa-rs: account ${acct} \\(ForWriting\\) → role ${writeRole(acct)} via the default credentials`))
  }
  // Our role calls (synth + deploy) were made with the pipeline's keys, without any MFA parameter.
  const allCalls = [...synthCalls, ...stub.calls]
  for (const c of assumeRoleCalls(allCalls).filter((c) => /role\/cdk-(readOnly|write)Role$/.test(c.roleArn))) {
    t.is(c.accessKeyId, PIPELINE_KEYS.AWS_ACCESS_KEY_ID)
    t.false(c.hasSessionToken)
  }
  t.is(allCalls.filter((c) => c.action === 'GetSessionToken').length, 0, 'no GetSessionToken')
  for (const c of allCalls) {
    t.is(c.serialNumber, null, `${c.action} ${c.roleArn}: no SerialNumber`)
    t.is(c.tokenCode, null, `${c.action} ${c.roleArn}: no TokenCode`)
  }
  await assertDeployed(t, w)
  for (const o of [out(boot), out(synth), out(deploy)]) t.false(o.includes(PIPELINE_KEYS.AWS_SECRET_ACCESS_KEY))
})

test.serial('MFA laptop: sourceProfile with mfa_serial, no CDK_MFA_CODE → 1 prompt, 1 GetSessionToken for both accounts × both modes; next deploy: none', async (t) => {
  await bootstrap()
  const w = world('Mfa', {
    pluginConfig: { assumeRole: { sourceProfile: 'shared' } },
    // No [default]: the CLI has no credentials of its own and asks the plugin for everything.
    awsConfig: `[profile shared]\nregion = us-east-1\nmfa_serial = ${SERIAL}\n`,
    awsCredentials: `[shared]\naws_access_key_id = AKIASHAREDSTATIC0001\naws_secret_access_key = ${SHARED_SECRET}\n`,
  })
  const deployInPty = (answers) =>
    runInPty(CDK_BIN, [...DEPLOY, '--no-notices'], {
      env: cdkEnv({ home: w.home, motoUrl: moto.url, env: { ...w.env, CDK_MFA_CODE: undefined } }),
      cwd: w.appDir,
      answers,
      timeoutMs: 150000,
    })

  const t0 = Date.now()
  const first = await deployInPty([CODE])
  t.log(`first deploy in a pty (lookups + 2 stacks, 1 prompt): ${Date.now() - t0} ms`)
  t.is(first.error, null)
  t.false(first.timedOut, first.transcript)
  t.is(first.exitCode, 0, first.transcript)
  t.is(first.prompts, 1, first.transcript)
  t.is((first.transcript.match(/MFA token for /g) || []).length, 1, 'exactly one prompt in the transcript')
  t.regex(first.transcript, new RegExp(`MFA token for ${SERIAL.replace(/[/]/g, '\\/')} \\(profile shared\\): `))
  t.false(first.transcript.includes(CODE), 'the code is not echoed')
  t.false(first.transcript.includes(SHARED_SECRET))

  const gst = gstCalls()
  t.is(gst.length, 1, 'one GetSessionToken')
  t.is(gst[0].serialNumber, SERIAL)
  t.is(gst[0].tokenCode, CODE)
  t.is(gst[0].accessKeyId, 'AKIASHAREDSTATIC0001')
  const roles = okRoles()
  for (const acct of ACCOUNTS) {
    t.true(roles.has(readRole(acct)), `lookup in ${acct}: ${[...roles]}`)
    t.true(roles.has(writeRole(acct)), `deploy to ${acct}: ${[...roles]}`)
    t.regex(first.transcript, new RegExp(`cdk-mfa-rs: account ${acct} \\(ForReading\\) → role ${readRole(acct)} via profile shared`))
    t.regex(first.transcript, new RegExp(`cdk-mfa-rs: account ${acct} \\(ForWriting\\) → role ${writeRole(acct)} via profile shared`))
  }
  for (const c of assumeRoleCalls()) {
    t.is(c.serialNumber, null, `AssumeRole ${c.roleArn}: no SerialNumber (the MFA session carries it)`)
    t.is(c.tokenCode, null)
  }
  for (const c of assumeRoleCalls().filter((c) => /role\/cdk-(readOnly|write)Role$/.test(c.roleArn))) {
    t.true(c.hasSessionToken, `${c.roleArn} assumed with the MFA session`)
  }
  await assertDeployed(t, w)

  stub.clearCalls()
  const t1 = Date.now()
  const second = await deployInPty([])
  t.log(`second deploy in a pty (cached): ${Date.now() - t1} ms`)
  t.is(second.exitCode, 0, second.transcript)
  t.is(second.prompts, 0, second.transcript)
  t.is(gstCalls().length, 0, 'no GetSessionToken on the second run')
  t.is(assumeRoleCalls().filter((c) => /role\/cdk-(readOnly|write)Role$/.test(c.roleArn)).length, 0, 'role credentials from the disk cache')
})

test.serial('context keys drop-in: -c writeIamRoleName=deploy-{ACCOUNT_ID} and readIamRoleName in cdk.json, no assumeRole section', async (t) => {
  await bootstrap()
  const w = world('Ctx', { context: { 'assume-role-credentials:readIamRoleName': 'lookup-{ACCOUNT_ID}' } })
  t.false(fs.existsSync(path.join(w.appDir, 'cdkmultiprofileplugin.json')))
  const deploy = await w.run([...DEPLOY, '-c', 'assume-role-credentials:writeIamRoleName=deploy-{ACCOUNT_ID}'], PIPELINE_KEYS)
  t.log(`deploy: ${deploy.durationMs} ms`)
  t.is(deploy.code, 0, `cdk deploy failed:\n${out(deploy)}`)
  const roles = okRoles()
  for (const acct of ACCOUNTS) {
    t.true(roles.has(readRole(acct, `lookup-${acct}`)), `lookup role of ${acct}: ${[...roles]}`)
    t.true(roles.has(writeRole(acct, `deploy-${acct}`)), `deploy role of ${acct}: ${[...roles]}`)
    t.false(roles.has(readRole(acct)))
    t.false(roles.has(writeRole(acct)))
  }
  await assertDeployed(t, w)
})

test.serial('a refused AssumeRole fails cdk deploy with one line naming the role, the base and STS\'s message', async (t) => {
  await bootstrap()
  const w = world('Deny', { pluginConfig: { assumeRole: {} } })
  const denied = writeRole(A)
  stub.setFaults({ denyRoles: [denied] })
  const deploy = await w.run(DEPLOY, PIPELINE_KEYS)
  t.log(`failing deploy: ${deploy.durationMs} ms`)
  t.not(deploy.code, 0, out(deploy))
  const refused = stub.calls.filter((c) => c.roleArn === denied)
  t.true(refused.length >= 1)
  t.true(refused.every((c) => c.errorCode === 'AccessDenied'))

  const lines = out(deploy).split(/\r?\n/)
  const ours = lines.filter((l) => l.includes(`STS refused AssumeRole into ${denied}`))
  t.true(ours.length >= 1, `no error line from cdk-mfa-rs in:\n${out(deploy)}`)
  t.is(ours.length, 1, 'reported once')
  const line = ours[0]
  t.log(line)
  // The whole message, from our prefix to the end of STS's sentence, on this one line.
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  t.regex(
    line,
    new RegExp(
      `^\\W*cdk-mfa-rs: account ${A} \\(ForWriting\\) → role ${esc(denied)} via the default credentials \\(environment keys\\): ` +
        `STS refused AssumeRole into ${esc(denied)}: AccessDenied: User: \\S+ is not authorized to perform: sts:AssumeRole on resource: ${esc(denied)}\\s*$`,
    ),
  )
  t.true(line.includes(`account ${A} (ForWriting) → role ${denied} via the default credentials`), line)
  t.true(line.includes(`is not authorized to perform: sts:AssumeRole on resource: ${denied}`), line)
  t.false(line.includes(PIPELINE_KEYS.AWS_SECRET_ACCESS_KEY))
  // Nothing was deployed into the account whose role was refused.
  const names = (await listStacks(moto.url, A)).map((x) => x.name)
  t.false(names.includes(w.stacks[0].name), `${names}`)
})

/**
 * A pipeline's two commands with one identity: `cdk synth` (its lookups need only the read role),
 * then `cdk deploy`. Returns the deploy; the stub log keeps the calls of both.
 */
async function synthThenDeploy(t, w, env, identity) {
  const synth = await w.run(['synth', '--quiet'], env)
  t.log(`synth (${identity}, 2 lookups): ${synth.durationMs} ms`)
  t.is(synth.code, 0, `cdk synth failed:\n${out(synth)}`)
  const roles = okRoles()
  for (const acct of ACCOUNTS) {
    t.regex(synth.stderr, new RegExp(`account ${acct} \\(ForReading\\) → role ${readRole(acct)} via the default credentials \\(${identity}\\)`))
    t.true(roles.has(readRole(acct)), `lookup in ${acct} via ${readRole(acct)}; assumed: ${[...roles]}`)
    t.false(roles.has(writeRole(acct)), 'a lookup needs no write role')
  }
  t.notRegex(synth.stderr, /\(ForWriting\)/)
  const deploy = await w.run(DEPLOY, env)
  t.log(`deploy (${identity}): ${deploy.durationMs} ms`)
  t.is(deploy.code, 0, `cdk deploy failed:\n${out(deploy)}`)
  return deploy
}

/** The two cdk-*Role AssumeRole calls per account of synth + deploy (lookup, deploy), all made by `key`. */
function assertRolesAssumedBy(t, keys) {
  const allowed = keys instanceof Set ? keys : new Set([keys])
  const ours = assumeRoleCalls().filter((c) => /role\/cdk-(readOnly|write)Role$/.test(c.roleArn) && c.status === 200)
  for (const acct of ACCOUNTS) {
    t.true(ours.some((c) => c.roleArn === readRole(acct)), `lookup role of ${acct}`)
    t.true(ours.some((c) => c.roleArn === writeRole(acct)), `deploy role of ${acct}`)
  }
  for (const c of ours) {
    t.true(allowed.has(c.accessKeyId), `${c.roleArn} assumed by ${c.accessKeyId}, expected ${[...allowed]}`)
    t.is(c.serialNumber, null)
  }
}

/** `cdk-mfa-rs status` (text and --json) names `kind` as the source of the conventional role. */
async function assertStatusSource(t, w, env, kind) {
  const e = cdkEnv({ home: w.home, motoUrl: moto.url, env: { ...w.env, ...env } })
  const text = await cli(['status'], { env: e, cwd: w.appDir })
  t.is(text.code, 0, text.stderr)
  t.regex(text.stdout, new RegExp(`any other\\s+read/write\\s+roles cdk-readOnlyRole / cdk-writeRole via the default credentials \\(${kind}\\)`))
  const json = await cli(['status', '--json'], { env: e, cwd: w.appDir })
  t.is(JSON.parse(json.stdout).everyOtherAccount.source, kind)
}

test.serial('CodeBuild/ECS: container credentials on 127.0.0.1 → cdk synth (lookups) and cdk deploy assume both roles as the container identity', async (t) => {
  await bootstrap()
  const container = await startContainerCredentials({ token: 'container-auth-token' })
  try {
    // As a CodeBuild image has it: a [default] section with only a region. It holds no
    // credentials, so the chain passes over it to the container's (the label must say so).
    const w = world('Ecs', { pluginConfig: { assumeRole: {} }, awsConfig: '[default]\nregion = us-east-1\n' })
    stub.clearCalls()
    const env = { AWS_CONTAINER_CREDENTIALS_FULL_URI: container.uri, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-auth-token' }
    const deploy = await synthThenDeploy(t, w, env, 'container')
    await assertStatusSource(t, w, env, 'container')
    for (const acct of ACCOUNTS) {
      t.regex(deploy.stderr, new RegExp(`account ${acct} \\(ForReading\\) → role ${readRole(acct)} via the default credentials \\(container\\)`))
      t.regex(deploy.stderr, new RegExp(`account ${acct} \\(ForWriting\\) → role ${writeRole(acct)} via the default credentials \\(container\\)`))
    }
    assertRolesAssumedBy(t, container.credentials.accessKeyId)
    // Fetched (by the CLI for itself, and by the plugin) with the container's authorization token.
    t.true(container.calls.length >= 1)
    t.true(container.calls.every((c) => c.status === 200 && c.authorization === 'container-auth-token'))
    await assertDeployed(t, w)
    t.false(out(deploy).includes(container.credentials.secretAccessKey))
  } finally {
    await container.stop()
  }
})

test.serial('EC2 instance: IMDSv2 on 127.0.0.1 (AWS_EC2_METADATA_SERVICE_ENDPOINT) → cdk synth (lookups) assumes the read roles as the instance role', async (t) => {
  await bootstrap()
  const imds = await startInstanceMetadata()
  try {
    const w = world('Ec2', { pluginConfig: { assumeRole: {} }, awsConfig: '[default]\nregion = us-east-1\n' })
    stub.clearCalls()
    // Off EC2 (no i-… DMI tag) the CDK CLI sets AWS_EC2_METADATA_DISABLED=true when it is unset,
    // for itself and so for the plugin in its process; it leaves an explicit value alone.
    const env = { AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url }
    const synth = await w.run(['synth', '--quiet'], env)
    t.log(`synth (instance, 2 lookups): ${synth.durationMs} ms`)
    t.is(synth.code, 0, `cdk synth failed:\n${out(synth)}`)
    const ours = assumeRoleCalls().filter((c) => /role\/cdk-(readOnly|write)Role$/.test(c.roleArn) && c.status === 200)
    for (const acct of ACCOUNTS) {
      t.regex(synth.stderr, new RegExp(`account ${acct} \\(ForReading\\) → role ${readRole(acct)} via the default credentials \\(instance\\)`))
      t.true(ours.some((c) => c.roleArn === readRole(acct)), `lookup role of ${acct}`)
    }
    t.false(ours.some((c) => /cdk-writeRole$/.test(c.roleArn)), 'a lookup needs no write role')
    for (const c of ours) t.is(c.accessKeyId, imds.credentials.accessKeyId, `${c.roleArn} assumed as the instance role`)
    // IMDSv2 only: every metadata read carried a session token from the PUT.
    t.true(imds.calls.some((c) => c.method === 'PUT' && c.status === 200))
    t.true(imds.calls.some((c) => c.path.endsWith(`/${imds.roleName}`) && c.status === 200))
    t.true(imds.calls.filter((c) => c.method === 'GET').every((c) => c.status === 200), JSON.stringify(imds.calls))
    // The lookups read each account's own parameter.
    const ctx = JSON.parse(fs.readFileSync(path.join(w.appDir, 'cdk.context.json'), 'utf8'))
    for (const acct of ACCOUNTS) {
      const key = Object.keys(ctx).find((k) => k.startsWith(`ssm:account=${acct}:`) && k.includes(LOOKUP_PARAM))
      t.is(ctx[key], `looked-up-in-${acct}`)
    }
    await assertStatusSource(t, w, env, 'instance')
    t.false(out(synth).includes(imds.credentials.secretAccessKey))
  } finally {
    await imds.stop()
  }
})

test.serial('GitHub Actions OIDC: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN → cdk synth (lookups) and cdk deploy assume both roles as the web identity role', async (t) => {
  await bootstrap()
  const w = world('Oidc', { pluginConfig: { assumeRole: {} } })
  const ciRole = 'arn:aws:iam::123456789012:role/github-actions'
  const jwt = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImdoYSJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUvYXBwOnJlZjpyZWZzL2hlYWRzL21haW4ifQ.c2lnbmF0dXJl'
  const tokenFile = path.join(w.home.home, 'oidc-token')
  fs.writeFileSync(tokenFile, jwt)
  stub.clearCalls()
  const env = { AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ciRole, AWS_ROLE_SESSION_NAME: 'gha-run-42' }
  const deploy = await synthThenDeploy(t, w, env, 'web identity')
  for (const acct of ACCOUNTS) {
    t.regex(deploy.stderr, new RegExp(`account ${acct} \\(ForWriting\\) → role ${writeRole(acct)} via the default credentials \\(web identity\\)`))
  }
  // STS: the token was exchanged for the CI role, and that role's keys assumed the CDK roles.
  const exchanges = stub.calls.filter((c) => c.action === 'AssumeRoleWithWebIdentity' && c.status === 200)
  t.true(exchanges.length >= 1)
  for (const c of exchanges) {
    t.is(c.roleArn, ciRole)
    t.is(c.webIdentityToken, jwt)
  }
  // The plugin exchanges the token once per process (synth, deploy; the CLI exchanges it for itself
  // too): every role call of the plugin was made with keys issued for the CI role.
  const issued = new Set(exchanges.map((c) => c.issuedAccessKeyId))
  const ours = assumeRoleCalls().filter((c) => /role\/cdk-(readOnly|write)Role$/.test(c.roleArn) && c.status === 200)
  const used = new Set(ours.map((c) => c.accessKeyId))
  t.true(used.size >= 1 && used.size <= 2, `one web identity session per process for the plugin: ${[...used]}`)
  assertRolesAssumedBy(t, issued)
  await assertDeployed(t, w)
})
