'use strict'
// Tests of the fault-injecting STS stub itself (standalone + proxy-to-moto + process mode).
const test = require('ava')
const { spawn } = require('node:child_process')
const path = require('node:path')
const readline = require('node:readline')
const { startStsStub, MSG } = require('./helpers/sts-stub')
const { startMoto } = require('./helpers/moto')
const { awsQuery, parseCredentials, parseError, xmlValue } = require('./helpers/aws-query')

const SERIAL = 'arn:aws:iam::123456789012:mfa/alice'
const ROLE_A = 'arn:aws:iam::111111111111:role/Admin'
const ROLE_B = 'arn:aws:iam::222222222222:role/path/Deployer'

let moto
test.before(async () => {
  moto = await startMoto()
})
test.after.always(async () => {
  if (moto) await moto.stop()
})

async function withStub(t, opts, fn) {
  const stub = await startStsStub(opts)
  t.teardown(() => stub.stop())
  return fn(stub)
}

const assumeRole = (url, extra = {}, creds = {}) =>
  awsQuery(url, 'sts', { Action: 'AssumeRole', RoleArn: ROLE_A, RoleSessionName: 'sess', ...extra }, creds)

test('standalone AssumeRole/GetSessionToken issue distinct ASIA credentials with the right expiry', async (t) => {
  await withStub(t, {}, async (stub) => {
    const t0 = Date.now()
    const r1 = await assumeRole(stub.url, { RoleArn: ROLE_B, RoleSessionName: 'cdk', ExternalId: 'ext-1' })
    const r2 = await assumeRole(stub.url, { DurationSeconds: 900 })
    const r3 = await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken', SerialNumber: SERIAL, TokenCode: '123456' })
    t.is(r1.status, 200)
    t.is(r2.status, 200)
    t.is(r3.status, 200)
    const [c1, c2, c3] = [r1, r2, r3].map((r) => parseCredentials(r.body))
    for (const c of [c1, c2, c3]) {
      t.regex(c.accessKeyId, /^ASIA[A-Z2-7]{16}$/)
      t.true(c.secretAccessKey.length >= 40)
      t.true(c.sessionToken.length > 100)
    }
    t.is(new Set([c1.accessKeyId, c2.accessKeyId, c3.accessKeyId]).size, 3)
    t.not(c1.secretAccessKey, c2.secretAccessKey)
    const near = (d, secs) => Math.abs(d.getTime() - (t0 + secs * 1000)) < 5000
    t.true(near(c1.expiration, 3600), `default AssumeRole expiry ${c1.expiration.toISOString()}`)
    t.true(near(c2.expiration, 900))
    t.true(near(c3.expiration, 43200))
    t.is(xmlValue(r1.body, 'Arn'), 'arn:aws:sts::222222222222:assumed-role/Deployer/cdk')
    t.regex(xmlValue(r1.body, 'AssumedRoleId'), /^AROA[A-Z2-7]{17}:cdk$/)
    t.regex(r1.body, /^<AssumeRoleResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/)

    // The issued keys are known to GetCallerIdentity.
    const who = await awsQuery(stub.url, 'sts', { Action: 'GetCallerIdentity' }, { accessKeyId: c1.accessKeyId, sessionToken: c1.sessionToken })
    t.is(xmlValue(who.body, 'Account'), '222222222222')
    t.is(xmlValue(who.body, 'Arn'), 'arn:aws:sts::222222222222:assumed-role/Deployer/cdk')
    const anon = await awsQuery(stub.url, 'sts', { Action: 'GetCallerIdentity' })
    t.is(xmlValue(anon.body, 'Account'), '123456789012')

    // Request log
    t.is(stub.calls.length, 5)
    t.like(stub.calls[0], {
      action: 'AssumeRole',
      roleArn: ROLE_B,
      roleSessionName: 'cdk',
      externalId: 'ext-1',
      durationSeconds: null,
      serialNumber: null,
      tokenCode: null,
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      hasSessionToken: false,
      status: 200,
    })
    t.like(stub.calls[1], { durationSeconds: 900 })
    t.like(stub.calls[2], { action: 'GetSessionToken', serialNumber: SERIAL, tokenCode: '123456' })
    t.like(stub.calls[3], { action: 'GetCallerIdentity', accessKeyId: c1.accessKeyId, hasSessionToken: true })
    t.is(stub.callsFor('AssumeRole').length, 2)
  })
})

test('MFA codes: malformed, invalid and reused codes are rejected like STS does', async (t) => {
  await withStub(t, {}, async (stub) => {
    const mfa = (code, action = 'AssumeRole') =>
      action === 'AssumeRole'
        ? assumeRole(stub.url, { SerialNumber: SERIAL, TokenCode: code })
        : awsQuery(stub.url, 'sts', { Action: 'GetSessionToken', SerialNumber: SERIAL, TokenCode: code })

    let r = await mfa('000000')
    t.is(r.status, 403)
    t.deepEqual(
      { ...parseError(r.body), requestId: undefined },
      { type: 'Sender', code: 'AccessDenied', message: MSG.invalidCode, requestId: undefined },
    )
    t.regex(parseError(r.body).message, /^MultiFactorAuthentication failed with invalid MFA one time pass code\./)

    for (const bad of ['12345', '1234567', 'abcdef']) {
      r = await mfa(bad)
      t.is(r.status, 400, bad)
      t.is(parseError(r.body).code, 'ValidationError')
      t.regex(parseError(r.body).message, new RegExp(`Value '${bad}' at 'tokenCode' failed to satisfy constraint`))
    }

    r = await mfa('123456')
    t.is(r.status, 200)
    r = await mfa('123456', 'GetSessionToken') // same code, other API: still a reuse
    t.is(r.status, 403)
    t.is(parseError(r.body).code, 'AccessDenied')
    t.regex(parseError(r.body).message, /^MultiFactorAuthentication failed, unable to validate MFA code\./)
    t.is(stub.calls.at(-1).errorCode, 'AccessDenied')

    // configurable: explicit valid set, more invalid codes, reuse allowed
    stub.setFaults({ validCodes: ['222222'], rejectReusedCodes: false })
    t.is((await mfa('111111')).status, 403)
    t.is((await mfa('222222')).status, 200)
    t.is((await mfa('222222')).status, 200)
    stub.setFaults({ validCodes: null, invalidCodes: ['333333'] })
    t.is((await mfa('000000')).status, 200)
    t.is((await mfa('333333')).status, 403)
    t.throws(() => stub.setFaults({ noSuchFault: 1 }), { message: /unknown fault/ })
  })
})

test('session-credential rules: GetSessionToken refused, chained AssumeRole limited to 1h', async (t) => {
  await withStub(t, {}, async (stub) => {
    const first = parseCredentials((await assumeRole(stub.url)).body)
    const asSession = { accessKeyId: first.accessKeyId, sessionToken: first.sessionToken }

    let r = await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken' }, asSession)
    t.is(r.status, 403)
    t.like(parseError(r.body), { code: 'AccessDenied', message: 'Cannot call GetSessionToken with session credentials' })
    // An AKIA key with a token header counts as session creds too
    r = await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken' }, { sessionToken: 'tok' })
    t.is(r.status, 403)
    // Long-term key: fine
    t.is((await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken' })).status, 200)

    r = await assumeRole(stub.url, { RoleArn: ROLE_B, DurationSeconds: 7200 }, asSession)
    t.is(r.status, 400)
    t.like(parseError(r.body), {
      code: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    })
    t.is((await assumeRole(stub.url, { RoleArn: ROLE_B, DurationSeconds: 3600 }, asSession)).status, 200)
    // not chained: 7200 is fine (roleMaxSessionDuration defaults to 43200) unless lowered
    t.is((await assumeRole(stub.url, { DurationSeconds: 7200 })).status, 200)
    stub.setFaults({ roleMaxSessionDuration: 3600 })
    r = await assumeRole(stub.url, { DurationSeconds: 7200 })
    t.like(parseError(r.body), { code: 'ValidationError', message: MSG.maxSessionDuration })
    r = await assumeRole(stub.url, { DurationSeconds: 60 })
    t.is(parseError(r.body).code, 'ValidationError')

    stub.setFaults({ sessionCredentialRules: false })
    t.is((await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken' }, asSession)).status, 200)
  })
})

test('denied roles and MFA-required roles answer AccessDenied "not authorized"', async (t) => {
  await withStub(t, { faults: { denyRoles: [ROLE_B], mfaRequiredRoles: [ROLE_A] } }, async (stub) => {
    let r = await assumeRole(stub.url, { RoleArn: ROLE_B })
    t.is(r.status, 403)
    t.is(
      parseError(r.body).message,
      `User: arn:aws:iam::123456789012:user/stub-user is not authorized to perform: sts:AssumeRole on resource: ${ROLE_B}`,
    )
    r = await assumeRole(stub.url)
    t.is(r.status, 403)
    t.regex(parseError(r.body).message, /is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role\/Admin$/)
    t.is((await assumeRole(stub.url, { SerialNumber: SERIAL, TokenCode: '654321' })).status, 200)
  })
})

test('transient faults: throttling, 500, 503, malformed XML, connection reset, latency, hang', async (t) => {
  await withStub(t, {}, async (stub) => {
    stub.failNext('throttle', 2)
    for (let i = 0; i < 2; i++) {
      const r = await assumeRole(stub.url)
      t.is(r.status, 400)
      t.like(parseError(r.body), { type: 'Sender', code: 'Throttling', message: 'Rate exceeded' })
    }
    t.is((await assumeRole(stub.url)).status, 200)

    stub.failNext('http500')
    stub.failNext('http503')
    let r = await assumeRole(stub.url)
    t.is(r.status, 500)
    t.like(parseError(r.body), { type: 'Receiver', code: 'InternalFailure' })
    r = await assumeRole(stub.url)
    t.is(r.status, 503)
    t.is(parseError(r.body).code, 'ServiceUnavailable')

    // action-scoped fault: skipped by other actions
    stub.failNext('http500', 1, 'GetSessionToken')
    t.is((await assumeRole(stub.url)).status, 200)
    t.is((await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken' })).status, 500)

    stub.failNext('malformed')
    r = await assumeRole(stub.url)
    t.is(r.status, 200)
    t.is(parseCredentials(r.body), null)
    t.false(r.body.includes('</AssumeRoleResponse>'))

    stub.failNext('reset')
    await t.throwsAsync(assumeRole(stub.url), { message: /socket hang up|ECONNRESET/ })

    stub.setFaults({ latencyMs: 300 })
    let t0 = Date.now()
    t.is((await assumeRole(stub.url)).status, 200)
    t.true(Date.now() - t0 >= 290, `latency ${Date.now() - t0}ms`)
    stub.setFaults({ latencyMs: { GetCallerIdentity: 300 } })
    t0 = Date.now()
    await assumeRole(stub.url)
    t.true(Date.now() - t0 < 250)

    stub.resetFaults()
    stub.setFaults({ hang: true })
    t0 = Date.now()
    await t.throwsAsync(assumeRole(stub.url, {}, { timeoutMs: 400 }), { message: /timed out/ })
    t.true(Date.now() - t0 >= 380)
    t.is(stub.calls.at(-1).fault, 'hang')
    stub.setFaults({ hang: false })
    t.is((await assumeRole(stub.url)).status, 200)
    t.deepEqual(
      stub.calls.filter((c) => c.fault).map((c) => c.fault),
      ['throttle', 'throttle', 'http500', 'http503', 'http500', 'malformed', 'reset', 'hang'],
    )
  })
})

test('proxy mode forwards to moto: keys are moto keys mapped to the role account; faults still apply', async (t) => {
  await withStub(t, { upstream: moto.url }, async (stub) => {
    let r = await assumeRole(stub.url, { RoleArn: 'arn:aws:iam::333333333333:role/Proxy', SerialNumber: SERIAL, TokenCode: '112233' })
    t.is(r.status, 200)
    const c = parseCredentials(r.body)
    t.regex(c.accessKeyId, /^ASIA/)
    t.is(xmlValue(r.body, 'Arn'), 'arn:aws:sts::333333333333:assumed-role/Proxy/sess')

    // moto itself (not the stub) knows the key and maps it to the role's account
    const who = await awsQuery(moto.url, 'sts', { Action: 'GetCallerIdentity' }, { accessKeyId: c.accessKeyId, sessionToken: c.sessionToken })
    t.is(xmlValue(who.body, 'Account'), '333333333333')
    // and through the stub too
    const who2 = await awsQuery(stub.url, 'sts', { Action: 'GetCallerIdentity' }, { accessKeyId: c.accessKeyId, sessionToken: c.sessionToken })
    t.is(xmlValue(who2.body, 'Account'), '333333333333')

    // Faults are decided by the stub before forwarding
    r = await assumeRole(stub.url, { SerialNumber: SERIAL, TokenCode: '112233' })
    t.is(parseError(r.body).code, 'AccessDenied') // reused
    r = await assumeRole(stub.url, { SerialNumber: SERIAL, TokenCode: '000000' })
    t.is(parseError(r.body).message, MSG.invalidCode)
    stub.failNext('throttle')
    t.is(parseError((await assumeRole(stub.url)).body).code, 'Throttling')
    r = await awsQuery(stub.url, 'sts', { Action: 'GetSessionToken' }, { accessKeyId: c.accessKeyId, sessionToken: c.sessionToken })
    t.is(parseError(r.body).message, MSG.sessionCredsGst)
    t.deepEqual(
      stub.calls.map((x) => x.status),
      [200, 200, 403, 403, 400, 403],
    )
  })
})

test('process mode prints {"url"} first and exposes control endpoints', async (t) => {
  const child = spawn(process.execPath, [path.join(__dirname, 'helpers', 'sts-stub.js'), '--port', '0', '--faults', '{"invalidCodes":["999999"]}'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  const first = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout })
    rl.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`exited ${code}`)))
  })
  const info = JSON.parse(first)
  t.regex(info.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  let r = await assumeRole(info.url, { SerialNumber: SERIAL, TokenCode: '999999' })
  t.is(parseError(r.body).code, 'AccessDenied')
  await fetch(`${info.url}/__stub/fail-next`, { method: 'POST', body: JSON.stringify({ kind: 'http503', count: 1 }) })
  r = await assumeRole(info.url)
  t.is(r.status, 503)
  const calls = await (await fetch(`${info.url}/__stub/calls`)).json()
  t.deepEqual(calls.map((c) => [c.tokenCode, c.status]), [['999999', 403], [null, 503]])
  await fetch(`${info.url}/__stub/reset`, { method: 'POST' })
  t.deepEqual(await (await fetch(`${info.url}/__stub/calls`)).json(), [])
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  t.is(await exited, 0)
})
