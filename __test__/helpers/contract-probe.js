'use strict'
// The CDK plugin contract as the CLI uses it, from an installed package:
//   node contract-probe.js <node_modules/cdk-mfa-rs> <account>
// prints one JSON line: version, what init registered, isAvailable, canProvideCredentials for the
// account and for an unmapped one, getProvider(account, ForWriting), and which .node file loaded.
const [pkg, account] = process.argv.slice(2)
;(async () => {
  const plugin = require(pkg)
  const sources = []
  const ret = plugin.init({ registerCredentialProviderSource: (s) => sources.push(s) })
  const s = sources[0]
  const creds = await s.getProvider(account, 1, { supportsV3Providers: true })
  const out = {
    version: plugin.version,
    initReturned: typeof ret,
    registered: sources.length,
    name: s.name,
    available: await s.isAvailable(),
    canProvide: await s.canProvideCredentials(account),
    canProvideUnmapped: await s.canProvideCredentials('999999999999'),
    accessKeyId: creds.accessKeyId,
    hasSessionToken: Boolean(creds.sessionToken),
    expirationIsDate: creds.expiration instanceof Date,
    loaded: Object.keys(require.cache).filter((f) => f.endsWith('.node')),
  }
  process.stdout.write(JSON.stringify(out) + '\n')
})().catch((e) => {
  process.stderr.write(`probe failed: ${e.stack}\n`)
  process.exitCode = 1
})
