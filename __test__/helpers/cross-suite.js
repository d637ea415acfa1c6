'use strict'
// The tests every emulated platform passes (issue 11): the CDK plugin contract from an installed
// package, the companion command's credential-process (GetSessionToken, then AssumeRole) and
// HTTPS to STS with a test CA. Each runs the platform's official Node on the platform's binary.
const fs = require('node:fs')
const path = require('node:path')
const { stsSuite } = require('./plugin')
const { httpsFront } = require('./tls')
const { installFor, emulator, PROBE } = require('./cross')

const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const A = '111111111111'

/** @param key napi platform, e.g. 'linux-arm64-gnu' */
function emulatedPlatformSuite(test, key) {
  const suite = stsSuite(test)
  let emu
  let inst
  test.before(() => {
    emu = emulator(key)
    inst = installFor(key)
  })
  test.after.always(() => {
    if (inst && !process.env.KEEP_TMP) inst.cleanup()
  })

  function world() {
    return suite.world({
      config: `[profile base]\nregion = us-east-1\n[profile deploy]\nrole_arn = arn:aws:iam::${A}:role/Deployer\nsource_profile = base\nmfa_serial = ${SERIAL}\n`,
      credentials: '[base]\naws_access_key_id = AKIACROSSPLATFORM001\naws_secret_access_key = cross-platform-secret\n',
      project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A]: 'deploy' } } },
    })
  }

  // What the program sees: on Windows the home is USERPROFILE and the cache is its default place
  // under it (%USERPROFILE%\.aws\cdk-mfa-rs\cache); elsewhere HOME and an explicit cache dir.
  function envFor(w, extra = {}) {
    const home = key.startsWith('win32')
      ? { USERPROFILE: emu.hostPath(w.home) }
      : { HOME: w.home, CDK_MFA_RS_CACHE_DIR: w.cacheDir }
    return { ...home, AWS_ENDPOINT_URL_STS: suite.stub.url, AWS_EC2_METADATA_DISABLED: 'true', CDK_MFA_CODE: '123456', ...extra }
  }

  function cacheFiles(w) {
    const dir = key.startsWith('win32') ? path.join(w.home, '.aws', 'cdk-mfa-rs', 'cache') : w.cacheDir
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : []
  }

  function stsActions() {
    return suite.stub.calls.map((c) => `${c.action}${c.tokenCode ? `+mfa:${c.tokenCode}` : ''}`)
  }

  test.serial(`${key}: the plugin contract from the installed package (version, init, isAvailable, canProvideCredentials, getProvider)`, async (t) => {
    const w = world()
    const r = await emu.run(PROBE, [emu.hostPath(inst.pkg), A], { env: envFor(w), cwd: w.cwd })
    t.is(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout.trim().split('\n').pop())
    t.is(out.version, '1')
    t.is(out.initReturned, 'undefined')
    t.is(out.registered, 1)
    t.is(out.name, 'cdk-mfa-rs')
    t.true(out.available)
    t.true(out.canProvide)
    t.false(out.canProvideUnmapped)
    t.regex(out.accessKeyId, /^ASIA/)
    t.true(out.hasSessionToken)
    t.true(out.expirationIsDate)
    // The loader took this platform's binary from its optional-dependency package.
    t.is(out.loaded.length, 1, JSON.stringify(out.loaded))
    t.regex(out.loaded[0].replace(/\\/g, '/'), new RegExp(`node_modules/cdk-mfa-rs-${key}/cdk-mfa-rs\\.${key}\\.node$`))
    t.deepEqual(stsActions(), ['GetSessionToken+mfa:123456', 'AssumeRole'])
    t.is(cacheFiles(w).length, 2, 'the MFA session and the role are cached')
  })

  test.serial(`${key}: companion command credential-process with CDK_MFA_CODE: GetSessionToken, then AssumeRole`, async (t) => {
    const w = world()
    const cli = path.join(inst.pkg, 'cli.js')
    const r = await emu.run(cli, ['credential-process', '--profile', 'deploy'], { env: envFor(w), cwd: w.cwd })
    t.is(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    t.is(out.Version, 1)
    t.regex(out.AccessKeyId, /^ASIA/)
    t.truthy(out.SessionToken)
    t.deepEqual(stsActions(), ['GetSessionToken+mfa:123456', 'AssumeRole'])
    t.is(suite.stub.calls[1].roleArn, `arn:aws:iam::${A}:role/Deployer`)
    // A second run is served from the cache: no STS call.
    suite.stub.clearCalls()
    const again = await emu.run(cli, ['credential-process', '--profile', 'deploy'], { env: envFor(w, { CDK_MFA_CODE: undefined }), cwd: w.cwd })
    t.is(again.code, 0, again.stderr)
    t.is(JSON.parse(again.stdout).AccessKeyId, out.AccessKeyId)
    t.deepEqual(stsActions(), [])
  })

  test.serial(`${key}: HTTPS to STS with a test CA (SSL_CERT_FILE); an unknown issuer is one clear line`, async (t) => {
    const front = await httpsFront(suite.stub.url)
    try {
      const w = world()
      const cli = path.join(inst.pkg, 'cli.js')
      const args = ['credential-process', '--profile', 'deploy']
      const ok = await emu.run(cli, args, { env: envFor(w, { AWS_ENDPOINT_URL_STS: front.url, SSL_CERT_FILE: emu.hostPath(front.caFile) }), cwd: w.cwd })
      t.is(ok.code, 0, ok.stderr)
      t.regex(JSON.parse(ok.stdout).AccessKeyId, /^ASIA/)
      t.deepEqual(stsActions(), ['GetSessionToken+mfa:123456', 'AssumeRole'])
      const w2 = world()
      const bad = await emu.run(cli, args, { env: envFor(w2, { AWS_ENDPOINT_URL_STS: front.url, CDK_MFA_CODE: '654321' }), cwd: w2.cwd })
      t.is(bad.code, 1)
      t.is(bad.stderr.trim().split('\n').length, 1, bad.stderr)
      t.regex(bad.stderr, /^cdk-mfa-rs: .*https:\/\/localhost:\d+.*invalid peer certificate: UnknownIssuer/)
    } finally {
      await front.close()
    }
  })

  return { suite, emulator: () => emu, install: () => inst, world, envFor }
}

module.exports = { emulatedPlatformSuite }
