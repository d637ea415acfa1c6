'use strict'
// Issue 12 (security review): MFA in role chains, secrets and control characters in what we print,
// processes left behind by time-outs, BOMs, skipped profile sections, account/role mismatches.
// Every scenario runs the companion command or the addon in real processes against the STS stub.
const test = require('ava')
const path = require('node:path')
const { stsSuite } = require('./helpers/plugin')
const { cli } = require('./helpers/cli')

const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const A1 = '111111111111'
const A2 = '222222222222'
const ROLE_A = `arn:aws:iam::${A1}:role/RoleA`
const ROLE_B = `arn:aws:iam::${A2}:role/RoleB`
const BASE_KEYS = '[base]\naws_access_key_id = AKIABASEKEY000000001\naws_secret_access_key = base-secret-canary-chain\n'

const suite = stsSuite(test)
const envFor = suite.env

/** `top` (role B, mfa_serial) → `mid` (role A, no MFA) → `base` (long-term keys). */
function chainWorld(strategy) {
  return suite.world({
    config:
      `[profile base]\nregion = us-east-1\n` +
      `[profile mid]\nrole_arn = ${ROLE_A}\nsource_profile = base\n` +
      `[profile top]\nrole_arn = ${ROLE_B}\nsource_profile = mid\nmfa_serial = ${SERIAL}\n`,
    credentials: BASE_KEYS,
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'mid', [A2]: 'top' }, mfaStrategy: strategy } },
  })
}

const calls = () => suite.stub.calls.map((c) => `${c.action} ${c.roleArn || ''} ${c.serialNumber ? `MFA ${c.serialNumber} ${c.tokenCode}` : 'no MFA'}`.replace('  ', ' '))

for (const strategy of ['auto', 'session', 'per-role']) {
  test.serial(`item 4 (${strategy}): role B of an mfa_serial profile is assumed with MFA, whether role A was cached before or not`, async (t) => {
    // STS side: B refuses a call without MFA, as a trust policy with aws:MultiFactorAuthPresent does.
    suite.stub.setFaults({ mfaRequiredRoles: [ROLE_B] })
    const w = chainWorld(strategy)
    const opts = (extra) => ({ env: envFor(w, extra), cwd: w.cwd })

    // `mid` first: role A without MFA (no code is available, none is needed).
    const mid = await cli(['credential-process', '--profile', 'mid'], opts())
    t.is(mid.code, 0, mid.stderr)
    t.deepEqual(calls(), [`AssumeRole ${ROLE_A} no MFA`])

    // Then `top`: the cached role A may be its caller, but B itself carries the MFA parameters.
    suite.stub.clearCalls()
    const top = await cli(['credential-process', '--profile', 'top'], opts({ CDK_MFA_CODE: '123456' }))
    t.is(top.code, 0, top.stderr)
    t.deepEqual(calls(), [`AssumeRole ${ROLE_B} MFA ${SERIAL} 123456`])
    t.true(suite.stub.calls[0].hasSessionToken, 'B is assumed from role A credentials')

    // A later run reuses the cached B: no STS call, no code needed.
    suite.stub.clearCalls()
    const again = await cli(['credential-process', '--profile', 'top'], opts())
    t.is(again.code, 0, again.stderr)
    t.deepEqual(calls(), [])
    t.is(JSON.parse(again.stdout).AccessKeyId, JSON.parse(top.stdout).AccessKeyId)

    // Other order, fresh cache: `top` first gives the same STS conversation (A plain, B with MFA),
    // and `mid` afterwards reuses that role A, which was assumed without MFA.
    suite.stub.clearCalls()
    suite.stub.usedCodes.clear()
    const fresh = { CDK_MFA_RS_CACHE_DIR: path.join(w.root, 'cache-2') }
    const top2 = await cli(['credential-process', '--profile', 'top'], opts({ ...fresh, CDK_MFA_CODE: '654321' }))
    t.is(top2.code, 0, top2.stderr)
    t.deepEqual(calls(), [`AssumeRole ${ROLE_A} no MFA`, `AssumeRole ${ROLE_B} MFA ${SERIAL} 654321`])
    suite.stub.clearCalls()
    const mid2 = await cli(['credential-process', '--profile', 'mid'], opts(fresh))
    t.is(mid2.code, 0, mid2.stderr)
    t.deepEqual(calls(), [])
  })
}
