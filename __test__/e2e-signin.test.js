'use strict'
// End to end, issue "sign-in sources": the real CDK CLI deploys through profiles whose credentials
// come from IAM Identity Center (a token in ~/.aws/sso/cache + a local SSO portal stub) and from
// `aws login` (a login cache file as the AWS CLI writes it + a local stub of the sign-in token
// endpoint for the refresh), directly mapped and as the source of role profiles. STS calls go
// through the recording stub to moto; the CloudFormation stacks land in moto.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { motoSuite, writeAwsConfig, makeCdkApp, runCdk, cdkEnv, listStacks, createStaticKeys } = require('./helpers/cdk')
const { startSsoPortal, startSsoOidc, startSigninService, startContainerCredentials, startInstanceMetadata, writeSsoToken, writeLoginSession, fakeKeys } = require('./helpers/signin-stubs')
const { resolveInChild } = require('./helpers/child')
const { cli } = require('./helpers/cli')

const PLUGIN = path.resolve(__dirname, '..')
const A = '111111111111'
const B = '222222222222'
const HUB = '123456789012' // moto's default account: where made-up keys live
const DEPLOY = ['deploy', '--all', '--require-approval', 'never', '--method=direct']
const CODE = '482913'
const out = (r) => `${r.stdout}\n${r.stderr}`
const hours = (h) => new Date(Date.now() + h * 3600 * 1000)

const suite = motoSuite(test, { stub: true })
let portal
let oidc
let signin
const keysOf = {} // account → moto keys (CreateAccessKey), so moto puts the stacks there
test.before(async () => {
  // Only the Deployer role of an account hands out that account's moto keys: other roles' keys
  // are made up, so STS's log shows which sign-in assumed which role.
  portal = await startSsoPortal({ credentialsFor: (account, role) => (role === 'Deployer' && keysOf[account]) || {} })
  oidc = await startSsoOidc({ portal })
  signin = await startSigninService()
})
test.after.always(async () => {
  if (portal) await portal.stop()
  if (oidc) await oidc.stop()
  if (signin) await signin.stop()
})

/** A HOME with AWS config + a two-stack app mapped with awsProfiles; env for the CLI. */
function world(prefix, awsConfig, awsProfiles) {
  const home = suite.home()
  writeAwsConfig(home, awsConfig)
  const appDir = path.join(home.home, 'app')
  const stacks = [
    { name: `${prefix}A`, account: A },
    { name: `${prefix}B`, account: B },
  ]
  makeCdkApp(appDir, stacks, { plugin: [PLUGIN] })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles }))
  const env = {
    AWS_ENDPOINT_URL_STS: suite.stub.url,
    AWS_ENDPOINT_URL_SSO: portal.url,
    AWS_ENDPOINT_URL_SSO_OIDC: oidc.url,
    AWS_ENDPOINT_URL_SIGNIN: signin.url,
    CDK_MFA_RS_CACHE_DIR: path.join(home.home, 'cache'),
  }
  const run = (args, extra = {}) => runCdk(args, { cwd: appDir, home, motoUrl: suite.moto.url, env: { ...env, ...extra } })
  const child = (requests, extra = {}) =>
    resolveInChild({ requests }, { env: cdkEnv({ home, motoUrl: suite.moto.url, env: { ...env, ...extra } }), cwd: appDir })
  return { home, appDir, stacks, env, run, child }
}

async function assertDeployed(t, w) {
  for (const s of w.stacks) {
    const names = (await listStacks(suite.moto.url, s.account)).map((x) => `${x.name}:${x.status}`)
    t.true(names.includes(`${s.name}:CREATE_COMPLETE`), `stacks in ${s.account}: ${names}`)
  }
}

// Both accounts bootstrapped once, with plain keys (not what these tests are about).
let bootstrapped
function bootstrap() {
  bootstrapped ??= (async () => {
    keysOf[A] = await createStaticKeys(suite.moto.url, A, 'sso-a')
    const w = world('Boot', `[profile a]\nregion = us-east-1\n[profile b]\nregion = us-east-1\n`, { [A]: 'a', [B]: 'b' })
    const keysB = await createStaticKeys(suite.moto.url, B, 'boot-b')
    fs.writeFileSync(
      w.home.credentialsFile,
      `[a]\naws_access_key_id = ${keysOf[A].accessKeyId}\naws_secret_access_key = ${keysOf[A].secretAccessKey}\n` +
        `[b]\naws_access_key_id = ${keysB.accessKeyId}\naws_secret_access_key = ${keysB.secretAccessKey}\n`,
    )
    const r = await w.run(['bootstrap', `aws://${A}/us-east-1`, `aws://${B}/us-east-1`])
    if (r.code !== 0) throw new Error(`cdk bootstrap failed:\n${out(r)}`)
  })()
  return bootstrapped
}

const SSO_CONFIG = `
[profile corp]
sso_session = corp
sso_account_id = ${A}
sso_role_name = Deployer
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile hub]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = ${HUB}
sso_role_name = Hub

[profile prod]
role_arn = arn:aws:iam::${B}:role/Deployer
source_profile = hub
region = us-east-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = ${A}
sso_role_name = Legacy
region = us-east-1

[profile staging]
role_arn = arn:aws:iam::${B}:role/Staging
source_profile = corp
region = us-east-1
`

const CORP_URL = 'https://corp.awsapps.com/start'
const LEGACY_URL = 'https://legacy.awsapps.com/start'
const noMs = (d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

/** Fresh tokens of both sign-ins (sso_session corp, legacy start URL), accepted by the portal. */
function signInBoth(w, suffix = '') {
  for (const [id, token] of [['corp', `token-corp${suffix}`], [LEGACY_URL, `token-legacy${suffix}`]]) {
    writeSsoToken(w.home, id, { accessToken: token, expiresAt: hours(1), startUrl: id === 'corp' ? CORP_URL : LEGACY_URL })
    portal.tokens.add(token)
  }
}

/** corp's token, expired an hour ago, with what aws-config needs to renew it (refresh token, client, live registration). */
function writeExpiredRenewableCorp(w, accessToken, refreshToken) {
  return writeSsoToken(w.home, 'corp', {
    accessToken,
    expiresAt: hours(-1),
    startUrl: CORP_URL,
    refreshToken,
    clientId: 'client-corp',
    clientSecret: 'client-secret-corp',
    registrationExpiresAt: noMs(hours(24 * 30)),
  })
}

test.serial('IAM Identity Center: cdk deploy through an sso_session profile (mapped) and a role whose source is a legacy SSO profile; a refused refresh fails it in one line', async (t) => {
  await bootstrap()
  const w = world('Sso', SSO_CONFIG, { [A]: 'corp', [B]: 'prod' })
  signInBoth(w)
  portal.calls.length = 0
  suite.stub.clearCalls()

  const deploy = await w.run(DEPLOY)
  t.log(`deploy (2 stacks via SSO): ${deploy.durationMs} ms`)
  t.is(deploy.code, 0, `cdk deploy failed:\n${out(deploy)}`)
  await assertDeployed(t, w)
  t.regex(deploy.stderr, new RegExp(`cdk-mfa-rs: account ${A} \\(ForWriting\\) → profile corp \\(SSO\\)`))
  t.regex(deploy.stderr, new RegExp(`cdk-mfa-rs: account ${B} \\(ForWriting\\) → profile prod \\(SSO of profile hub\\)`))

  // The portal saw each profile's token for its account and role …
  const ok = portal.calls.filter((c) => c.status === 200)
  t.deepEqual([...new Set(ok.map((c) => `${c.accountId}/${c.roleName}/${c.token}`))].sort(), [`${A}/Deployer/token-corp`, `${HUB}/Hub/token-legacy`])
  // … and STS saw the hub's SSO credentials assume B's role.
  const hubKeys = new Set(ok.filter((c) => c.accountId === HUB).map((c) => c.accessKeyId))
  const intoB = suite.stub.calls.filter((c) => c.action === 'AssumeRole' && c.roleArn === `arn:aws:iam::${B}:role/Deployer`)
  t.true(intoB.length >= 1)
  for (const c of intoB) t.true(hubKeys.has(c.accessKeyId), `AssumeRole into B by ${c.accessKeyId}`)

  // Signed out: corp's token expired and the OIDC service refuses its refresh token; hub's was
  // never there. No hang, no prompt, no loop: one line with the command that signs in again.
  // (Expired tokens that cannot be renewed fail before any network call: the next test.)
  fs.rmSync(path.join(w.home.home, '.aws', 'sso', 'cache'), { recursive: true, force: true })
  writeExpiredRenewableCorp(w, 'token-corp-dead', 'sso-refresh-revoked-cdk')
  portal.calls.length = 0
  oidc.calls.length = 0
  const expired = await w.run(DEPLOY, { CDK_MFA_RS_CACHE_DIR: path.join(w.home.home, 'cache-2') })
  t.log(`deploy with expired SSO sign-ins (corp's refresh refused): ${expired.durationMs} ms, ${oidc.calls.length} OIDC calls, ${portal.calls.length} portal calls`)
  t.not(expired.code, 0)
  const lines = out(expired).split(/\r?\n/).filter((l) => l.includes('aws sso login'))
  t.log(lines.join('\n'))
  t.true(lines.length >= 1, out(expired))
  for (const l of lines) t.regex(l, /cdk-mfa-rs: account \d{12} \(For\w+\) → profile \w+ \(SSO[^)]*\): .*; run `aws sso login --profile (corp|hub)`\s*$/)
  t.true(lines.some((l) => /profile corp \(SSO\): cannot get credentials from SSO profile corp: the SSO sign-in of profile corp expired at \S+ and could not be renewed \(.*\); run `aws sso login --profile corp`/.test(l)) || lines.some((l) => /profile hub is not signed in/.test(l)), lines.join('\n'))
  t.false(/MFA token for/.test(out(expired)), 'no prompt')
  // The refresh was tried and refused, a bounded number of times (the CLI asks once per stack and mode).
  t.true(oidc.calls.length >= 1 && oidc.calls.length <= 4, JSON.stringify(oidc.calls))
  for (const c of oidc.calls) t.is(c.status, 400)
  t.true(portal.calls.every((c) => c.status === 401 && c.token === 'token-corp-dead'), 'only the dead token reached the portal, refused')
})

test.serial('IAM Identity Center without the CDK: missing and expired tokens are one line each, in milliseconds', async (t) => {
  const w = world('SsoErr', SSO_CONFIG, { [A]: 'corp', [B]: 'prod' })
  writeSsoToken(w.home, 'corp', { accessToken: 'token-corp', expiresAt: hours(-2), startUrl: 'https://corp.awsapps.com/start' })
  portal.calls.length = 0
  const r = await w.child([[A, 1], [B, 1]])
  t.is(r.code, 0, r.stderr)
  const [a, b] = r.results
  t.regex(a.error, /^cdk-mfa-rs: account 111111111111 \(ForWriting\) → profile corp \(SSO\): the SSO sign-in of profile corp expired at \S+Z; run `aws sso login --profile corp`$/)
  t.regex(b.error, /profile prod \(SSO of profile hub\): profile hub is not signed in to IAM Identity Center \(no \S+\.json\); run `aws sso login --profile hub`$/)
  for (const x of [a, b]) t.false(x.error.includes('\n'))
  t.true(a.ms < 2000 && b.ms < 2000, `${a.ms} ms, ${b.ms} ms`)
  t.is(portal.calls.length, 0)
})

test.serial('IAM Identity Center: an expired sso_session token with a refresh token is renewed (SSO OIDC stub) and written back, then used at the portal', async (t) => {
  const w = world('SsoRenew', SSO_CONFIG, { [A]: 'corp' })
  const file = writeExpiredRenewableCorp(w, 'token-stale', 'sso-refresh-initial')
  oidc.refreshTokens.add('sso-refresh-initial')
  oidc.calls.length = 0
  portal.calls.length = 0
  const r = await w.child([[A, 1]])
  t.is(r.results[0].error, undefined, r.stderr)
  t.deepEqual(oidc.calls.map((c) => [c.status, c.grantType, c.clientId, c.refreshToken]), [[200, 'refresh_token', 'client-corp', 'sso-refresh-initial']])
  const renewed = oidc.calls[0].accessToken
  t.deepEqual(portal.calls.map((c) => [c.status, c.token]), [[200, renewed]], 'the portal got the renewed token, never the stale one')
  const cached = JSON.parse(fs.readFileSync(file, 'utf8'))
  t.is(cached.accessToken, renewed)
  t.is(cached.refreshToken, oidc.calls[0].newRefreshToken)
  t.true(new Date(cached.expiresAt) > new Date())
})

test.serial('IAM Identity Center matrix without the CDK: a legacy profile mapped, an sso_session profile as a role\'s source and as assumeRole.sourceProfile', async (t) => {
  const C = '444444444444'
  const w = world('SsoMatrix', SSO_CONFIG, { [A]: 'legacy', [B]: 'staging' })
  fs.writeFileSync(path.join(w.appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [A]: 'legacy', [B]: 'staging' }, assumeRole: { sourceProfile: 'corp' } }))
  signInBoth(w, '-m')
  portal.calls.length = 0
  suite.stub.clearCalls()
  const r = await w.child([[A, 1], [B, 1], [C, 1]])
  t.is(r.code, 0, r.stderr)
  for (const x of r.results) t.is(x.error, undefined, `${x.account}: ${x.error}`)
  t.regex(r.stderr, new RegExp(`cdk-mfa-rs: account ${A} \\(ForWriting\\) → profile legacy \\(SSO\\)\n`))
  t.regex(r.stderr, new RegExp(`cdk-mfa-rs: account ${B} \\(ForWriting\\) → profile staging \\(SSO of profile corp\\)\n`))
  t.regex(r.stderr, new RegExp(`cdk-mfa-rs: account ${C} \\(ForWriting\\) → role arn:aws:iam::${C}:role/cdk-writeRole via profile corp \\(SSO\\)\n`))

  // The portal: the legacy token for the legacy profile's role; the sso_session token for corp's.
  const ok = portal.calls.filter((c) => c.status === 200)
  t.deepEqual([...new Set(ok.map((c) => `${c.accountId}/${c.roleName}/${c.token}`))].sort(), [`${A}/Deployer/token-corp-m`, `${A}/Legacy/token-legacy-m`])
  const keyOf = (token) => new Set(ok.filter((c) => c.token === token).map((c) => c.accessKeyId))
  // A: the legacy profile's portal credentials themselves, no STS call.
  t.true(keyOf('token-legacy-m').has(r.results[0].accessKeyId))
  // B and C: both roles assumed with corp's portal credentials.
  const corpKeys = keyOf('token-corp-m')
  const roleCalls = suite.stub.calls.filter((c) => c.action === 'AssumeRole' && c.status === 200)
  t.deepEqual(roleCalls.map((c) => c.roleArn).sort(), [`arn:aws:iam::${B}:role/Staging`, `arn:aws:iam::${C}:role/cdk-writeRole`])
  for (const c of roleCalls) t.true(corpKeys.has(c.accessKeyId), `${c.roleArn} assumed by ${c.accessKeyId}`)
})

test.serial('IAM Identity Center: an expired sso_session token whose refresh the OIDC service refuses is one line naming `aws sso login`, one refresh call per request', async (t) => {
  const w = world('SsoRefused', SSO_CONFIG, { [A]: 'corp', [B]: 'staging' })
  // 'sso-refresh-revoked' is not among oidc.refreshTokens: InvalidGrantException.
  const file = writeExpiredRenewableCorp(w, 'token-stale-r', 'sso-refresh-revoked')
  const before = fs.readFileSync(file, 'utf8')
  oidc.calls.length = 0
  portal.calls.length = 0
  suite.stub.clearCalls()
  const r = await w.child([[A, 1], [B, 1]], { CDK_MFA_CODE: undefined })
  t.log(r.results.map((x) => `${x.ms} ms: ${x.error}`).join('\n'))
  t.is(r.code, 0, r.stderr)
  const [a, b] = r.results
  // The cause (the sign-in expired and was not renewed), the portal's answer, the command.
  const why = 'cannot get credentials from SSO profile corp: the SSO sign-in of profile corp expired at \\S+Z and could not be renewed \\(UnauthorizedException: Session token not found or invalid\\); run `aws sso login --profile corp`$'
  t.regex(a.error, new RegExp(`^cdk-mfa-rs: account 111111111111 \\(ForWriting\\) → profile corp \\(SSO\\): ${why}`))
  t.regex(b.error, new RegExp(`^cdk-mfa-rs: account 222222222222 \\(ForWriting\\) → profile staging \\(SSO of profile corp\\): ${why}`))
  for (const x of [a, b]) {
    t.false(x.error.includes('\n'))
    t.false(x.error.includes('sso-refresh-revoked') || x.error.includes('client-secret-corp'), 'no secret in the message')
    t.true(x.ms < 10000, `${x.ms} ms`)
  }
  t.false(/MFA token for/.test(r.stderr), 'no prompt')
  // At most one refused refresh per plugin call (no retry loop). aws-config then keeps the
  // expired token, which the portal refuses (once per call); STS is never reached.
  t.true(oidc.calls.length >= 1 && oidc.calls.length <= 2, JSON.stringify(oidc.calls))
  for (const c of oidc.calls) t.deepEqual([c.status, c.grantType, c.refreshToken], [400, 'refresh_token', 'sso-refresh-revoked'])
  t.true(portal.calls.length <= 2, JSON.stringify(portal.calls))
  for (const c of portal.calls) t.deepEqual([c.status, c.token], [401, 'token-stale-r'])
  t.is(suite.stub.calls.length, 0)
  t.is(fs.readFileSync(file, 'utf8'), before, 'the token file is left as the AWS CLI wrote it')
})

test.serial('pipeline sources without the CDK: credential_source Ec2InstanceMetadata (IMDSv2 stub), EcsContainer, Environment and a credential_process profile, labelled in the notice and in status', async (t) => {
  const [C, D] = ['444444444444', '333333333333']
  const imds = await startInstanceMetadata()
  const container = await startContainerCredentials({ token: 'container-auth-token' })
  try {
    const home = suite.home()
    const procKeys = fakeKeys('ASIA')
    const script = path.join(home.home, 'creds.js')
    fs.writeFileSync(script, `process.stdout.write(${JSON.stringify(JSON.stringify({ Version: 1, AccessKeyId: procKeys.accessKeyId, SecretAccessKey: procKeys.secretAccessKey, SessionToken: procKeys.sessionToken, Expiration: hours(1).toISOString() }))})\n`)
    const role = (acct, name) => `arn:aws:iam::${acct}:role/${name}`
    const config =
      `[profile on-ec2]\nrole_arn = ${role(A, 'FromInstance')}\ncredential_source = Ec2InstanceMetadata\nregion = us-east-1\n` +
      `[profile on-ecs]\nrole_arn = ${role(B, 'FromContainer')}\ncredential_source = EcsContainer\nregion = us-east-1\n` +
      `[profile from-env]\nrole_arn = ${role(C, 'FromEnv')}\ncredential_source = Environment\nregion = us-east-1\n` +
      `[profile proc]\ncredential_process = ${process.execPath} ${script}\nregion = us-east-1\n`
    const w = world('Sources', config, { [A]: 'on-ec2', [B]: 'on-ecs', [C]: 'from-env', [D]: 'proc' })
    const envKeys = { AWS_ACCESS_KEY_ID: 'AKIAENVSOURCE0000001', AWS_SECRET_ACCESS_KEY: 'env-source-secret-canary' }
    const extra = {
      ...envKeys,
      AWS_EC2_METADATA_DISABLED: undefined, // as on an instance
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: container.uri,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-auth-token',
    }
    suite.stub.clearCalls()
    const r = await w.child([[A, 1], [B, 1], [C, 1], [D, 1]], extra)
    t.is(r.code, 0, r.stderr)
    for (const x of r.results) t.is(x.error, undefined, `${x.account}: ${x.error}`)
    const labels = [
      [A, 'profile on-ec2 (instance)'],
      [B, 'profile on-ecs (container)'],
      [C, 'profile from-env (environment keys)'],
      [D, 'profile proc (credential_process)'],
    ]
    const esc = (s) => s.replace(/[()]/g, '\\$&')
    for (const [acct, label] of labels) t.regex(r.stderr, new RegExp(`cdk-mfa-rs: account ${acct} \\(ForWriting\\) → ${esc(label)}\n`))

    // STS: each role assumed with the keys of its source.
    const by = Object.fromEntries(suite.stub.calls.filter((c) => c.action === 'AssumeRole' && c.status === 200).map((c) => [c.roleArn, c.accessKeyId]))
    t.deepEqual(by, {
      [role(A, 'FromInstance')]: imds.credentials.accessKeyId,
      [role(B, 'FromContainer')]: container.credentials.accessKeyId,
      [role(C, 'FromEnv')]: envKeys.AWS_ACCESS_KEY_ID,
    })
    t.is(r.results[3].accessKeyId, procKeys.accessKeyId)
    // IMDSv2: a token PUT, then reads that carry it.
    t.true(imds.calls.some((c) => c.method === 'PUT' && c.status === 200))
    t.true(imds.calls.filter((c) => c.method === 'GET').every((c) => c.status === 200 && c.token), JSON.stringify(imds.calls))
    t.true(container.calls.length >= 1 && container.calls.every((c) => c.status === 200 && c.authorization === 'container-auth-token'))

    // status names the same sources (no AWS call).
    const status = await cli(['status'], { env: cdkEnv({ home: w.home, motoUrl: suite.moto.url, env: { ...w.env, ...extra } }), cwd: w.appDir })
    t.is(status.code, 0, status.stderr)
    t.log(status.stdout)
    t.regex(status.stdout, new RegExp(`${A}\\s+read/write\\s+profile on-ec2 → ${role(A, 'FromInstance')} \\(instance\\)`))
    t.regex(status.stdout, new RegExp(`${B}\\s+read/write\\s+profile on-ecs → ${role(B, 'FromContainer')} \\(container\\)`))
    t.regex(status.stdout, new RegExp(`${C}\\s+read/write\\s+profile from-env → ${role(C, 'FromEnv')} \\(environment keys\\)`))
    t.regex(status.stdout, new RegExp(`${D}\\s+read/write\\s+profile proc \\(credential_process\\)`))
    for (const o of [r.stderr, status.stdout]) {
      for (const secret of [envKeys.AWS_SECRET_ACCESS_KEY, imds.credentials.secretAccessKey, container.credentials.secretAccessKey, procKeys.secretAccessKey]) t.false(o.includes(secret))
    }
  } finally {
    await imds.stop()
    await container.stop()
  }
})

const LOGIN_ARN = `arn:aws:iam::${A}:user/dev`
const LOGIN_CONFIG = `
[profile console]
login_session = ${LOGIN_ARN}
region = us-east-1

[profile admin]
role_arn = arn:aws:iam::${B}:role/Admin
source_profile = console
mfa_serial = arn:aws:iam::${A}:mfa/dev
region = us-east-1
`

test.serial('aws login: cdk deploy through a login_session profile (mapped, refreshed at the sign-in stub) and a role with MFA on its AssumeRole', async (t) => {
  await bootstrap()
  const w = world('Login', LOGIN_CONFIG, { [A]: 'console', [B]: 'admin' })
  // The cached console credentials expired a minute ago: aws-config refreshes them with the
  // refresh token and a DPoP proof signed by the session's key.
  const before = await createStaticKeys(suite.moto.url, A, 'login-old')
  const after = await createStaticKeys(suite.moto.url, A, 'login-new')
  signin.credentialsFor = () => after
  signin.refreshTokens.add('refresh-initial')
  signin.calls.length = 0
  const session = writeLoginSession(w.home, LOGIN_ARN, { keys: before, accountId: A, expiresAt: hours(-1 / 60), refreshToken: 'refresh-initial' })
  suite.stub.clearCalls()
  suite.stub.setFaults({ mfaRequiredRoles: [`arn:aws:iam::${B}:role/Admin`] })
  try {
    const deploy = await w.run(DEPLOY, { CDK_MFA_CODE: CODE })
    t.log(`deploy (2 stacks via aws login): ${deploy.durationMs} ms`)
    t.is(deploy.code, 0, `cdk deploy failed:\n${out(deploy)}`)
    await assertDeployed(t, w)
    t.regex(deploy.stderr, new RegExp(`cdk-mfa-rs: account ${A} \\(ForWriting\\) → profile console \\(login session\\)`))
    t.regex(deploy.stderr, new RegExp(`cdk-mfa-rs: account ${B} \\(ForWriting\\) → profile admin \\(login session of profile console\\)`))

    // One refresh, proven with the session's own key, and written back as the AWS CLI would.
    const refreshes = signin.calls.filter((c) => c.status === 200)
    t.is(refreshes.length, 1, JSON.stringify(signin.calls))
    t.is(refreshes[0].grantType, 'refresh_token')
    t.is(refreshes[0].refreshToken, 'refresh-initial')
    t.is(refreshes[0].clientId, 'arn:aws:signin:::devtools/same-device')
    t.true(refreshes[0].dpop.valid)
    t.is(refreshes[0].dpop.thumbprint, session.thumbprint)
    t.is(refreshes[0].dpop.htu, `${signin.url}/v1/token`)
    const cached = JSON.parse(fs.readFileSync(session.file, 'utf8'))
    t.is(cached.refreshToken, refreshes[0].newRefreshToken)
    t.is(cached.accessToken.accessKeyId, after.accessKeyId)

    // Temporary credentials: MFA went on the AssumeRole itself, made with the refreshed keys.
    const sts = suite.stub.calls
    t.is(sts.filter((c) => c.action === 'GetSessionToken').length, 0)
    const intoB = sts.filter((c) => c.action === 'AssumeRole' && c.roleArn === `arn:aws:iam::${B}:role/Admin` && c.status === 200)
    t.is(intoB.length, 1)
    t.is(intoB[0].accessKeyId, after.accessKeyId)
    t.is(intoB[0].serialNumber, `arn:aws:iam::${A}:mfa/dev`)
    t.is(intoB[0].tokenCode, CODE)
    for (const s of [before, after]) t.false(out(deploy).includes(s.secretAccessKey))
  } finally {
    suite.stub.resetFaults()
  }
})

test.serial('aws login without the CDK: assumeRole.sourceProfile; a missing or refused session is one line naming `aws login --profile`', async (t) => {
  const w = world('LoginErr', LOGIN_CONFIG, { [A]: 'console' })
  fs.writeFileSync(path.join(w.appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [A]: 'console' }, assumeRole: { sourceProfile: 'console' } }))
  const missing = await w.child([[A, 1]])
  t.regex(
    missing.results[0].error,
    /^cdk-mfa-rs: account 111111111111 \(ForWriting\) → profile console \(login session\): profile console has no `aws login` session \(no \S+\.json\); run `aws login --profile console`$/,
  )

  // The session's refresh token was revoked (its 12 hours are over): the sign-in service says so.
  signin.calls.length = 0
  writeLoginSession(w.home, LOGIN_ARN, { accountId: A, expiresAt: hours(-1), refreshToken: 'refresh-revoked' })
  const refused = await w.child([[A, 1]])
  const e = refused.results[0].error
  t.log(e)
  t.regex(e, /^cdk-mfa-rs: account 111111111111 \(ForWriting\) → profile console \(login session\): cannot get credentials from the login session of profile console: .*expired.*; run `aws login --profile console`$/)
  t.is(signin.calls.length, 1)
  t.is(signin.calls[0].error, 'TOKEN_EXPIRED')

  // A fresh session as the source of the conventional role: the role is assumed with its keys.
  const keys = await createStaticKeys(suite.moto.url, A, 'login-conv')
  writeLoginSession(w.home, LOGIN_ARN, { keys, accountId: A, expiresAt: hours(1), refreshToken: 'refresh-x' })
  suite.stub.clearCalls()
  const conv = await w.child([['444444444444', 1]])
  t.is(conv.results[0].error, undefined, conv.stderr)
  t.regex(conv.stderr, /account 444444444444 \(ForWriting\) → role arn:aws:iam::444444444444:role\/cdk-writeRole via profile console \(login session\)/)
  const calls = suite.stub.calls.filter((c) => c.action === 'AssumeRole')
  t.deepEqual(calls.map((c) => [c.roleArn, c.accessKeyId]), [['arn:aws:iam::444444444444:role/cdk-writeRole', keys.accessKeyId]])
})
