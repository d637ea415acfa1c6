#!/usr/bin/env node
'use strict'
// `npm run demo`: cdk-mfa-rs end to end on this machine, with no AWS account.
//
//   1. prepares the repo (scripts/setup.js: node_modules + the Python .venv with moto) and
//      builds the addon (`npm run build:debug` = napi build --platform) when it is missing or
//      older than the Rust sources;
//   2. starts moto (a local AWS emulator) on 127.0.0.1 and, in front of its STS, the repo's
//      STS stub in proxy mode, which counts GetSessionToken calls and MFA codes;
//   3. creates a throwaway HOME (HOME, CDK_HOME, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE
//      and CDK_MFA_RS_CACHE_DIR all point into it: your ~/.aws and ~/.cdk are never read or
//      written) with one long-term profile `shared` (made-up keys) and two role profiles
//      `dev` / `prod` that need MFA (mfa_serial), as sample-app/cdkmultiprofileplugin.json maps;
//   4. runs the real CDK CLI (node_modules/.bin/cdk) on sample-app/ with the plugin loaded from
//      this checkout: `cdk bootstrap` (both accounts), `cdk deploy --all`, and `cdk deploy --all`
//      once more. You are asked for an MFA code once, on your terminal: any 6 digits work.
//   5. prints a summary and stops moto and the stub (also on Ctrl-C or failure).
//
// Options:
//   --keep                  keep the throwaway HOME (its path is printed) for a look at the cache
//   --summary-json <file>   also write the summary as JSON (used by __test__/demo.test.js)
// Environment:
//   CDK_MFA_CODE=123456     no prompt: the code comes from the environment (no terminal needed;
//                           without a terminal and without it, the demo stops at once)
//   CDK_MFA_DEMO_STEP_TIMEOUT_SECONDS   per CDK command (default 600)
// Exit status: 0 when every command succeeded and the figures are as expected, else non-zero.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const APP_DIR = path.join(ROOT, 'sample-app')
const CDK_BIN = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'cdk.cmd' : 'cdk')
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

// The sample app's defaults; sample-app/cdkmultiprofileplugin.json maps them to `dev` / `prod`.
const SHARED = '123456789012' // moto puts made-up long-term keys in this account
const STAGES = [
  { stage: 'dev', account: '111111111111', profile: 'dev' },
  { stage: 'prod', account: '222222222222', profile: 'prod' },
]
const REGION = 'us-east-1'
const MFA_SERIAL = `arn:aws:iam::${SHARED}:mfa/demo-user`
const DEMO_SECRET = 'demo-secret-not-a-real-key-0000000000000'
const APP_CONTEXT = ['-c', 'moto=true'] // see sample-app/app.js
const BOOTSTRAP_ROLE = /:role\/cdk-[a-z0-9]+-(deploy|file-publishing|image-publishing|lookup|cfn-exec)-role-/

const t0 = Date.now()
const secs = (ms) => (ms / 1000).toFixed(1)
const say = (msg) => process.stdout.write(`\n[demo] ${msg}\n`)
const note = (msg) => process.stdout.write(`[demo]   ${msg}\n`)

function parseArgs(argv) {
  const opts = { keep: process.env.KEEP_TMP === '1', summaryJson: null }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--keep') opts.keep = true
    else if (a === '--summary-json') opts.summaryJson = path.resolve(argv[++i] || '')
    else if (a === '-h' || a === '--help') {
      const header = fs.readFileSync(__filename, 'utf8').split('\n').slice(1).filter((l) => l.startsWith('//'))
      process.stdout.write(header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n')
      process.exit(0)
    } else throw new Error(`unknown argument '${a}' (try --help)`)
  }
  return opts
}

// ─── 1. setup + build ────────────────────────────────────────────────────────────────────

// The file napi's index.js loads on this platform (package.json napi.binaryName + triple).
function addonPath() {
  const name = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).napi.binaryName
  let triple = `${process.platform}-${process.arch}`
  if (process.platform === 'linux') {
    const glibc = process.report?.getReport?.().header?.glibcVersionRuntime
    triple += glibc ? '-gnu' : '-musl'
  } else if (process.platform === 'win32') triple += '-msvc'
  return path.join(ROOT, `${name}.${triple}.node`)
}

function newestMtime(p) {
  const st = fs.statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  let newest = st.mtimeMs
  for (const e of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)))
  return newest
}

function ensureAddon() {
  const addon = addonPath()
  const sources = ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => path.join(ROOT, f)).filter((f) => fs.existsSync(f))
  const srcTime = Math.max(...sources.map(newestMtime))
  let reason = null
  if (!fs.existsSync(addon)) reason = `${path.basename(addon)} missing`
  else if (fs.statSync(addon).mtimeMs < srcTime) reason = `${path.basename(addon)} older than the Rust sources`
  if (!reason) {
    note(`addon up to date: ${path.basename(addon)}`)
    return
  }
  say(`building the addon (${reason}): npm run build:debug (napi build --platform) ...`)
  const cargo = spawnSync('cargo', ['--version'], { encoding: 'utf8' })
  if (cargo.status !== 0) throw new Error('building the addon needs a Rust toolchain (cargo); see https://rustup.rs')
  // The package.json script, so the demo builds exactly as `npm test` and contributors do.
  const r = spawnSync(NPM, ['run', '--silent', 'build:debug'], { cwd: ROOT, stdio: 'inherit' })
  if (r.status !== 0) throw new Error(`npm run build:debug failed (exit ${r.status ?? r.signal})`)
  if (!fs.existsSync(addon)) throw new Error(`napi build succeeded but ${addon} is missing`)
}

// ─── 2.–5. the run ───────────────────────────────────────────────────────────────────────

const state = {
  moto: null,
  stub: null,
  home: null,
  child: null,
  keep: false,
  stopping: false,
}

async function stopAll() {
  const { stub, moto } = state
  state.stub = null
  state.moto = null
  if (stub) await stub.stop().catch(() => {})
  if (moto) await moto.stop().catch(() => {})
  if (state.home && !state.keep) {
    fs.rmSync(state.home, { recursive: true, force: true })
    state.home = null
  }
}

function onSignal(signal) {
  if (state.stopping) return
  state.stopping = true
  process.stderr.write(`\n[demo] ${signal}: stopping the CDK CLI, moto and the STS stub ...\n`)
  const child = state.child
  const done = () =>
    stopAll().finally(() => {
      if (state.home) process.stderr.write(`[demo] kept ${state.home}\n`)
      process.exit(signal === 'SIGINT' ? 130 : 143)
    })
  if (child && child.exitCode === null && child.signalCode === null) {
    // On Ctrl-C the terminal already sent SIGINT to the CLI (same process group): give it a
    // moment to restore the terminal and exit, then make sure.
    if (signal !== 'SIGINT') child.kill(signal)
    const t = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(t)
      done()
    })
  } else done()
}

function writeAwsFiles(home) {
  const awsDir = path.join(home, '.aws')
  fs.mkdirSync(awsDir, { recursive: true, mode: 0o700 })
  const config = [
    '# Written by scripts/demo.js into a throwaway HOME.',
    '# `shared`: long-term keys of an IAM user in the shared-services account (made up; moto',
    '# accepts any). `dev` / `prod`: roles in the target accounts that need MFA.',
    '[profile shared]',
    `region = ${REGION}`,
    '',
    ...STAGES.flatMap((s) => [
      `[profile ${s.profile}]`,
      `role_arn = arn:aws:iam::${s.account}:role/OrganizationAccountAccessRole`,
      'source_profile = shared',
      `mfa_serial = ${MFA_SERIAL}`,
      `region = ${REGION}`,
      '',
    ]),
  ].join('\n')
  const credentials = ['[shared]', 'aws_access_key_id = AKIADEMOSHARED000001', `aws_secret_access_key = ${DEMO_SECRET}`, ''].join('\n')
  fs.writeFileSync(path.join(awsDir, 'config'), config)
  fs.writeFileSync(path.join(awsDir, 'credentials'), credentials, { mode: 0o600 })
  return { configFile: path.join(awsDir, 'config'), credentialsFile: path.join(awsDir, 'credentials'), config }
}

function cliEnv(home, motoUrl, stubUrl, cacheDir) {
  const port = new URL(motoUrl).port
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    USER: process.env.USER || 'demo',
    LANG: process.env.LANG || 'C.UTF-8',
    TMPDIR: process.env.TMPDIR || os.tmpdir(),
    CDK_HOME: path.join(home, '.cdk'),
    AWS_CONFIG_FILE: path.join(home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, '.aws', 'credentials'),
    CDK_MFA_RS_CACHE_DIR: cacheDir,
    // Every AWS call goes to moto, STS through the counting stub.
    AWS_ENDPOINT_URL: motoUrl,
    AWS_ENDPOINT_URL_STS: stubUrl,
    // The CLI builds the stacks' TemplateURL from this; moto needs "localhost" in it.
    AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION: `http://localhost:${port}`,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    CDK_DISABLE_VERSION_CHECK: '1',
    // the CLI's telemetry is on by default and posts to a real AWS endpoint: the demo stays local
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    // aws-cdk's bundled SDK warns on Node 20 (support ends 2027): noise here
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
  for (const k of ['TERM', 'COLORTERM', 'NO_COLOR', 'FORCE_COLOR', 'CI', 'CDK_MFA_CODE']) {
    if (process.env[k] !== undefined) env[k] = process.env[k]
  }
  return env
}

// Runs the CDK CLI with the terminal inherited, so its MFA prompt reaches the user.
function runCdk(args, env, timeoutMs) {
  // --plugin: this checkout, by absolute path (the package is not installed in node_modules, and
  // the CLI resolves plugin names from its own install). It replaces cdk.json's "cdk-mfa-rs".
  // --output: the cloud assembly goes into the throwaway HOME, not into sample-app/.
  const full = [...args, '--plugin', ROOT, '--output', path.join(env.HOME, 'cdk.out'), ...APP_CONTEXT, '--no-notices']
  say(`$ cdk ${args.join(' ')}`)
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(CDK_BIN, full, { cwd: APP_DIR, env, stdio: 'inherit' })
    state.child = child
    const timer = setTimeout(() => {
      process.stderr.write(`[demo] cdk ${args[0]} still running after ${secs(timeoutMs)} s: killing it\n`)
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      reject(new Error(`cannot start ${CDK_BIN}: ${e.message}`))
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      state.child = null
      resolve({ code, signal, ms: Date.now() - started })
    })
  })
}

function listCache(cacheDir) {
  if (!fs.existsSync(cacheDir)) return []
  return fs
    .readdirSync(cacheDir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const p = path.join(cacheDir, f)
      const st = fs.statSync(p)
      // Print the non-secret parts only: the labels and the expiry.
      let labels = {}
      let expires = null
      try {
        const j = JSON.parse(fs.readFileSync(p, 'utf8'))
        if (j && typeof j.label === 'object' && j.label) labels = j.label
        expires = j?.credentials?.expiration ?? null
      } catch {}
      return { file: f, mode: (st.mode & 0o777).toString(8).padStart(4, '0'), bytes: st.size, labels, expires }
    })
}

// Whether the plugin will be able to prompt: it reads the controlling terminal, /dev/tty.
function hasTerminal() {
  if (process.platform === 'win32') return Boolean(process.stdin.isTTY)
  try {
    fs.closeSync(fs.openSync('/dev/tty', 'r+'))
    return true
  } catch {
    return false
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  state.keep = opts.keep
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => onSignal(s))

  if (!process.env.CDK_MFA_CODE && !hasTerminal()) {
    throw new Error('no terminal to type the MFA code on: run `CDK_MFA_CODE=123456 npm run demo` (any 6 digits)')
  }

  say('preparing: scripts/setup.js (node_modules, .venv with moto) ...')
  require('./setup').main({ demo: true })
  ensureAddon()

  // Loaded after setup: plain Node modules from the repo's test helpers.
  const { startMoto } = require('../__test__/helpers/moto')
  const { startStsStub } = require('../__test__/helpers/sts-stub')
  const { listStacks } = require('../__test__/helpers/cdk')

  state.home = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-demo-'))
  const home = state.home
  fs.mkdirSync(path.join(home, '.cdk'), { recursive: true })
  const cacheDir = path.join(home, '.aws', 'cdk-mfa-rs', 'cache')
  const aws = writeAwsFiles(home)
  say(`throwaway HOME: ${home}${opts.keep ? ' (kept: --keep)' : ' (removed at the end; --keep keeps it)'}`)
  note(`AWS profiles written to ${aws.configFile}:`)
  for (const l of aws.config.split('\n').filter((x) => x && !x.startsWith('#'))) note(`  ${l}`)
  note(`plugin mapping (sample-app/cdkmultiprofileplugin.json): ${STAGES.map((s) => `${s.account} → ${s.profile}`).join(', ')}`)

  say('starting moto (local AWS) and the STS stub in front of it ...')
  state.moto = await startMoto({ env: { HOME: home, AWS_CONFIG_FILE: aws.configFile, AWS_SHARED_CREDENTIALS_FILE: aws.credentialsFile } })
  // Proxy mode: moto issues the credentials; the stub logs every STS call. Any 6 digits are a
  // valid MFA code here (the stub's default would refuse 000000).
  state.stub = await startStsStub({ upstream: state.moto.url, faults: { invalidCodes: [] } })
  note(`moto:     ${state.moto.url}`)
  note(`STS stub: ${state.stub.url}`)

  const env = cliEnv(home, state.moto.url, state.stub.url, cacheDir)
  const fromEnv = Boolean(process.env.CDK_MFA_CODE)
  note(
    fromEnv
      ? 'MFA code: from CDK_MFA_CODE (no prompt)'
      : `MFA code: the plugin will ask you once, on this terminal, for a code of ${MFA_SERIAL}; type any 6 digits`,
  )

  const stepTimeout = Number(process.env.CDK_MFA_DEMO_STEP_TIMEOUT_SECONDS || 600) * 1000
  const phases = []
  const stub = state.stub
  async function phase(name, args) {
    const before = stub.calls.length
    const r = await runCdk(args, env, stepTimeout)
    if (state.stopping) await new Promise(() => {}) // the signal handler exits
    const calls = stub.calls.slice(before)
    const p = {
      name,
      command: `cdk ${args.join(' ')}`,
      exitCode: r.code,
      signal: r.signal,
      seconds: Number(secs(r.ms)),
      getSessionToken: calls.filter((c) => c.action === 'GetSessionToken').length,
      mfaCodes: calls.filter((c) => c.tokenCode).length,
      mfaCodesRejected: calls.filter((c) => c.tokenCode && c.status !== 200).length,
      assumeRole: calls.filter((c) => c.action === 'AssumeRole').length,
      // The CLI itself assumes the bootstrap roles (cdk-<qualifier>-deploy-role-…) with the
      // plugin's credentials; every other AssumeRole is the plugin's.
      pluginAssumeRole: calls.filter((c) => c.action === 'AssumeRole' && !BOOTSTRAP_ROLE.test(c.roleArn || '')).length,
      stsCalls: calls.map((c) => ({ action: c.action, roleArn: c.roleArn || undefined, mfa: Boolean(c.tokenCode), status: c.status })),
    }
    phases.push(p)
    note(`${name}: exit ${r.code ?? r.signal} in ${p.seconds} s; GetSessionToken ${p.getSessionToken}, MFA codes sent ${p.mfaCodes}`)
    if (r.code !== 0) throw new Error(`${p.command} failed (exit ${r.code ?? r.signal}); see its output above`)
    return p
  }

  await phase('bootstrap', ['bootstrap'])
  await phase('deploy', ['deploy', '--all', '--require-approval', 'never', '--method=direct'])
  await phase('deploy again', ['deploy', '--all', '--require-approval', 'never', '--method=direct'])

  // ─── summary ───
  const accounts = {}
  for (const s of STAGES) {
    accounts[s.account] = (await listStacks(state.moto.url, s.account, REGION)).map((x) => ({ name: x.name, status: x.status })).sort((a, b) => a.name.localeCompare(b.name))
  }
  const cacheFiles = listCache(cacheDir)
  const total = (k) => phases.reduce((n, p) => n + p[k], 0)
  const summary = {
    ok: false,
    seconds: Number(secs(Date.now() - t0)),
    mfaCodeSource: fromEnv ? 'CDK_MFA_CODE' : 'prompt',
    getSessionTokenTotal: total('getSessionToken'),
    mfaCodesTotal: total('mfaCodes'),
    mfaCodesRejected: total('mfaCodesRejected'),
    pluginAssumeRoleTotal: total('pluginAssumeRole'),
    home,
    motoPid: state.moto.pid,
    phases,
    accounts,
    cacheDir,
    cacheFiles,
  }
  const problems = []
  for (const s of STAGES) {
    const names = accounts[s.account].filter((x) => /_COMPLETE$/.test(x.status) && !/ROLLBACK|DELETE/.test(x.status)).map((x) => x.name)
    for (const want of ['CDKToolkit', 'required-resources', s.stage]) {
      if (!names.includes(want)) problems.push(`stack ${want} not deployed in ${s.account}`)
    }
  }
  if (summary.getSessionTokenTotal !== 1) problems.push(`expected 1 GetSessionToken call, saw ${summary.getSessionTokenTotal}`)
  const again = phases.find((p) => p.name === 'deploy again')
  if (again.getSessionToken !== 0 || again.mfaCodes !== 0) problems.push('the second deploy asked for MFA again')
  summary.ok = problems.length === 0
  summary.problems = problems

  say('summary')
  for (const s of STAGES) {
    note(`account ${s.account} (${s.stage}): ${accounts[s.account].map((x) => `${x.name} ${x.status}`).join(', ') || 'no stacks'}`)
  }
  const source = fromEnv ? 'from CDK_MFA_CODE' : 'typed at the prompt'
  note(`MFA codes sent to STS (${source}): ${summary.mfaCodesTotal}${summary.mfaCodesRejected ? ` (${summary.mfaCodesRejected} rejected)` : ''}; GetSessionToken calls: ${summary.getSessionTokenTotal}`)
  note(`STS calls by the plugin: ${summary.getSessionTokenTotal} GetSessionToken + ${summary.pluginAssumeRoleTotal} AssumeRole over the whole demo (the rest cached)`)
  for (const p of phases) {
    note(`  ${p.name.padEnd(13)} ${String(p.seconds).padStart(5)} s   MFA codes ${p.mfaCodes}   GetSessionToken ${p.getSessionToken}   AssumeRole by the plugin ${p.pluginAssumeRole}, by the CLI (bootstrap roles) ${p.assumeRole - p.pluginAssumeRole}`)
  }
  note(`second deploy: ${again.mfaCodes} MFA codes, ${again.getSessionToken} GetSessionToken, ${again.pluginAssumeRole} AssumeRole by the plugin (all from the cache)`)
  note(`cache ${cacheDir} (${cacheFiles.length} files):`)
  for (const f of cacheFiles) {
    const label = Object.entries(f.labels).map(([k, v]) => `${k}=${v}`).join(' ')
    note(`  ${f.mode} ${f.file}`)
    if (label || f.expires) note(`         ${label}${f.expires ? `  expires ${f.expires.replace(/\.\d+Z$/, 'Z')}` : ''}`)
  }
  note(`total time: ${summary.seconds} s`)
  if (opts.summaryJson) fs.writeFileSync(opts.summaryJson, JSON.stringify(summary, null, 2) + '\n')
  if (!summary.ok) throw new Error(problems.join('; '))
  say('demo OK')
}

main()
  .then(() => stopAll())
  .then(() => {
    if (state.keep) note(`throwaway HOME kept: ${state.home}`)
    process.exit(0)
  })
  .catch(async (e) => {
    process.stderr.write(`\n[demo] FAILED: ${e.message}\n`)
    if (state.moto && process.env.CDK_MFA_DEMO_MOTO_LOG) process.stderr.write(state.moto.logs().slice(-5000))
    await stopAll()
    process.exit(1)
  })
