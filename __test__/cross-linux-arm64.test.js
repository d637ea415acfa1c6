'use strict'
// Issue 11: linux-arm64-gnu, built here with zig (glibc 2.17 floor), run under qemu-aarch64 with
// the official arm64 Node 22 from npm, against the local STS stub.
const test = require('ava')
const { emulatedPlatformSuite } = require('./helpers/cross-suite')

emulatedPlatformSuite(test, 'linux-arm64-gnu')
