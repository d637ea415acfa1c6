'use strict'
// Issue 11: linux-arm64-gnu, built here with zig (glibc 2.17 floor), run under qemu-aarch64 with
// the official arm64 Node 22 from npm, against the local STS stub.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { emulatedPlatformSuite } = require('./helpers/cross-suite')

const s = emulatedPlatformSuite(test, 'linux-arm64-gnu')

test.serial('linux-arm64-gnu without its platform package (npm --omit=optional): one line naming the platform and the package', async (t) => {
  const inst = s.install()
  const plat = path.join(inst.root, 'node_modules', 'cdk-mfa-rs-linux-arm64-gnu')
  const away = `${plat}.away`
  fs.renameSync(plat, away)
  try {
    const r = await s.emulator().run(path.join(inst.pkg, 'cli.js'), ['status'], { cwd: inst.root })
    t.is(r.code, 1)
    t.is(r.stdout, '')
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
    t.regex(r.stderr, /^cdk-mfa-rs: the binary for this platform \(linux-arm64-gnu, Node v22\.[\d.]+\) is not installed: its package cdk-mfa-rs-linux-arm64-gnu is missing; reinstall cdk-mfa-rs with optional dependencies/)
  } finally {
    fs.renameSync(away, plat)
  }
})
