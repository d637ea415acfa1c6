'use strict'
// Fault catalogue (issue "Evidence"): each bad input or failing dependency ends in a clear,
// one-line error naming what to fix, or in the correct recovery — never a hang or a crash.
// Every case runs in a fresh process without a terminal (resolve-child.js).
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const net = require('node:net')
const { stsSuite } = require('./helpers/plugin')
const { resolveInChild } = require('./helpers/child')
const { httpsFront } = require('./helpers/tls')

const A = '111111111111'
const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'

const suite = stsSuite(test)

function world(config, credentials) {
  const w = suite.world({ config, credentials, project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'target' } } } })
  return w
}

const env = suite.env

async function resolveOne(w, extra, mode = 1) {
  const r = await resolveInChild({ requests: [[A, mode]] }, { env: env(w, extra), cwd: w.cwd, timeoutMs: 60000 })
  return { ...r.results[0], stderr: r.stderr, code: r.code, total: r.ms }
}

const ROLE = `[profile src]\naws_access_key_id = AKIAFAULTSRC00000001\naws_secret_access_key = fault-secret-canary\n[profile target]\nrole_arn = arn:aws:iam::${A}:role/Target\nsource_profile = src\n`

function oneLine(t, msg) {
  t.truthy(msg)
  t.false(msg.includes('\n'), msg)
  t.false(msg.includes('fault-secret-canary'))
  t.regex(msg, /^cdk-mfa-rs: /)
}

test.serial('credential_process exiting non-zero', async (t) => {
  const w = world(`[profile target]\ncredential_process = sh -c "echo boom >&2; exit 4"\n`)
  const r = await resolveOne(w)
  oneLine(t, r.error)
  t.regex(r.error, /cannot get credentials from the credential_process of profile target: .*; run the command by hand to see why/)
})

test.serial('credential_process printing invalid JSON', async (t) => {
  const w = world(`[profile target]\ncredential_process = echo not-json\n`)
  const r = await resolveOne(w)
  oneLine(t, r.error)
  t.regex(r.error, /credential_process of profile target/)
})

test.serial('credential_process that hangs: bounded by CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS', async (t) => {
  const w = world(`[profile target]\ncredential_process = sleep 30\n`)
  const r = await resolveOne(w, { CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS: '2' })
  oneLine(t, r.error)
  t.regex(r.error, /the credential_process of profile target gave no credentials within 2 s/)
  t.true(r.ms < 5000, `${r.ms} ms`)
})

test.serial('mfa_process that hangs: bounded by the same timeout', async (t) => {
  const w = world(ROLE.replace('source_profile = src', `source_profile = src\nmfa_serial = ${SERIAL}\nmfa_process = sleep 30`))
  const r = await resolveOne(w, { CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS: '2' })
  oneLine(t, r.error)
  t.regex(r.error, /mfa_process of profile target did not finish within 2 s/)
  t.true(r.ms < 5000)
  t.is(suite.stub.calls.length, 0)
})

test.serial('SSO token expired: says to run aws sso login for the profile', async (t) => {
  const w = world(
    `[profile target]\nsso_session = corp\nsso_account_id = ${A}\nsso_role_name = Admin\nregion = us-east-1\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n`,
  )
  const dir = path.join(w.home, '.aws', 'sso', 'cache')
  fs.mkdirSync(dir, { recursive: true })
  const name = require('node:crypto').createHash('sha1').update('corp').digest('hex')
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ accessToken: 'expired-token', expiresAt: '2020-01-01T00:00:00Z', region: 'us-east-1', startUrl: 'https://corp.awsapps.com/start' }))
  const r = await resolveOne(w, { AWS_ENDPOINT_URL: suite.stub.url })
  oneLine(t, r.error)
  t.regex(r.error, /→ profile target \(SSO\): the SSO sign-in of profile target expired at 2020-01-01T00:00:00Z; run `aws sso login --profile target`$/)
  t.false(r.error.includes('ProviderError'), 'no debug dump of the error chain')
  t.true(r.error.length < 300, r.error)
  t.true(r.ms < 3000, `${r.ms} ms`)
  t.is(suite.stub.calls.length, 0, 'no network call with a dead token')
})

test.serial('reused MFA code: STS refuses it and the error says so in plain words', async (t) => {
  const w = world(ROLE.replace('source_profile = src', `source_profile = src\nmfa_serial = ${SERIAL}`))
  t.falsy((await resolveOne(w, { CDK_MFA_CODE: '123123' })).error)
  fs.rmSync(w.cacheDir, { recursive: true, force: true })
  const r = await resolveOne(w, { CDK_MFA_CODE: '123123' })
  oneLine(t, r.error)
  t.regex(r.error, /STS rejected the MFA code .* wrong or was already used/)
})

/** A local port nothing listens on (connections to it are refused). */
function closedPort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => resolve(p))
    })
  })
}

test.serial('STS unreachable (connection refused): a clear error within 10 s', async (t) => {
  const port = await closedPort()
  const w = world(ROLE)
  const r = await resolveOne(w, { AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${port}` })
  oneLine(t, r.error)
  t.regex(r.error, new RegExp(`cannot reach STS at http://127.0.0.1:${port} for AssumeRole into arn:aws:iam::${A}:role/Target: .*[Cc]onnection refused`))
  t.true(r.ms < 10000, `${r.ms} ms`)
})

test.serial('a password in the STS endpoint URL (user:pass@host) never appears in the error', async (t) => {
  const port = await closedPort()
  const w = world(ROLE)
  const r = await resolveOne(w, { AWS_ENDPOINT_URL_STS: `http://proxyuser:Endp0intPassw0rd@127.0.0.1:${port}` })
  oneLine(t, r.error)
  t.false(r.error.includes('Endp0intPassw0rd'), r.error)
  t.false(r.error.includes('proxyuser'), r.error)
  t.regex(r.error, new RegExp(`STS at http://\\*\\*\\*@127\\.0\\.0\\.1:${port}`))
})

test.serial('STS that never answers: times out with a clear error within 10 s', async (t) => {
  const w = world(ROLE)
  suite.stub.setFaults({ hang: true })
  const r = await resolveOne(w)
  oneLine(t, r.error)
  t.regex(r.error, /STS at http:\/\/127\.0\.0\.1:\d+ did not answer AssumeRole into arn:aws:iam::111111111111:role\/Target/)
  t.true(r.ms < 12000, `${r.ms} ms`)
})

test.serial('STS 5xx twice, then success: retried with back-off', async (t) => {
  const w = world(ROLE)
  suite.stub.failNext('http500', 1)
  suite.stub.failNext('http503', 1)
  const r = await resolveOne(w)
  t.falsy(r.error)
  t.is(suite.stub.calls.filter((c) => c.action === 'AssumeRole').length, 3)
})

test.serial('STS throttling that does not stop: a clear error after 3 attempts', async (t) => {
  const w = world(ROLE)
  suite.stub.failNext('throttle', 10)
  const r = await resolveOne(w)
  oneLine(t, r.error)
  t.regex(r.error, /STS kept throttling AssumeRole into .* after 3 attempts \(Throttling: Rate exceeded\); wait a minute and retry/)
  t.is(suite.stub.calls.length, 3)
})

test.serial('STS answering malformed XML: a clear error, no crash', async (t) => {
  const w = world(ROLE)
  suite.stub.failNext('malformed', 5)
  const r = await resolveOne(w)
  oneLine(t, r.error)
  t.regex(r.error, /STS at http:\/\/127\.0\.0\.1:\d+ sent a response to AssumeRole into arn:aws:iam::111111111111:role\/Target that cannot be read/)
  t.deepEqual(fs.readdirSync(w.cacheDir).filter((f) => f.endsWith('.json')), [], 'nothing cached')
})

test.serial('cache directory not writable: works, warns, caches nothing', async (t) => {
  const w = world(ROLE)
  const blocker = path.join(w.root, 'a-file')
  fs.writeFileSync(blocker, '')
  const r = await resolveOne(w, { CDK_MFA_RS_CACHE_DIR: path.join(blocker, 'cache') })
  t.falsy(r.error)
  t.regex(r.stderr, /cdk-mfa-rs: warning: cannot create the cache directory .*a-file\/cache: .*; sessions are not cached across runs/)
})

test.serial('HOME unset: profiles from AWS_CONFIG_FILE still work; warns that nothing is cached', async (t) => {
  const w = world(ROLE)
  const r = await resolveOne(w, {
    HOME: undefined,
    CDK_MFA_RS_CACHE_DIR: undefined,
    AWS_CONFIG_FILE: path.join(w.home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(w.home, '.aws', 'credentials'),
  })
  t.falsy(r.error)
  t.regex(r.stderr, /HOME is not set and CDK_MFA_RS_CACHE_DIR is not set: sessions are not cached across runs/)
})

test.serial('HTTPS to STS: a certificate from a trusted CA works, an unknown issuer is a clear error', async (t) => {
  // An HTTPS front for the stub, as STS is reached in real life.
  const front = await httpsFront(suite.stub.url)
  try {
    const w = world(ROLE)
    const url = front.url
    const trusted = await resolveOne(w, { AWS_ENDPOINT_URL_STS: url, SSL_CERT_FILE: front.caFile })
    t.falsy(trusted.error)
    t.regex(trusted.accessKeyId, /^ASIA/)
    fs.rmSync(w.cacheDir, { recursive: true, force: true })
    const unknown = await resolveOne(w, { AWS_ENDPOINT_URL_STS: url, SSL_CERT_FILE: undefined })
    oneLine(t, unknown.error)
    t.regex(unknown.error, /cannot reach STS at https:\/\/localhost:\d+ for AssumeRole into .*: invalid peer certificate: UnknownIssuer/)
  } finally {
    await front.close()
  }
})
