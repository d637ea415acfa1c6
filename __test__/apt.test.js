'use strict'
// scripts/apt.js: how the setup installs the Debian packages it is missing. As root with apt-get
// itself; as another user (GitHub's runners: non-root, password-less sudo) through `sudo -n`;
// with neither, one error naming the packages. Nothing here installs anything.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { installCommands, ensureDebianPackages } = require('../scripts/apt')

const ROOT = path.resolve(__dirname, '..')
const LOCK = ['-o', 'DPkg::Lock::Timeout=600']

test('as root: apt-get update, then apt-get install -y --no-install-recommends of the missing packages', (t) => {
  t.deepEqual(installCommands(['wine', 'xdotool'], { root: true, sudo: true }), [
    ['apt-get', ...LOCK, 'update', '-q'],
    ['apt-get', ...LOCK, 'install', '-y', '-q', '--no-install-recommends', 'wine', 'xdotool'],
  ])
})

test('not root, sudo present: the same through `sudo -n` (never a password prompt), the non-interactive frontend on its command line', (t) => {
  const sudo = ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...LOCK]
  t.deepEqual(installCommands(['debian-archive-keyring'], { root: false, sudo: true }), [
    [...sudo, 'update', '-q'],
    [...sudo, 'install', '-y', '-q', '--no-install-recommends', 'debian-archive-keyring'],
  ])
})

test('not root, no sudo: one error naming the packages and the command that installs them', (t) => {
  const e = t.throws(() => installCommands(['wine', 'zenity'], { root: false, sudo: false }))
  t.is(e.message, 'missing Debian packages: wine zenity; install them (sudo apt-get install wine zenity)')
})

test('nothing missing: nothing is run, not even a look for apt-get', (t) => {
  const saved = process.env.PATH
  process.env.PATH = ''
  try {
    const logged = []
    ensureDebianPackages([{ pkg: 'wine', present: () => true }], (m) => logged.push(m))
    t.deepEqual(logged, [])
  } finally {
    process.env.PATH = saved
  }
})

// A real non-root process (nobody), where apt-get exists and sudo does not: the setup stops with
// the one-line error before running anything. Needs root to switch user (setpriv), so it runs
// where the suite runs as root (here); on GitHub's non-root runner the cases above cover it.
const canSwitchUser = process.platform === 'linux' && process.getuid() === 0 && fs.existsSync('/usr/bin/setpriv') && fs.existsSync('/usr/bin/apt-get')
;(canSwitchUser ? test : test.skip)('as a real non-root user without sudo: fails naming the package, installs nothing', (t) => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-apt-'))
  t.teardown(() => fs.rmSync(bin, { recursive: true, force: true }))
  fs.chmodSync(bin, 0o755)
  fs.symlinkSync('/usr/bin/apt-get', path.join(bin, 'apt-get'))
  const js = `require(${JSON.stringify(path.join(ROOT, 'scripts', 'apt.js'))}).ensureDebianPackages([{ pkg: 'cdk-mfa-rs-absent', present: () => false }], (m) => console.log('LOG ' + m))`
  const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', js], {
    encoding: 'utf8',
    env: { PATH: bin, HOME: os.tmpdir() },
    timeout: 30000,
  })
  t.is(r.status, 1, r.stderr)
  t.regex(r.stderr, /Error: missing Debian packages: cdk-mfa-rs-absent; install them \(sudo apt-get install cdk-mfa-rs-absent\)/)
  t.notRegex(r.stdout, /LOG/, 'nothing was started')
})
