'use strict'
// The built addon through a fake CDK plugin host: contract shape, modes, single flight,
// configuration precedence and every user-facing error of issue "plugin works on the real CDK CLI".
const test = require('ava')
const { startStsStub } = require('./helpers/sts-stub')
const { makeWorld, loadSource } = require('./helpers/plugin')

const A = '111111111111'
const B = '222222222222'
const C = '333333333333'

let stub
const worlds = []
function world(opts) {
  const w = makeWorld(opts)
  worlds.push(w)
  return w
}
test.before(async () => {
  stub = await startStsStub()
})
test.after.always(async () => {
  if (stub) await stub.stop()
  for (const w of worlds) w.cleanup()
})
test.beforeEach(() => {
  stub.resetFaults()
  stub.clearCalls()
})

const STATIC = `
[profile dev]
aws_access_key_id = AKIADEVSTATICKEY0001
aws_secret_access_key = dev-secret-canary
region = eu-west-1
[profile shared]
aws_access_key_id = AKIASHAREDKEY0000001
aws_secret_access_key = shared-secret-canary
[profile reader]
role_arn = arn:aws:iam::${B}:role/Reader
source_profile = shared
external_id = ext-42
role_session_name = reader-session
duration_seconds = 1800
[profile writer]
role_arn = arn:aws:iam::${B}:role/Writer
source_profile = shared
`

test.serial('exports version "1" and init registers one source named cdk-mfa-rs, synchronously', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'dev' } } } })
  const { plugin, registered, source } = loadSource(w)
  t.is(plugin.version, '1')
  t.is(typeof plugin.init, 'function')
  t.is(registered.length, 1)
  t.is(source.name, 'cdk-mfa-rs')
  const avail = source.isAvailable()
  t.true(avail instanceof Promise)
  t.true(await avail)
  t.true(await source.canProvideCredentials(A))
  t.false(await source.canProvideCredentials(B))
})

test.serial('static keys: no session token, no expiration key at all; same object shape per mode', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'dev' } } } })
  const { source } = loadSource(w)
  for (const mode of [0, 1]) {
    const c = await source.getProvider(A, mode, { supportsV3Providers: true })
    t.is(c.accessKeyId, 'AKIADEVSTATICKEY0001')
    t.is(c.secretAccessKey, 'dev-secret-canary')
    t.false('sessionToken' in c)
    t.false('expiration' in c)
  }
  await t.throwsAsync(source.getProvider(A, 2, {}), { message: /unknown credential mode 2/ })
  t.is(stub.calls.length, 0)
})

test.serial('role profile: expiration is a Date, profile options reach AssumeRole, read/write split by mode', async (t) => {
  const w = world({
    config: STATIC,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [B]: { read: 'reader', write: 'writer' } } } },
  })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: stub.url })
  const read = await source.getProvider(B, 0, { supportsV3Providers: true })
  t.true(read.expiration instanceof Date)
  t.true(read.expiration.getTime() > Date.now() + 20 * 60 * 1000)
  t.truthy(read.sessionToken)
  const write = await source.getProvider(B, 1, { supportsV3Providers: true })
  t.not(write.accessKeyId, read.accessKeyId)
  const calls = stub.calls.filter((c) => c.action === 'AssumeRole')
  t.deepEqual(calls.map((c) => c.roleArn), [`arn:aws:iam::${B}:role/Reader`, `arn:aws:iam::${B}:role/Writer`])
  t.is(calls[0].externalId, 'ext-42')
  t.is(calls[0].roleSessionName, 'reader-session')
  t.is(Number(calls[0].durationSeconds), 1800)
  t.is(calls[0].accessKeyId, 'AKIASHAREDKEY0000001')
  t.is(calls[1].externalId, null)
})

test.serial('single flight: concurrent and repeated calls for one account+mode make one STS call', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [B]: 'writer' } } } })
  stub.setFaults({ latencyMs: 200 })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: stub.url })
  const results = await Promise.all(Array.from({ length: 8 }, () => source.getProvider(B, 1, { supportsV3Providers: true })))
  t.is(new Set(results.map((r) => r.accessKeyId)).size, 1)
  await source.getProvider(B, 1, { supportsV3Providers: true })
  t.is(stub.calls.filter((c) => c.action === 'AssumeRole').length, 1)
})

test.serial('precedence: global > project file > package.json, merged per account', async (t) => {
  const w = world({
    config: STATIC,
    project: {
      'package.json': { name: 'app', awsProfiles: { [A]: 'shared', [B]: 'shared', [C]: 'shared' } },
      'cdkmultiprofileplugin.json': { awsProfiles: { [B]: 'dev', [C]: 'dev' } },
    },
    global: { awsProfiles: { [C]: 'writer' } },
  })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: stub.url })
  t.is((await source.getProvider(A, 0, {})).accessKeyId, 'AKIASHAREDKEY0000001')
  t.is((await source.getProvider(B, 0, {})).accessKeyId, 'AKIADEVSTATICKEY0001')
  // C → writer → an AssumeRole into the Writer role.
  await source.getProvider(C, 1, {})
  t.deepEqual(stub.calls.map((c) => c.roleArn), [`arn:aws:iam::${B}:role/Writer`])
})

test.serial('CDK_MULTI_PROFILE_PLUGIN_CONFIG moves the global file', async (t) => {
  const w = world({ config: STATIC, global: { awsProfiles: { [A]: 'shared' } } })
  const other = require('node:path').join(w.root, 'elsewhere.json')
  require('node:fs').writeFileSync(other, JSON.stringify({ awsProfiles: { [A]: 'dev' } }))
  const { source } = loadSource(w, { CDK_MULTI_PROFILE_PLUGIN_CONFIG: other })
  t.is((await source.getProvider(A, 0, {})).accessKeyId, 'AKIADEVSTATICKEY0001')
})

test.serial('disable switches: 1/true/yes disable, 0/false do not', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'dev' } } } })
  for (const [name, value, disabled] of [
    ['CDK_MFA_RS_DISABLE', '1', true],
    ['CDK_MFA_RS_DISABLE', 'true', true],
    ['IGNORE_CDK_MULTI_PROFILE_PLUGIN', 'yes', true],
    ['IGNORE_CDK_MULTI_PROFILE_PLUGIN', 'true', true],
    ['CDK_MFA_RS_DISABLE', '0', false],
    ['IGNORE_CDK_MULTI_PROFILE_PLUGIN', 'false', false],
  ]) {
    const { source } = loadSource(w, { [name]: value })
    t.is(await source.isAvailable(), !disabled, `${name}=${value}`)
    t.is(await source.canProvideCredentials(A), !disabled, `${name}=${value}`)
  }
})

test.serial('invalid JSON in each config place: named with line and column, surfaced by getProvider', async (t) => {
  const broken = '{\n  "awsProfiles": {\n    "111111111111": "dev",\n  }\n}\n'
  for (const place of ['package.json', 'cdkmultiprofileplugin.json', 'global']) {
    const w = world(place === 'global' ? { config: STATIC, global: broken } : { config: STATIC, project: { [place]: broken } })
    const { source } = loadSource(w)
    // A broken configuration must not look like "no mapping": the error reaches the user.
    t.true(await source.canProvideCredentials(A))
    const e = await t.throwsAsync(source.getProvider(A, 0, {}))
    const file = place === 'global' ? '.cdkmultiprofileplugin.json' : place
    t.regex(e.message, new RegExp(`invalid JSON in \\S*${file.replace('.', '\\.')} at line 4, column 3`))
    t.false(e.message.includes('\n'), 'one line')
  }
})

test.serial('account key not 12 digits and wrong value types name the file and key', async (t) => {
  let w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { 1234: 'dev' } } } })
  let e = await t.throwsAsync(loadSource(w).source.getProvider(A, 0, {}))
  t.regex(e.message, /cdkmultiprofileplugin\.json: awsProfiles key "1234" is not a 12-digit AWS account id/)
  w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: ['dev'] } } } })
  e = await t.throwsAsync(loadSource(w).source.getProvider(A, 0, {}))
  t.regex(e.message, /"awsProfiles\.111111111111" must be a profile name or \{"read": …, "write": …\}, not an array/)
})

test.serial('a mapped profile that does not exist: names it, the files read and the profiles there', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'typo' } } } })
  const { source } = loadSource(w)
  const e = await t.throwsAsync(source.getProvider(A, 0, {}))
  t.regex(e.message, /^cdk-mfa-rs: account 111111111111 \(ForReading\): AWS profile "typo" does not exist/)
  t.true(e.message.includes(`${w.home}/.aws/config`))
  t.true(e.message.includes('profiles there: dev, reader, shared, writer'))
})

test.serial('STS failure names the profile, the role and the service message, and no secret', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [B]: 'writer' } } } })
  stub.setFaults({ denyRoles: [`arn:aws:iam::${B}:role/Writer`] })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: stub.url })
  const e = await t.throwsAsync(source.getProvider(B, 1, {}))
  t.regex(e.message, /account 222222222222 \(ForWriting\) → profile writer/)
  t.regex(e.message, /AssumeRole into arn:aws:iam::222222222222:role\/Writer: AccessDenied: User: .* is not authorized to perform: sts:AssumeRole/)
  t.false(e.message.includes('shared-secret-canary'))
  t.false(e.message.includes('\n'))
})

test.serial('one access key never serves two accounts', async (t) => {
  const w = world({ config: STATIC, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'dev', [C]: 'dev' } } } })
  const { source } = loadSource(w)
  await source.getProvider(A, 0, {})
  const e = await t.throwsAsync(source.getProvider(C, 0, {}))
  t.regex(e.message, /same credentials for accounts 111111111111 and 333333333333/)
})

test.serial('region and endpoint: profile region picks the regional STS; AWS_ENDPOINT_URL is honoured', async (t) => {
  const w = world({
    config: STATIC + `[profile eu]\nrole_arn = arn:aws:iam::${C}:role/Eu\nsource_profile = shared\nregion = eu-central-1\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [C]: 'eu' } } },
  })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL: stub.url })
  await source.getProvider(C, 0, {})
  t.is(stub.calls.length, 1)
  t.is(stub.calls[0].region, 'eu-central-1')
})

test.serial('an AccessDenied for a role whose name contains "MFA" is not mistaken for a rejected code', async (t) => {
  const w = world({
    config: STATIC + `[profile mfarole]\nrole_arn = arn:aws:iam::${C}:role/AdminMFARole\nsource_profile = shared\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [C]: 'mfarole' } } },
  })
  stub.setFaults({ denyRoles: [`arn:aws:iam::${C}:role/AdminMFARole`] })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: stub.url })
  const e = await t.throwsAsync(source.getProvider(C, 0, {}))
  t.regex(e.message, /STS refused AssumeRole into arn:aws:iam::333333333333:role\/AdminMFARole: AccessDenied: User: .* is not authorized/)
  t.notRegex(e.message, /MFA code/)
})

test.serial('profile endpoint_url and a services section point our STS calls at the configured endpoint', async (t) => {
  const w = world({
    config:
      STATIC +
      `[profile direct]\nrole_arn = arn:aws:iam::${C}:role/Direct\nsource_profile = shared\nendpoint_url = ${stub.url}\n` +
      `[profile viaservices]\nrole_arn = arn:aws:iam::${B}:role/ViaServices\nsource_profile = shared\nservices = local-sts\n` +
      `[services local-sts]\nsts =\n  endpoint_url = ${stub.url}\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [C]: 'direct', [B]: 'viaservices' } } },
  })
  // No AWS_ENDPOINT_URL*: only the profiles say where STS is.
  const { source } = loadSource(w)
  await source.getProvider(C, 0, {})
  await source.getProvider(B, 0, {})
  t.deepEqual(stub.calls.map((c) => c.roleArn).sort(), [`arn:aws:iam::${B}:role/ViaServices`, `arn:aws:iam::${C}:role/Direct`])
})

test.serial('web identity profile as the source of a role: aws-config exchanges the token, we assume the role', async (t) => {
  const tokenFile = require('node:path').join(require('node:os').tmpdir(), `cdk-mfa-rs-wi-${process.pid}`)
  require('node:fs').writeFileSync(tokenFile, 'header.payload.signature')
  const w = world({
    config:
      `[profile wi]\nrole_arn = arn:aws:iam::${A}:role/WebIdentity\nweb_identity_token_file = ${tokenFile}\nrole_session_name = wi\n` +
      `[profile deploy]\nrole_arn = arn:aws:iam::${B}:role/Deploy\nsource_profile = wi\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [B]: 'deploy' } } },
  })
  const { source } = loadSource(w, { AWS_ENDPOINT_URL_STS: stub.url })
  const c = await source.getProvider(B, 1, {})
  t.true(c.expiration instanceof Date)
  t.deepEqual(
    stub.calls.map((x) => [x.action, x.roleArn]),
    [
      ['AssumeRoleWithWebIdentity', `arn:aws:iam::${A}:role/WebIdentity`],
      ['AssumeRole', `arn:aws:iam::${B}:role/Deploy`],
    ],
  )
  require('node:fs').rmSync(tokenFile)
})
