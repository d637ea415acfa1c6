'use strict'
// The package's entry point (`main`): what the CDK CLI loads for `"plugin": ["cdk-mfa-rs"]` and
// what cli.js runs. napi-rs's generated loader (index.js, rewritten by every `napi build`) finds
// this platform's binary: next to it (a local build) or in the optional dependency
// `cdk-mfa-rs-<platform>` that npm installs for the user's OS, CPU and libc. When it cannot, its
// error is a chain of every path it tried; this says the one thing that matters on one line.

// The platforms published as cdk-mfa-rs-<platform> (package.json napi.targets; see README).
const SHIPPED = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc']

// napi's name for this process's platform: <os>-<cpu>[-<abi>], e.g. linux-arm64-musl.
function platformKey() {
  const base = `${process.platform}-${process.arch}`
  if (process.platform === 'win32') return `${base}-msvc`
  if (process.platform !== 'linux') return base
  let musl = false
  try {
    const report = process.report && process.report.getReport()
    musl = !!report && !(report.header && report.header.glibcVersionRuntime)
  } catch {}
  return `${base}-${musl ? 'musl' : 'gnu'}`
}

function causes(e) {
  const out = []
  for (let c = e; c && out.length < 50; c = c.cause) out.push(c)
  return out
}

function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim()
}

function describeLoadFailure(e) {
  const key = platformKey()
  const where = `${key}, Node ${process.version}`
  if (!SHIPPED.includes(key)) {
    return `no binary for this platform (${where}); cdk-mfa-rs ships binaries for ${SHIPPED.join(', ')}`
  }
  // A binary that exists but does not load (wrong libc, too old a glibc, a damaged file). napi's
  // chain keeps only messages: "Cannot find module" is a path that is not there.
  const real = causes(e)
    .slice(1)
    .find((c) => !/^(Cannot find module|Cannot find native binding|Failed to load native binding)/.test(String(c && c.message)))
  if (real) return `the binary for this platform (${where}) failed to load: ${oneLine(real.message)}`
  return (
    `the binary for this platform (${where}) is not installed: its package cdk-mfa-rs-${key} is missing; ` +
    'reinstall cdk-mfa-rs with optional dependencies enabled (npm install without --omit=optional / --no-optional)'
  )
}

try {
  module.exports = require('./index.js')
} catch (e) {
  const err = new Error(`cdk-mfa-rs: ${describeLoadFailure(e)}`)
  err.code = 'CDK_MFA_RS_NO_BINARY'
  throw err
}
