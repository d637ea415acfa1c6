'use strict'
// Issue 11 (reproducible install): a fresh clone installs with `npm ci` from the committed lock,
// and nothing rewrites it. Both checks run on copies in a temporary directory; no registry
// access is needed when the lock is complete.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { NODE_VERSIONS_DIR } = require('../scripts/setup')

const ROOT = path.resolve(__dirname, '..')

function npm(args, cwd) {
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', [...args, '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    env: { ...process.env, npm_config_update_notifier: 'false' },
  })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

/** package.json + package-lock.json (+ the project .npmrc) of `dir`, copied into a temp dir. */
function copyProject(t, dir) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-lock-'))
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }))
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(dir, f), path.join(tmp, f))
  fs.copyFileSync(path.join(ROOT, '.npmrc'), path.join(tmp, '.npmrc'))
  return tmp
}

for (const [name, dir] of [
  ['package-lock.json', ROOT],
  ['scripts/node-versions/package-lock.json', NODE_VERSIONS_DIR],
]) {
  test(`${name}: npm ci accepts it and npm install would not change a byte of it`, (t) => {
    const tmp = copyProject(t, dir)
    const committed = fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8')
    const lockOnly = npm(['install', '--package-lock-only'], tmp)
    t.is(lockOnly.code, 0, lockOnly.out)
    t.is(fs.readFileSync(path.join(tmp, 'package-lock.json'), 'utf8'), committed, 'npm install rewrites the lock: run `npm install` and commit it')
    // The official Node packages are linux-x64 only (os/cpu), so `npm ci` of that folder is a
    // linux-x64 affair; the project's own lock must be accepted everywhere.
    if (dir === ROOT || (process.platform === 'linux' && process.arch === 'x64')) {
      const ci = npm(['ci', '--dry-run'], tmp)
      t.is(ci.code, 0, ci.out)
    }
  })
}

test('engines.node names exactly the Node majors the suite runs under (scripts/node-versions)', (t) => {
  const engines = require(path.join(ROOT, 'package.json')).engines.node
  t.regex(engines, /^\^\d+( \|\| \^\d+)*$/, 'one ^N per supported major')
  const claimed = engines.split(' || ').map((r) => Number(r.slice(1)))
  const pinned = require(path.join(NODE_VERSIONS_DIR, 'package.json')).dependencies
  const tested = Object.values(pinned).map((spec) => Number(/@(\d+)\.\d+\.\d+$/.exec(spec)[1]))
  t.deepEqual(claimed, tested)
  t.deepEqual(Object.keys(pinned), tested.map((m) => `node${m}`))
})
