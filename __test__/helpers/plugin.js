'use strict'
// Loads the built addon through a fake CDK plugin host, with a chosen cwd and environment.
// The addon reads its configuration when `init` runs, so each call gives a fresh source.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const PLUGIN = path.resolve(__dirname, '..', '..')

// Variables a test may set; everything else from the developer's shell is removed so that
// no real AWS setting can leak into a test.
const CONTROLLED = [
  'HOME',
  'USERPROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_STS',
  'AWS_EC2_METADATA_DISABLED',
  'CDK_MFA_CODE',
  'CDK_MFA_RS_CACHE_DIR',
  'CDK_MFA_RS_DISABLE',
  'IGNORE_CDK_MULTI_PROFILE_PLUGIN',
  'CDK_MULTI_PROFILE_PLUGIN_CONFIG',
  'CDK_MFA_RS_CREDENTIAL_TIMEOUT_SECONDS',
]

/** A temp HOME with .aws/config (+credentials) and a project dir; returns paths. */
function makeWorld({ config = '', credentials, project = {}, global } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-'))
  const home = path.join(root, 'home')
  const cwd = path.join(root, 'project')
  fs.mkdirSync(path.join(home, '.aws'), { recursive: true })
  fs.mkdirSync(cwd, { recursive: true })
  fs.writeFileSync(path.join(home, '.aws', 'config'), config)
  if (credentials !== undefined) fs.writeFileSync(path.join(home, '.aws', 'credentials'), credentials)
  for (const [name, content] of Object.entries(project)) {
    fs.writeFileSync(path.join(cwd, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
  if (global !== undefined) {
    fs.writeFileSync(path.join(home, '.cdkmultiprofileplugin.json'), typeof global === 'string' ? global : JSON.stringify(global))
  }
  return { root, home, cwd, cacheDir: path.join(root, 'cache'), cleanup: () => fs.rmSync(root, { recursive: true, force: true }) }
}

/**
 * Sets the environment and cwd, then calls the addon's `init` with a fake host.
 * @returns {{source: object, registered: object[], plugin: object}}
 */
function loadSource(world, env = {}) {
  for (const k of CONTROLLED) delete process.env[k]
  Object.assign(process.env, {
    HOME: world.home,
    USERPROFILE: world.home, // the home on Windows
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_MFA_RS_CACHE_DIR: world.cacheDir,
  })
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || v === null) delete process.env[k]
    else process.env[k] = String(v)
  }
  process.chdir(world.cwd)
  const plugin = require(PLUGIN)
  const registered = []
  const result = plugin.init({ registerCredentialProviderSource: (s) => registered.push(s) })
  if (result !== undefined) throw new Error('init must return synchronously, without a value')
  return { source: registered[0], registered, plugin }
}

module.exports = { makeWorld, loadSource, PLUGIN }

// What a Windows process needs from the parent environment to start its networking and crypto
// (SystemRoot) and to find a temp dir; nothing AWS-related. Empty elsewhere.
function windowsBasics() {
  if (process.platform !== 'win32') return {}
  const keep = ['SystemRoot', 'SystemDrive', 'windir', 'TEMP', 'TMP', 'PATHEXT', 'ComSpec']
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => keep.some((w) => w.toLowerCase() === k.toLowerCase())))
}

/**
 * The common frame of the test files that talk to the STS stub: starts it before the tests,
 * resets its faults, calls and used codes before each, stops it and removes the worlds after.
 * @returns {{stub: object, world: (opts?: object) => object, env: (w: object, extra?: object) => object}}
 */
function stsSuite(test, stubOpts) {
  const { startStsStub } = require('./sts-stub')
  const worlds = []
  const suite = {
    stub: null,
    world(opts) {
      const w = makeWorld(opts)
      worlds.push(w)
      return w
    },
    /** Environment for a child process using world `w` (no TTY, STS = the stub); undefined removes a key. */
    env(w, extra = {}) {
      const env = { ...windowsBasics(), PATH: process.env.PATH, HOME: w.home, USERPROFILE: w.home, CDK_MFA_RS_CACHE_DIR: w.cacheDir, AWS_ENDPOINT_URL_STS: suite.stub.url, AWS_EC2_METADATA_DISABLED: 'true', ...extra }
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
      return env
    },
  }
  test.before(async () => {
    suite.stub = await startStsStub(stubOpts)
  })
  test.after.always(async () => {
    if (suite.stub) await suite.stub.stop()
    if (!process.env.KEEP_TMP) for (const w of worlds) w.cleanup()
  })
  test.beforeEach(() => {
    suite.stub.resetFaults()
    suite.stub.clearCalls()
    suite.stub.usedCodes.clear()
  })
  return suite
}

module.exports.stsSuite = stsSuite
