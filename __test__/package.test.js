'use strict'
// Issue "Packaging": `npm pack` holds only what a user needs, and the tarball, installed into a
// fresh CDK app next to aws-cdk@2, works with `"plugin": ["cdk-mfa-rs"]` by name.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn } = require('node:child_process')
const { startMoto } = require('./helpers/moto')
const { makeTempHome, writeAwsConfig, makeCdkApp, cdkEnv, listStacks } = require('./helpers/cdk')

const ROOT = path.resolve(__dirname, '..')
const rootPkg = require(path.join(ROOT, 'package.json'))
const ACCOUNT = '555555555555'

let moto
let packDir
const homes = []
test.before(async () => {
  moto = await startMoto()
  packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-pack-'))
})
test.after.always(async () => {
  if (moto) await moto.stop()
  if (!process.env.KEEP_TMP) {
    for (const h of homes) h.cleanup()
    if (packDir) fs.rmSync(packDir, { recursive: true, force: true })
  }
})

function npm(args, cwd) {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_update_notifier: 'false' } })
}

function run(bin, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('close', (code) => resolve({ code, out }))
  })
}

test.serial('npm pack holds plugin.js, index.js, index.d.ts, cli.js, the linux-x64-gnu binary, README, LICENSE and nothing else', (t) => {
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', packDir], ROOT))
  const files = info.files.map((f) => f.path).sort()
  t.deepEqual(files, ['LICENSE', 'README.md', 'cdk-mfa-rs.linux-x64-gnu.node', 'cli.js', 'index.d.ts', 'index.js', 'package.json', 'plugin.js'])
  t.true(fs.existsSync(path.join(packDir, info.filename)))
})

test.serial('the tarball installed into a fresh CDK app works by name: cdk synth, bootstrap and deploy', async (t) => {
  const tarball = fs.readdirSync(packDir).find((f) => f.endsWith('.tgz'))
  t.truthy(tarball, 'run after the pack test')
  const home = makeTempHome()
  homes.push(home)
  const appDir = path.join(home.home, 'fresh-app')
  fs.mkdirSync(appDir)
  fs.writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'fresh-app', private: true }))
  const dev = rootPkg.devDependencies
  npm(
    ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(packDir, tarball), `aws-cdk@${dev['aws-cdk']}`, `aws-cdk-lib@${dev['aws-cdk-lib']}`, `constructs@${dev.constructs}`],
    appDir,
  )
  // The installed plugin is the packed one, not this checkout.
  t.true(fs.existsSync(path.join(appDir, 'node_modules', 'cdk-mfa-rs', 'cdk-mfa-rs.linux-x64-gnu.node')))
  makeCdkApp(appDir, [{ name: 'PackedStack', account: ACCOUNT }], { plugin: ['cdk-mfa-rs'] })
  fs.writeFileSync(path.join(appDir, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [ACCOUNT]: 'deploy' } }))
  writeAwsConfig(
    home,
    `[profile deploy]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/Deployer\nsource_profile = src\nregion = us-east-1\n`,
    '[src]\naws_access_key_id = AKIAPACKAGETEST00001\naws_secret_access_key = package-secret\n',
  )
  const env = cdkEnv({ home, motoUrl: moto.url, env: { CDK_MFA_RS_CACHE_DIR: path.join(home.home, 'cache') } })
  const cdk = path.join(appDir, 'node_modules', '.bin', 'cdk')
  const opts = { cwd: appDir, env }

  const synth = await run(cdk, ['synth', '--no-notices', '-q'], opts)
  t.is(synth.code, 0, synth.out)
  const boot = await run(cdk, ['bootstrap', `aws://${ACCOUNT}/us-east-1`, '--no-notices'], opts)
  t.is(boot.code, 0, boot.out)
  t.regex(boot.out, new RegExp(`cdk-mfa-rs: account ${ACCOUNT} \\(ForWriting\\) → profile deploy`))
  const deploy = await run(cdk, ['deploy', '--all', '--require-approval', 'never', '--method=direct', '--no-notices'], opts)
  t.is(deploy.code, 0, deploy.out)
  const names = (await listStacks(moto.url, ACCOUNT)).map((s) => `${s.name}:${s.status}`).sort()
  t.deepEqual(names, ['CDKToolkit:CREATE_COMPLETE', 'PackedStack:CREATE_COMPLETE'])
  // The packed bin: `cdk-mfa-rs status` sees the deploy's cached role session.
  const status = await run(path.join(appDir, 'node_modules', '.bin', 'cdk-mfa-rs'), ['status'], opts)
  t.is(status.code, 0, status.out)
  t.regex(status.out, new RegExp(`${ACCOUNT}\\s+read/write\\s+profile deploy → arn:aws:iam::${ACCOUNT}:role/Deployer \\(static keys of profile src\\)\\s+-\\s+in `))
})
