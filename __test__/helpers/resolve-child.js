'use strict'
// A stand-in for one CDK CLI process: loads the addon through a fake host and asks for
// credentials the way the CLI does. Spawned by tests (detached = no controlling terminal, or
// inside a pty), so every run is a fresh process with only the disk cache in common.
//
//   node resolve-child.js '{"requests":[["111111111111",0],["222222222222",1]],"concurrent":true}'
//   ("staggerMs": 60 with "concurrent": request i starts i × 60 ms after the first)
// prints one JSON line per request: {account, mode, accessKeyId, expiration, error}
const spec = JSON.parse(process.argv[2])
const plugin = require(process.env.CDK_MFA_RS_PLUGIN_PATH || require('node:path').resolve(__dirname, '..', '..'))
const sources = []
plugin.init({ registerCredentialProviderSource: (s) => sources.push(s) })
const source = sources[0]

async function one([account, mode]) {
  const t0 = Date.now()
  try {
    if (!(await source.canProvideCredentials(account))) return { account, mode, error: 'cannot provide' }
    const c = await source.getProvider(account, mode, { supportsV3Providers: true })
    return {
      account,
      mode,
      accessKeyId: c.accessKeyId,
      hasSessionToken: Boolean(c.sessionToken),
      expiration: c.expiration instanceof Date ? c.expiration.toISOString() : c.expiration === undefined ? 'absent' : `not a Date: ${typeof c.expiration}`,
      ms: Date.now() - t0,
    }
  } catch (e) {
    return { account, mode, error: e.message, ms: Date.now() - t0 }
  }
}

;(async () => {
  const later = (r, i) => new Promise((go) => setTimeout(go, i * (spec.staggerMs || 0))).then(() => one(r))
  const results = spec.concurrent ? await Promise.all(spec.requests.map(spec.staggerMs ? later : one)) : []
  if (!spec.concurrent) for (const r of spec.requests) results.push(await one(r))
  for (const r of results) process.stdout.write(JSON.stringify(r) + '\n')
})()
