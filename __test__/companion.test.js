'use strict'
// The companion command against the STS stub, the part of its tests that runs on every platform
// (`npm run test:portable` on the release workflow's macOS and Windows runners): no pty, no
// moto, no POSIX process groups. cli.test.js covers the rest on Linux.
const test = require('ava')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { stsSuite } = require('./helpers/plugin')

const CLI = path.resolve(__dirname, '..', 'cli.js')
const SERIAL = 'arn:aws:iam::999999999999:mfa/portable-user'
const BASE_SECRET = 'base-secret-canary-portable'
const A1 = '111111111111'
const A2 = '222222222222'

const suite = stsSuite(test)

function world() {
  return suite.world({
    config: [
      '[profile base]\nregion = us-east-1',
      `[profile role1]\nrole_arn = arn:aws:iam::${A1}:role/Deployer\nsource_profile = base\nmfa_serial = ${SERIAL}`,
      `[profile role2]\nrole_arn = arn:aws:iam::${A2}:role/Deployer\nsource_profile = base\nmfa_serial = ${SERIAL}`,
    ].join('\n') + '\n',
    credentials: `[base]\naws_access_key_id = AKIAPORTABLEBASE0001\naws_secret_access_key = ${BASE_SECRET}\n`,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'role1', [A2]: 'role2' } } },
  })
}

/** `node cli.js …` with no stdin; killed (and failed) after timeoutMs. */
function cli(args, { env, cwd, timeoutMs = 30000 }) {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n[test] killed after ${timeoutMs} ms`
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - t0 })
    })
  })
}

const actions = () => suite.stub.calls.map((c) => c.action)

test.serial('credential-process with CDK_MFA_CODE: GetSessionToken with the code, then AssumeRole; then the cache serves it and a second account', async (t) => {
  const w = world()
  const first = await cli(['credential-process', '--profile', 'role1'], { env: suite.env(w, { CDK_MFA_CODE: '123456' }), cwd: w.cwd })
  t.is(first.code, 0, first.stderr)
  const creds = JSON.parse(first.stdout)
  t.is(creds.Version, 1)
  t.regex(creds.AccessKeyId, /^ASIA/)
  t.truthy(creds.SecretAccessKey)
  t.truthy(creds.SessionToken)
  t.true(Date.parse(creds.Expiration) > Date.now())
  t.deepEqual(actions(), ['GetSessionToken', 'AssumeRole'])
  const [gst, assume] = suite.stub.calls
  t.is(gst.serialNumber, SERIAL)
  t.is(gst.tokenCode, '123456')
  t.is(gst.accessKeyId, 'AKIAPORTABLEBASE0001')
  t.is(assume.roleArn, `arn:aws:iam::${A1}:role/Deployer`)
  t.true(assume.hasSessionToken, 'the role is assumed with the MFA session, not the long-term keys')
  t.false(first.stderr.includes(BASE_SECRET))

  // No code any more: the role credentials come from the cache, the second account's role from
  // the cached MFA session (one AssumeRole, no GetSessionToken, no code needed).
  suite.stub.clearCalls()
  const again = await cli(['credential-process', '--profile', 'role1'], { env: suite.env(w), cwd: w.cwd })
  t.is(again.code, 0, again.stderr)
  t.is(JSON.parse(again.stdout).AccessKeyId, creds.AccessKeyId)
  t.deepEqual(actions(), [])
  const other = await cli(['credential-process', '--account', A2], { env: suite.env(w), cwd: w.cwd })
  t.is(other.code, 0, other.stderr)
  t.not(JSON.parse(other.stdout).AccessKeyId, creds.AccessKeyId)
  t.deepEqual(actions(), ['AssumeRole'])
  t.is(suite.stub.calls[0].roleArn, `arn:aws:iam::${A2}:role/Deployer`)
})

test.serial('no terminal and no CDK_MFA_CODE: fails at once, in one line naming CDK_MFA_CODE, without an STS call', async (t) => {
  const w = world()
  const r = await cli(['credential-process', '--profile', 'role1'], { env: suite.env(w), cwd: w.cwd, timeoutMs: 15000 })
  t.is(r.code, 1, r.stderr)
  t.is(r.stdout, '')
  const lines = r.stderr.split(/\r?\n/).filter(Boolean)
  t.is(lines.length, 1, r.stderr)
  t.regex(lines[0], /^cdk-mfa-rs: .*CDK_MFA_CODE/)
  t.true(r.ms < 5000, `took ${r.ms} ms`)
  t.deepEqual(actions(), [])
})
