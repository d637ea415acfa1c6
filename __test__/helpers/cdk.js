'use strict'
// Helpers to run the real AWS CDK CLI (this repo's node_modules/.bin/cdk) end to end
// against a private moto server, in a throwaway HOME.
//
// ─── The moto E2E recipe (verified with moto 5.2.5, aws-cdk 2.1148.1, aws-cdk-lib 2.276.0) ───
//
// Environment for the CDK CLI (runCdk builds it; nothing leaks in from the caller's env):
//   HOME=<tmp> CDK_HOME=<tmp>/.cdk AWS_CONFIG_FILE=<tmp>/.aws/config
//   AWS_SHARED_CREDENTIALS_FILE=<tmp>/.aws/credentials
//   AWS_ENDPOINT_URL=http://127.0.0.1:<port>          all services → moto. An IP host makes
//                                                      the S3 client use path-style URLs.
//   AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION=http://localhost:<port>
//                                                      the CLI builds the stack's TemplateURL from
//                                                      it; moto only parses a TemplateURL as
//                                                      path-style (its own S3) if it contains
//                                                      "localhost".
//   NO_PROXY=127.0.0.1,localhost  CDK_DISABLE_VERSION_CHECK=1  AWS_EC2_METADATA_DISABLED=true
//   AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true (no Node-20 deprecation warning)
//   and `--no-notices` on every command (no network call for notices).
// App: DefaultStackSynthesizer({ generateBootstrapVersionRule: false }) (belt and braces:
//   a create with the rule also went through on 5.2.5), analyticsReporting off (no
//   AWS::CDK::Metadata resource).
// Deploy: `cdk deploy --all --require-approval never --method=direct`. Measured on 5.2.5:
//   direct create / no-change / update / `cdk destroy --force` all work; with change sets
//   the first create works but any later deploy of the stack fails with
//   "@aws-sdk XML parse error: mismatched tags <html> and </title>" (moto answers 500 HTML).
// Bootstrap: `cdk bootstrap aws://A/us-east-1 aws://B/us-east-1` works as is (it uses a
//   change set for the CDKToolkit create; re-running it on a bootstrapped env is fine too).
//   The CLI reads /cdk-bootstrap/hnb659fds/version (=33) from moto's SSM afterwards.
//
// Account mapping in moto (see moto/core/responses.py get_current_account):
//   1. env MOTO_ACCOUNT_ID on the server overrides everything → never set it (startMoto doesn't).
//   2. request header `x-moto-account-id: <acct>` → that account. Only our own helper
//      requests use it (listStacks, createStaticKeys); the CDK CLI can't send it.
//   3. the access key of the SigV4 Credential=… → the account whose IAM backend holds it:
//      - keys from STS AssumeRole on arn:aws:iam::<acct>:role/<any> (role need not exist)
//        map to <acct>;
//      - keys from IAM CreateAccessKey map to the user's account;
//      - moto's GetSessionToken returns a fixed AKIAIOSFODNN7EXAMPLE key (not mapped).
//   4. any other key → default account 123456789012.
// So static (long-term) keys live in:
//   - 123456789012 with ANY made-up key (simplest), or
//   - any account X: createStaticKeys(motoUrl, X) = IAM CreateUser + CreateAccessKey sent
//     with `x-moto-account-id: X`; moto then maps that AKIA key to X.
// The CDK CLI resolves the default credentials' account with GetCallerIdentity and
// consults credential plugins only for target accounts different from it; so with
// made-up static keys (→123456789012) both aws://111111111111 and aws://222222222222
// go through the plugin, and a plugin that AssumeRoles into arn:aws:iam::<acct>:role/…
// hands the CLI keys moto maps to <acct>: each stack lands in its own moto account.
// ──────────────────────────────────────────────────────────────────────────────────

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { awsQuery, xmlValue, parseError } = require('./aws-query')

const ROOT = path.resolve(__dirname, '..', '..')
const NODE_MODULES = path.join(ROOT, 'node_modules')
const CDK_BIN = path.join(NODE_MODULES, '.bin', 'cdk')

/**
 * Creates a throwaway HOME: <home>/.aws/ and CDK_HOME=<home>/.cdk.
 * @returns {{home: string, awsDir: string, configFile: string, credentialsFile: string, cdkHome: string, cleanup: () => void}}
 */
function makeTempHome(prefix = 'cdk-mfa-home-') {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const awsDir = path.join(home, '.aws')
  const cdkHome = path.join(home, '.cdk')
  fs.mkdirSync(awsDir, { recursive: true })
  fs.mkdirSync(cdkHome, { recursive: true })
  return {
    home,
    awsDir,
    cdkHome,
    configFile: path.join(awsDir, 'config'),
    credentialsFile: path.join(awsDir, 'credentials'),
    cleanup: () => fs.rmSync(home, { recursive: true, force: true }),
  }
}

const homeDir = (home) => (typeof home === 'string' ? home : home.home)

/** Writes <home>/.aws/config and (if given) <home>/.aws/credentials. */
function writeAwsConfig(home, configText, credentialsText) {
  const awsDir = path.join(homeDir(home), '.aws')
  fs.mkdirSync(awsDir, { recursive: true })
  fs.writeFileSync(path.join(awsDir, 'config'), configText ?? '')
  if (credentialsText !== undefined && credentialsText !== null) {
    fs.writeFileSync(path.join(awsDir, 'credentials'), credentialsText, { mode: 0o600 })
  }
}

/**
 * Writes a plain-JS CDK app into dir: app.js, cdk.json, node_modules → this repo's node_modules.
 * Each stack: one AWS::SSM::Parameter (name `/cdk-mfa-test/<stackName>`, value `<account>`)
 * and one AWS::SQS::Queue.
 * @param {string} dir
 * @param {{name: string, account: string, region?: string}[]} stacks
 * @param {{plugin?: string[], context?: object, extraCdkJson?: object, synthesizer?: 'legacy'}} [opts]
 *   synthesizer 'legacy': LegacyStackSynthesizer, whose small templates go inline to
 *   CloudFormation, so `cdk deploy` needs no `cdk bootstrap` first (the cheapest real deploy)
 * @returns {{dir: string, appFile: string, cdkJsonFile: string}}
 */
function makeCdkApp(dir, stacks, opts = {}) {
  fs.mkdirSync(dir, { recursive: true })
  const link = path.join(dir, 'node_modules')
  if (!fs.existsSync(link)) fs.symlinkSync(NODE_MODULES, link, 'dir')
  const synthesizer =
    opts.synthesizer === 'legacy' ? 'new cdk.LegacyStackSynthesizer()' : 'new cdk.DefaultStackSynthesizer({ generateBootstrapVersionRule: false })'
  const app = `'use strict'
// generated by __test__/helpers/cdk.js
const cdk = require('aws-cdk-lib')
const ssm = require('aws-cdk-lib/aws-ssm')
const sqs = require('aws-cdk-lib/aws-sqs')

const stacks = ${JSON.stringify(stacks.map((s) => ({ region: 'us-east-1', ...s })), null, 2)}

const app = new cdk.App({ analyticsReporting: false })
for (const s of stacks) {
  const stack = new cdk.Stack(app, s.name, {
    env: { account: s.account, region: s.region },
    synthesizer: ${synthesizer},
  })
  new ssm.StringParameter(stack, 'Marker', { parameterName: '/cdk-mfa-test/' + s.name, stringValue: s.account })
  new sqs.Queue(stack, 'Queue')
}
app.synth()
`
  const appFile = path.join(dir, 'app.js')
  fs.writeFileSync(appFile, app)
  const cdkJson = {
    app: `${JSON.stringify(process.execPath)} app.js`,
    plugin: opts.plugin || [],
    context: { ...opts.context },
    ...opts.extraCdkJson,
  }
  const cdkJsonFile = path.join(dir, 'cdk.json')
  fs.writeFileSync(cdkJsonFile, JSON.stringify(cdkJson, null, 2) + '\n')
  return { dir, appFile, cdkJsonFile }
}

/**
 * The clean environment runCdk uses (exported for other CLIs, e.g. the aws CLI).
 * @param {{home: string|object, motoUrl?: string, env?: object}} opts
 */
function cdkEnv({ home, motoUrl, env }) {
  const h = homeDir(home)
  const e = {
    PATH: process.env.PATH,
    HOME: h,
    USER: process.env.USER || 'test',
    LANG: 'C.UTF-8',
    TMPDIR: process.env.TMPDIR || os.tmpdir(),
    CDK_HOME: path.join(h, '.cdk'),
    AWS_CONFIG_FILE: path.join(h, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(h, '.aws', 'credentials'),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    CDK_DISABLE_VERSION_CHECK: '1',
    // the CLI's telemetry is on by default and posts to a real AWS endpoint after each command
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    // aws-cdk's bundled SDK v3 warns on Node 20 (support ends 2027); keep stderr clean
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  }
  if (motoUrl) {
    const port = new URL(motoUrl).port
    e.AWS_ENDPOINT_URL = motoUrl
    e.AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION = `http://localhost:${port}`
  }
  for (const [k, v] of Object.entries(env || {})) {
    if (v === undefined || v === null) delete e[k]
    else e[k] = String(v)
  }
  return e
}

/**
 * Runs this repo's `cdk` CLI with a clean env (see cdkEnv) and `--no-notices`.
 * `noTerminal`: as an IDE task runs it: its own session (setsid, so no controlling terminal)
 * and stdin /dev/null; a time-out kills its whole process group.
 * @param {string[]} args
 * @param {{cwd: string, home: string|object, motoUrl?: string, env?: object, timeoutMs?: number, input?: string, noTerminal?: boolean}} opts
 * @returns {Promise<{code: number|null, signal: string|null, stdout: string, stderr: string, durationMs: number}>}
 */
function runCdk(args, opts) {
  const env = cdkEnv(opts)
  const timeoutMs = opts.timeoutMs ?? 180000
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(CDK_BIN, [...args, '--no-notices'], {
      cwd: opts.cwd,
      env,
      stdio: [opts.noTerminal ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: Boolean(opts.noTerminal),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n[runCdk] timed out after ${timeoutMs}ms, killing\n`
      if (opts.noTerminal) process.kill(-child.pid, 'SIGKILL')
      else child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - t0 })
    })
    if (child.stdin) child.stdin.end(opts.input ?? '')
  })
}

// The <member> elements directly inside `xml` (nested <member>s, e.g. Outputs, stay inside).
function topLevelMembers(xml) {
  const out = []
  const re = /<(\/?)member>/g
  let depth = 0
  let start = -1
  for (let m; (m = re.exec(xml)); ) {
    if (!m[1]) {
      if (depth++ === 0) start = m.index + m[0].length
    } else if (--depth === 0) {
      out.push(xml.slice(start, m.index))
    }
  }
  return out
}

/**
 * Stacks in one moto account/region (CloudFormation DescribeStacks with x-moto-account-id).
 * @returns {Promise<{name: string, status: string, id: string}[]>}
 */
async function listStacks(motoUrl, account, region = 'us-east-1') {
  const r = await awsQuery(motoUrl, 'cloudformation', { Action: 'DescribeStacks' }, { region, headers: { 'x-moto-account-id': account } })
  if (r.status !== 200) throw new Error(`DescribeStacks failed (${r.status}): ${r.body}`)
  return topLevelMembers(xmlValue(r.body, 'Stacks') || '')
    .map((m) => ({ name: xmlValue(m, 'StackName'), status: xmlValue(m, 'StackStatus'), id: xmlValue(m, 'StackId') }))
}

/**
 * Long-term IAM user keys that moto maps to `account` (IAM CreateUser + CreateAccessKey
 * sent with x-moto-account-id).
 * @returns {Promise<{accessKeyId: string, secretAccessKey: string, userName: string, arn: string}>}
 */
async function createStaticKeys(motoUrl, account, userName = 'cdk-user') {
  const headers = { 'x-moto-account-id': account }
  let r = await awsQuery(motoUrl, 'iam', { Action: 'CreateUser', UserName: userName }, { headers })
  if (r.status !== 200 && parseError(r.body)?.code !== 'EntityAlreadyExists') throw new Error(`CreateUser: ${r.body}`)
  r = await awsQuery(motoUrl, 'iam', { Action: 'GetUser', UserName: userName }, { headers })
  const arn = xmlValue(r.body, 'Arn')
  r = await awsQuery(motoUrl, 'iam', { Action: 'CreateAccessKey', UserName: userName }, { headers })
  if (r.status !== 200) throw new Error(`CreateAccessKey: ${r.body}`)
  return { accessKeyId: xmlValue(r.body, 'AccessKeyId'), secretAccessKey: xmlValue(r.body, 'SecretAccessKey'), userName, arn }
}

/** Minimal AWS JSON-protocol call (SSM, ...) with a dummy signature; x-moto-account-id picks the account. */
async function awsJson(motoUrl, service, target, payload, { account, region = 'us-east-1' } = {}) {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
  const headers = {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': target,
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/${amzDate.slice(0, 8)}/${region}/${service}/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
  }
  if (account) headers['x-moto-account-id'] = account
  const res = await fetch(new URL('/', motoUrl), { method: 'POST', headers, body: JSON.stringify(payload) })
  const text = await res.text()
  return { status: res.status, json: text ? JSON.parse(text) : null }
}

/** Value of an SSM parameter in a moto account, or null if it does not exist. */
async function getSsmParameter(motoUrl, account, name, region = 'us-east-1') {
  const r = await awsJson(motoUrl, 'ssm', 'AmazonSSM.GetParameter', { Name: name }, { account, region })
  if (r.status === 200) return r.json.Parameter.Value
  if (r.json && /ParameterNotFound/.test(r.json.__type || '')) return null
  throw new Error(`GetParameter ${name} failed (${r.status}): ${JSON.stringify(r.json)}`)
}

/** Account moto attributes to a key (STS GetCallerIdentity). */
async function callerAccount(motoUrl, accessKeyId, sessionToken) {
  const r = await awsQuery(motoUrl, 'sts', { Action: 'GetCallerIdentity' }, { accessKeyId, sessionToken })
  return xmlValue(r.body, 'Account')
}

/**
 * The 3-account MFA app of the MFA tests: profiles mfa0..mfaN assume AdminMFARole in each account
 * from the long-term keys of `base`, all with one MFA device; STS goes to `stsUrl` (the stub).
 */
function mfaApp(home, { accounts, serial, stackPrefix, baseKeyId, baseSecret, stsUrl, plugin = {} }) {
  writeAwsConfig(
    home,
    ['[profile base]', 'region = us-east-1', ...accounts.flatMap((a, i) => [
      `[profile mfa${i}]`,
      'source_profile = base',
      `role_arn = arn:aws:iam::${a}:role/AdminMFARole`,
      `mfa_serial = ${serial}`,
      'region = us-east-1',
    ]), ''].join('\n'),
    `[base]\naws_access_key_id = ${baseKeyId}\naws_secret_access_key = ${baseSecret}\n`,
  )
  const appDir = path.join(home.home, 'app')
  const stacks = accounts.map((account, i) => ({ name: `${stackPrefix}${i}`, account }))
  makeCdkApp(appDir, stacks, { plugin: [path.resolve(__dirname, '..', '..')] })
  fs.writeFileSync(
    path.join(appDir, 'cdkmultiprofileplugin.json'),
    JSON.stringify({ awsProfiles: Object.fromEntries(accounts.map((a, i) => [a, `mfa${i}`])), ...plugin }),
  )
  const cacheDir = path.join(home.home, 'cache')
  return { home, appDir, stacks, cacheDir, env: { AWS_ENDPOINT_URL_STS: stsUrl, CDK_MFA_RS_CACHE_DIR: cacheDir } }
}

module.exports = {
  makeTempHome,
  writeAwsConfig,
  makeCdkApp,
  mfaApp,
  cdkEnv,
  runCdk,
  listStacks,
  createStaticKeys,
  callerAccount,
  getSsmParameter,
  awsJson,
  CDK_BIN,
  NODE_MODULES,
}

/**
 * The common frame of end-to-end test files: moto (and, with `stub: true`, the counting STS stub
 * in proxy mode in front of it) started before the tests and stopped after; temporary homes made
 * with `suite.home()` are removed after (unless KEEP_TMP is set).
 * @returns {{moto: object, stub: object|null, home: (prefix?: string) => object}}
 */
function motoSuite(test, { stub = false } = {}) {
  const { startMoto } = require('./moto')
  const { startStsStub } = require('./sts-stub')
  const homes = []
  const suite = {
    moto: null,
    stub: null,
    home(prefix) {
      const h = makeTempHome(prefix)
      homes.push(h)
      return h
    },
  }
  test.before(async () => {
    suite.moto = await startMoto()
    if (stub) suite.stub = await startStsStub({ upstream: suite.moto.url })
  })
  test.after.always(async () => {
    if (suite.stub) await suite.stub.stop()
    if (suite.moto) await suite.moto.stop()
    if (!process.env.KEEP_TMP) for (const h of homes) h.cleanup()
  })
  return suite
}

module.exports.motoSuite = motoSuite
