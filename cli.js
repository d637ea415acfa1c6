#!/usr/bin/env node
'use strict'
// The `cdk-mfa-rs` companion command. Everything happens in Rust (src/cli/): this only hands
// over the arguments and sets the exit code. A failure is one line `cdk-mfa-rs: <reason>` on stderr.
function fail(e) {
  const msg = String((e && e.message) || e).replace(/^cdk-mfa-rs: /, '').replace(/\s+/g, ' ').trim()
  process.stderr.write(`cdk-mfa-rs: ${msg}\n`)
  process.exitCode = 1
}
let runCli
try {
  ;({ runCli } = require('./plugin.js'))
} catch (e) {
  fail(e)
}
if (runCli) runCli(process.argv.slice(2)).then((code) => (process.exitCode = code), fail)
