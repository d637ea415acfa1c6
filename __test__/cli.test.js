'use strict'
// Issue "companion command": `cdk-mfa-rs` (cli.js → src/cli/) run as a real process for every
// scenario: status, login, logout, doctor, credential-process, export, their failure paths, and
// credential-process driven by the real AWS CLI (in a pty, through the STS stub in front of moto).
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { startMoto, VENV } = require('./helpers/moto')
const { startStsStub } = require('./helpers/sts-stub')
const { stsSuite } = require('./helpers/plugin')
const { runInPty } = require('./helpers/pty')
const { cli, failsWithOneLine, CLI } = require('./helpers/cli')

const ROOT = path.resolve(__dirname, '..')
const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const BASE_SECRET = 'base-secret-canary-cli-0001'
const A1 = '111111111111'
const A2 = '222222222222'

const suite = stsSuite(test)

/** Two MFA role profiles on one device behind long-term keys, a plain-keys profile, a missing one. */
function cliWorld({ project, extraConfig = '' } = {}) {
  const w = suite.world({
    config: [
      '[profile base]\nregion = us-east-1',
      `[profile role1]\nrole_arn = arn:aws:iam::${A1}:role/AdminMFARole\nsource_profile = base\nmfa_serial = ${SERIAL}`,
      `[profile role2]\nrole_arn = arn:aws:iam::${A2}:role/AdminMFARole\nsource_profile = base\nmfa_serial = ${SERIAL}`,
      '[profile plain]\naws_access_key_id = AKIAPLAINKEY00000001\naws_secret_access_key = plain-secret-canary',
      extraConfig,
    ].join('\n') + '\n',
    credentials: `[base]\naws_access_key_id = AKIABASEKEY000000001\naws_secret_access_key = ${BASE_SECRET}\n`,
    project: project || { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'role1', [A2]: { read: 'plain', write: 'role2' } } } },
  })
  return w
}

const envFor = suite.env

const cacheFiles = (w) => (fs.existsSync(w.cacheDir) ? fs.readdirSync(w.cacheDir).sort() : [])
const count = (action) => suite.stub.calls.filter((c) => c.action === action).length

test.serial('every subcommand has --help; unknown command, unknown option and missing target fail in one line', async (t) => {
  const w = cliWorld()
  const opts = { env: envFor(w), cwd: w.cwd }
  for (const cmd of ['status', 'login', 'logout', 'doctor', 'credential-process', 'export']) {
    const r = await cli([cmd, '--help'], opts)
    t.is(r.code, 0, r.stderr)
    t.true(r.stdout.startsWith(`Usage: cdk-mfa-rs ${cmd}`), r.stdout)
    t.is(r.stderr, '')
  }
  // The bin itself (shebang), top-level help.
  const top = await cli(['--help'], { ...opts, bin: CLI })
  t.is(top.code, 0)
  for (const cmd of ['status', 'login', 'logout', 'doctor', 'credential-process', 'export']) t.true(top.stdout.includes(cmd))
  t.is(require(path.join(ROOT, 'package.json')).bin['cdk-mfa-rs'], 'cli.js')

  failsWithOneLine(t, await cli(['frobnicate'], opts), /unknown command "frobnicate"; the commands are status, login/, 2)
  failsWithOneLine(t, await cli([], opts), /no command given/, 2)
  failsWithOneLine(t, await cli(['status', '--verbose'], opts), /unknown option --verbose/, 2)
  failsWithOneLine(t, await cli(['credential-process'], opts), /give --profile P or --account A/, 2)
  failsWithOneLine(t, await cli(['export', '--profile', 'role1', '--format', 'yaml'], opts), /--format is "yaml"/, 2)
  failsWithOneLine(t, await cli(['login', '--account', '12345'], opts), /not a 12-digit AWS account id/, 2)
  t.is(suite.stub.calls.length, 0)
})

test.serial('missing profile and unmapped account: one line naming the profile / account, exit 1', async (t) => {
  const w = cliWorld()
  const opts = { env: envFor(w), cwd: w.cwd }
  failsWithOneLine(t, await cli(['credential-process', '--profile', 'nope'], opts), /AWS profile "nope" does not exist .*profiles there: base, plain, role1, role2/)
  failsWithOneLine(t, await cli(['export', '--account', '333333333333'], opts), /account 333333333333 is not mapped/)
  failsWithOneLine(t, await cli(['login', '--profile', 'nope'], opts), /AWS profile "nope" does not exist/)
  t.is(suite.stub.calls.length, 0)
})

test.serial('no terminal and MFA needed: login, credential-process and export fail fast naming CDK_MFA_CODE and mfa_process', async (t) => {
  const w = cliWorld()
  const opts = { env: envFor(w), cwd: w.cwd }
  for (const args of [['login'], ['credential-process', '--profile', 'role1'], ['export', '--account', A2]]) {
    const r = await cli(args, opts)
    failsWithOneLine(t, r, new RegExp(`MFA code for ${SERIAL.replace(/\//g, '\\/')} is needed but there is no terminal.*CDK_MFA_CODE.*mfa_process`))
    t.true(r.ms < 3000, `${args.join(' ')} took ${r.ms} ms`)
    t.is(r.stdout, '', 'nothing half-printed')
  }
  t.is(suite.stub.calls.length, 0)
  t.deepEqual(cacheFiles(w).filter((f) => f.endsWith('.json')), [])
})

test.serial('login on a terminal: 1 prompt for 2 accounts; status then shows expiry and no secret; credential-process and export reuse the cache', async (t) => {
  const w = cliWorld()
  const env = envFor(w)

  const before = await cli(['status'], { env, cwd: w.cwd })
  t.is(before.code, 0, before.stderr)
  t.regex(before.stdout, new RegExp(`${A1}\\s+read/write\\s+profile role1 → arn:aws:iam::${A1}:role/AdminMFARole \\(static keys of profile base\\)\\s+${SERIAL}\\s+not cached`))
  t.regex(before.stdout, new RegExp(`${A2}\\s+read\\s+profile plain \\(static keys\\)\\s+-`))
  t.regex(before.stdout, new RegExp(`${A2}\\s+write\\s+profile role2 → .*not cached`))

  const t0 = Date.now()
  const login = await runInPty(process.execPath, [CLI, 'login'], { env, cwd: w.cwd, answers: ['123456'] })
  t.log(`login in a pty: ${Date.now() - t0} ms`)
  t.is(login.exitCode, 0, login.transcript)
  t.is(login.prompts, 1, login.transcript)
  t.is(count('GetSessionToken'), 1)
  t.is(count('AssumeRole'), 2)
  t.regex(login.transcript, new RegExp(`account ${A1} \\(read/write\\) → profile role1 → .*: session cached, expires in \\d+m \\(\\d{4}-\\d\\d-\\d\\dT[\\d:]+Z\\)`))
  t.regex(login.transcript, new RegExp(`account ${A2} \\(read\\) → profile plain: long-term keys`))
  t.regex(login.transcript, new RegExp(`account ${A2} \\(write\\) → profile role2`))

  // Secrets the cache now holds: none may appear in status.
  const secrets = [BASE_SECRET, 'plain-secret-canary']
  for (const f of cacheFiles(w).filter((f) => f.endsWith('.json'))) {
    const c = JSON.parse(fs.readFileSync(path.join(w.cacheDir, f), 'utf8')).credentials
    secrets.push(c.secretAccessKey, c.sessionToken)
  }
  t.is(secrets.length, 2 + 2 * 3, 'one MFA session + two roles cached')
  suite.stub.clearCalls()
  const status = await cli(['status'], { env, cwd: w.cwd })
  t.is(status.code, 0, status.stderr)
  t.regex(status.stdout, new RegExp(`${A1}\\s+read/write\\s+profile role1 .*${SERIAL}\\s+in (59m|1h00m) \\(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)`))
  t.regex(status.stdout, new RegExp(`MFA sessions:\\n  ${SERIAL} \\(keys of profile base\\): in 1[12]h\\d\\dm \\(`))
  const json = await cli(['status', '--json'], { env, cwd: w.cwd })
  const parsed = JSON.parse(json.stdout)
  const a1 = parsed.accounts.find((a) => a.account === A1 && a.mode === 'write')
  t.is(a1.roleArn, `arn:aws:iam::${A1}:role/AdminMFARole`)
  t.is(a1.mfaSerial, SERIAL)
  t.true(Date.parse(a1.session.expiration) > Date.now())
  t.regex(a1.session.expiresIn, /^in \d+/)
  t.is(parsed.mfaSessions.length, 1)
  for (const out of [status.stdout, status.stderr, json.stdout, login.transcript]) {
    for (const s of secrets) t.false(out.includes(s), 'a secret was printed')
  }

  // credential-process and export: from the cache, no STS call, no prompt needed (no terminal here).
  const cp = await cli(['credential-process', '--profile', 'role1'], { env, cwd: w.cwd })
  t.is(cp.code, 0, cp.stderr)
  const creds = JSON.parse(cp.stdout)
  t.deepEqual(Object.keys(creds).sort(), ['AccessKeyId', 'Expiration', 'SecretAccessKey', 'SessionToken', 'Version'])
  t.is(creds.Version, 1)
  t.regex(creds.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  t.true(secrets.includes(creds.SecretAccessKey))
  t.is(cp.stderr, '')
  const byAccount = JSON.parse((await cli(['credential-process', '--account', A1, '--mode', 'read'], { env, cwd: w.cwd })).stdout)
  t.is(byAccount.AccessKeyId, creds.AccessKeyId)

  const sh = await cli(['export', '--account', A2], { env, cwd: w.cwd })
  t.is(sh.code, 0, sh.stderr)
  t.regex(sh.stdout, /^export AWS_ACCESS_KEY_ID=\S+\nexport AWS_SECRET_ACCESS_KEY=\S+\nexport AWS_SESSION_TOKEN=\S+\nexport AWS_CREDENTIAL_EXPIRATION=\S+Z\n$/)
  const ps = await cli(['export', '--profile', 'role1', '--format', 'powershell'], { env, cwd: w.cwd })
  t.true(ps.stdout.includes(`$Env:AWS_ACCESS_KEY_ID="${creds.AccessKeyId}"`), ps.stdout)
  const js = JSON.parse((await cli(['export', '--profile', 'role1', '--format', 'json'], { env, cwd: w.cwd })).stdout)
  t.is(js.SessionToken, creds.SessionToken)
  const plain = await cli(['export', '--account', A2, '--mode', 'read'], { env, cwd: w.cwd })
  t.is(plain.stdout, 'export AWS_ACCESS_KEY_ID=AKIAPLAINKEY00000001\nexport AWS_SECRET_ACCESS_KEY=plain-secret-canary\nunset AWS_SESSION_TOKEN\nunset AWS_CREDENTIAL_EXPIRATION\n')
  t.is(suite.stub.calls.length, 0, 'everything from the cache')

  // logout --profile role1: its role session (and lock) only; the shared MFA session stays.
  const out1 = await cli(['logout', '--profile', 'role1'], { env, cwd: w.cwd })
  t.is(out1.code, 0, out1.stderr)
  t.regex(out1.stdout, new RegExp(`removed role-[0-9a-f]{40}\\.json \\(role arn:aws:iam::${A1}:role/AdminMFARole, profile role1, MFA ${SERIAL}; in `))
  t.regex(out1.stdout, /removed 1 cache entry for profile role1/)
  t.deepEqual(cacheFiles(w).filter((f) => f.startsWith('role-')).length, 2, 'one role entry + its lock left (role2)')
  t.is(cacheFiles(w).filter((f) => f.startsWith('mfa-session-')).length, 2, 'MFA session + lock kept')
  // Next use of role1: one AssumeRole with the cached MFA session, no prompt (no terminal here).
  const again = await cli(['credential-process', '--profile', 'role1'], { env, cwd: w.cwd })
  t.is(again.code, 0, again.stderr)
  t.is(count('AssumeRole'), 1)
  t.is(count('GetSessionToken'), 0)

  // logout (this project's entries), then --all on an empty cache.
  const out2 = await cli(['logout'], { env, cwd: w.cwd })
  t.is(out2.code, 0, out2.stderr)
  t.regex(out2.stdout, /removed 3 cache entries for this project's profiles and roles/)
  t.regex(out2.stdout, /removed mfa-session-[0-9a-f]{40}\.json \(MFA session, profile base, MFA /)
  t.deepEqual(cacheFiles(w), [], 'entries and lock files are gone')
  const out3 = await cli(['logout', '--all'], { env, cwd: w.cwd })
  t.is(out3.code, 0)
  t.regex(out3.stdout, /nothing to remove/)
  const after = await cli(['status'], { env, cwd: w.cwd })
  t.regex(after.stdout, new RegExp(`${A1}\\s+read/write.*not cached`))
})

test.serial('logout --all removes our unusable entries and stray lock files; a truncated file is not provably ours and stays', async (t) => {
  const w = cliWorld()
  fs.mkdirSync(w.cacheDir, { recursive: true, mode: 0o700 })
  const newer = JSON.stringify({ format: 'cdk-mfa-rs', version: 99, kind: 'role', label: {}, credentials: {} })
  fs.writeFileSync(path.join(w.cacheDir, 'role-2222222222222222222222222222222222222222.json'), newer)
  fs.writeFileSync(path.join(w.cacheDir, 'role-0000000000000000000000000000000000000000.json'), '{"trunc')
  fs.writeFileSync(path.join(w.cacheDir, 'mfa-session-1111111111111111111111111111111111111111.lock'), '')
  const r = await cli(['logout', '--all'], { env: envFor(w), cwd: w.cwd })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /removed role-2{40}\.json \(unusable entry: written by a newer cdk-mfa-rs/)
  t.regex(r.stdout, /kept role-0{40}\.json: named like a cache entry but not one of cdk-mfa-rs \(.*truncated or corrupt\); left alone/)
  t.deepEqual(cacheFiles(w), ['role-0000000000000000000000000000000000000000.json'])
})

// Issue 12 item 1: `logout --all` deleted every *.json of the directory (package.json, cdk.json, the
// AWS CLI's cache) when CDK_MFA_RS_CACHE_DIR pointed at a shared directory.
test.serial('logout --all in a directory shared with other files (a project, an AWS CLI cache) removes only our entries', async (t) => {
  const w = cliWorld()
  const dir = w.cwd // CDK_MFA_RS_CACHE_DIR=$PWD
  const awsCliCache = JSON.stringify({ Credentials: { AccessKeyId: 'ASIAAWSCLICACHE00001', SecretAccessKey: 'x', SessionToken: 'y', Expiration: '2099-01-01T00:00:00Z' }, AssumedRoleUser: {} })
  const foreign = {
    'package.json': '{"name":"app","version":"1.0.0"}\n',
    'cdk.json': '{"app":"node app.js","plugin":["cdk-mfa-rs"]}\n',
    'tsconfig.json': '{"compilerOptions":{}}\n',
    '0123456789abcdef0123456789abcdef01234567.json': awsCliCache, // as in ~/.aws/cli/cache
    'role-3333333333333333333333333333333333333333.json': awsCliCache, // our name, not our format
    'build.lock': '', // a lock file of some other tool
    'mfa-session-4444444444444444444444444444444444444444.lock': 'not empty: not one of our lock files',
  }
  for (const [f, text] of Object.entries(foreign)) fs.writeFileSync(path.join(dir, f), text)
  foreign['cdkmultiprofileplugin.json'] = fs.readFileSync(path.join(dir, 'cdkmultiprofileplugin.json'), 'utf8')
  fs.symlinkSync(path.join(dir, 'package.json'), path.join(dir, 'role-5555555555555555555555555555555555555555.json'))

  // Open to others and holding other files: its mode is not changed and it is not used, with a word.
  fs.chmodSync(dir, 0o755)
  const env = envFor(w, { CDK_MFA_RS_CACHE_DIR: dir, CDK_MFA_CODE: '123456' })
  const refused = await cli(['credential-process', '--profile', 'role1'], { env, cwd: dir })
  t.is(refused.code, 0, refused.stderr)
  t.regex(refused.stderr, /cdk-mfa-rs: warning: the cache directory .* is open to others \(mode 755\) and holds files that are not cdk-mfa-rs's \(.*\): its mode is left as it is and it is not used/)
  t.is(fs.statSync(dir).mode & 0o777, 0o755)

  // Private (like ~/.aws/cli/cache): used, and our entries sit among the other files.
  fs.chmodSync(dir, 0o700)
  const login = await cli(['login'], { env: { ...env, CDK_MFA_CODE: '654321' }, cwd: dir }) // a code is used once
  t.is(login.code, 0, login.stderr)
  const ours = fs.readdirSync(dir).filter((f) => /^(role|mfa-session)-[0-9a-f]{40}\.json$/.test(f) && !(f in foreign) && f !== 'role-5555555555555555555555555555555555555555.json')
  t.is(ours.length, 3, 'one MFA session and two roles cached')

  const r = await cli(['logout', '--all'], { env, cwd: dir })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /removed 3 cache entries for all profiles/)
  t.regex(r.stdout, /kept role-3{40}\.json: named like a cache entry but not one of cdk-mfa-rs \(not a cdk-mfa-rs cache entry\); left alone/)
  t.regex(r.stdout, /kept role-5{40}\.json: .*symbolic link/)
  t.regex(r.stdout, /left alone \d+ other files that cdk-mfa-rs did not write \(/)
  t.false(r.stdout.includes('removed package.json'))
  for (const [f, text] of Object.entries(foreign)) t.is(fs.readFileSync(path.join(dir, f), 'utf8'), text, `${f} survives unchanged`)
  t.true(fs.lstatSync(path.join(dir, 'role-5555555555555555555555555555555555555555.json')).isSymbolicLink())
  for (const f of ours) t.false(fs.existsSync(path.join(dir, f)), `${f} removed`)
  t.deepEqual(fs.readdirSync(dir).filter((f) => /^(role|mfa-session)-[0-9a-f]{40}\.lock$/.test(f)), ['mfa-session-4444444444444444444444444444444444444444.lock'])
  t.is(fs.statSync(dir).mode & 0o777, 0o700)
})

// Issue 12 item 2: as root, with CDK_MFA_RS_CACHE_DIR at a directory another user created, the plugin
// chmodded it, served an entry planted there and followed planted lock links.
const asRoot = process.getuid && process.getuid() === 0 ? test.serial : test.serial.skip
asRoot('a cache directory of another user (0777 or 0700) is refused: planted entries not served, planted lock links not followed', async (t) => {
  const w = cliWorld()
  // The names our entries get, from a real login into our own cache.
  const login = await cli(['login', '--profile', 'role1'], { env: envFor(w, { CDK_MFA_CODE: '111111' }), cwd: w.cwd })
  t.is(login.code, 0, login.stderr)
  const names = cacheFiles(w).filter((f) => f.endsWith('.json'))
  t.is(names.length, 2)
  for (const [i, mode] of [0o777, 0o700].entries()) {
    const evil = path.join(w.root, `other-user-${mode.toString(8)}`)
    fs.mkdirSync(evil)
    for (const f of names) {
      const e = JSON.parse(fs.readFileSync(path.join(w.cacheDir, f), 'utf8'))
      e.credentials.accessKeyId = 'ASIAATTACKERPLANTED1'
      fs.writeFileSync(path.join(evil, f), JSON.stringify(e))
      fs.chownSync(path.join(evil, f), 4242, 4242)
    }
    const rootFile = path.join(w.root, `root-file-${i}`)
    fs.writeFileSync(rootFile, 'root')
    fs.chmodSync(rootFile, 0o644)
    const chosen = path.join(w.root, `chosen-${i}`)
    for (const [f, target] of [[names[0], rootFile], [names[1], chosen]]) {
      const link = path.join(evil, f.replace(/\.json$/, '.lock'))
      fs.symlinkSync(target, link)
      fs.lchownSync(link, 4242, 4242)
    }
    fs.chownSync(evil, 4242, 4242)
    fs.chmodSync(evil, mode)
    const before = fs.readdirSync(evil).sort()
    const env = envFor(w, { CDK_MFA_RS_CACHE_DIR: evil, CDK_MFA_CODE: String(222222 + i) })
    const r = await cli(['export', '--profile', 'role1'], { env, cwd: w.cwd })
    t.is(r.code, 0, r.stderr)
    t.false(r.stdout.includes('ASIAATTACKERPLANTED1'), 'a planted entry was served')
    t.regex(r.stdout, /^export AWS_ACCESS_KEY_ID=ASIA/)
    t.regex(r.stderr, /cdk-mfa-rs: warning: the cache directory .* belongs to another user \(uid 4242\), who could plant or read sessions there: it is not used/)
    t.is(fs.statSync(evil).mode & 0o777, mode, 'mode left as it is')
    t.is(fs.statSync(rootFile).mode & 0o777, 0o644, 'no chmod through a planted lock link')
    t.false(fs.existsSync(chosen), 'no file created through a planted lock link')
    t.deepEqual(fs.readdirSync(evil).sort(), before, 'nothing written there')
    const doctor = await cli(['doctor'], { env, cwd: w.cwd })
    t.regex(doctor.stdout, /FAIL {2}cache: .* belongs to another user \(uid 4242\).*: the plugin does not use it/)
  }
})

// Issue 12 item 3: an entry copied onto another entry's file name was served for that other key.
test.serial("a cache entry copied onto another entry's file name (account 111's role onto 222's) is not served", async (t) => {
  const w = cliWorld()
  const env = envFor(w, { CDK_MFA_CODE: '333333' })
  const login = await cli(['login'], { env, cwd: w.cwd })
  t.is(login.code, 0, login.stderr)
  const roleFile = (account) => cacheFiles(w).find((f) => f.startsWith('role-') && f.endsWith('.json') &&
    JSON.parse(fs.readFileSync(path.join(w.cacheDir, f), 'utf8')).label.roleArn.includes(account))
  const [f111, f222] = [roleFile(A1), roleFile(A2)]
  t.truthy(f111 && f222)
  const key111 = JSON.parse(fs.readFileSync(path.join(w.cacheDir, f111), 'utf8')).credentials.accessKeyId
  fs.copyFileSync(path.join(w.cacheDir, f111), path.join(w.cacheDir, f222))
  suite.stub.clearCalls()
  const r = await cli(['export', '--account', A2, '--format', 'json'], { env, cwd: w.cwd })
  t.is(r.code, 0, r.stderr)
  t.not(JSON.parse(r.stdout).AccessKeyId, key111, "account 111's role session served for 222")
  t.regex(r.stderr, new RegExp(`ignoring cache entry .*${f222}: written for another entry \\(role arn:aws:iam::${A1}:role/AdminMFARole, profile role1, .*\\), not this one \\(role arn:aws:iam::${A2}:role/AdminMFARole, profile role2`))
  t.is(count('AssumeRole'), 1, 'role2 assumed again from the cached MFA session')
  t.is(count('GetSessionToken'), 0)
})

// Issue 12 item 7: a write killed before its rename left `.<entry>.json.<pid>.<ns>.tmp` holding a
// 12-hour session; `logout --all` said "nothing to remove" and doctor counted 0 entries.
test.serial('an unfinished write of a dead process (a temp file holding a session) is counted by doctor and status, removed by logout --all and by the next run', async (t) => {
  const w = cliWorld()
  const env = envFor(w, { CDK_MFA_CODE: '444444' })
  t.is((await cli(['login', '--profile', 'role1'], { env, cwd: w.cwd })).code, 0)
  const session = cacheFiles(w).find((f) => f.startsWith('mfa-session-') && f.endsWith('.json'))
  const { spawnSync } = require('node:child_process')
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid
  const tmp = `.${session}.${deadPid}.1764500000000000000.tmp`
  const whole = fs.readFileSync(path.join(w.cacheDir, session))
  const plant = () => fs.writeFileSync(path.join(w.cacheDir, tmp), whole, { mode: 0o600 })
  const other = `.${session}.${deadPid}.1.tmp` // our name pattern, someone else's content
  fs.writeFileSync(path.join(w.cacheDir, other), '{"not":"ours"}')
  fs.unlinkSync(path.join(w.cacheDir, session))
  plant()
  const doctor = await cli(['doctor'], { env, cwd: w.cwd })
  t.regex(doctor.stdout, /WARN {2}cache: 1 unfinished write of an entry in .* \(a process died while writing; one may hold a session\)/)
  const status = await cli(['status'], { env, cwd: w.cwd })
  t.regex(status.stdout, /cache: .* \(1 unfinished write left by a process that died; `cdk-mfa-rs logout --all` removes it\)/)
  t.is(JSON.parse((await cli(['status', '--json'], { env, cwd: w.cwd })).stdout).unfinishedWrites, 1)
  const r = await cli(['logout', '--all'], { env, cwd: w.cwd })
  t.is(r.code, 0, r.stderr)
  t.true(r.stdout.includes(`removed ${tmp} (unfinished write: MFA session, profile base, MFA ${SERIAL}; in `), r.stdout)
  t.false(fs.existsSync(path.join(w.cacheDir, tmp)))
  t.true(fs.existsSync(path.join(w.cacheDir, other)), 'not ours: left alone')
  // The plugin's next run removes one too (its writer is gone), without a word.
  plant()
  const cp = await cli(['credential-process', '--profile', 'plain'], { env, cwd: w.cwd })
  t.is(cp.code, 0, cp.stderr)
  t.is(cp.stderr, '')
  t.false(fs.existsSync(path.join(w.cacheDir, tmp)))
  t.true(fs.existsSync(path.join(w.cacheDir, other)))
})

// Issue 12 item 10: status and doctor panicked ("a free example account id") with 1000 mapped
// accounts and assumeRole for every other account.
test.serial('status and doctor with 1000 mapped accounts and assumeRole.accounts "*": no panic', async (t) => {
  const awsProfiles = {}
  for (let i = 0; i < 1000; i++) awsProfiles[String(123456789000 + i)] = 'plain'
  const w = cliWorld({ project: { 'cdkmultiprofileplugin.json': { awsProfiles, assumeRole: { accounts: '*', sourceProfile: 'base' } } } })
  const opts = { env: envFor(w), cwd: w.cwd }
  const status = await cli(['status'], opts)
  t.is(status.code, 0, status.stderr)
  t.regex(status.stdout, /123456789999\s+read\/write\s+profile plain/)
  t.regex(status.stdout, /any other\s+read\/write\s+roles /)
  const doctor = await cli(['doctor'], opts)
  t.false(/panicked|RUST_BACKTRACE/.test(doctor.stderr), doctor.stderr)
  t.true([0, 1].includes(doctor.code), doctor.stderr)
  t.regex(doctor.stdout, /OK {4}configuration: 1000 account\(s\) mapped \+ assumeRole for every other account/)
  t.regex(doctor.stdout, /OK {4}assumeRole \(read\): role .* via profile base: .*\{ACCOUNT\}/)
})

// Issue 12 item 9: login said "session cached, expires in 59m" right after "sessions are not cached".
test.serial('login with a cache directory that cannot be used says the sessions are not cached', async (t) => {
  const w = cliWorld()
  const blocker = path.join(w.root, 'a-file')
  fs.writeFileSync(blocker, '')
  const env = envFor(w, { CDK_MFA_RS_CACHE_DIR: path.join(blocker, 'cache'), CDK_MFA_CODE: '555555' })
  const r = await cli(['login'], { env, cwd: w.cwd })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stderr, /cdk-mfa-rs: warning: cannot create the cache directory .*; sessions are not cached across runs/)
  t.false(r.stdout.includes('session cached'), r.stdout)
  t.regex(r.stdout, new RegExp(`account ${A1} \\(read/write\\) → .*: session obtained, expires in \\d+m \\(.*\\), but NOT cached \\(see the warning above\\): the next run gets a new one`))
  t.regex(r.stdout, new RegExp(`account ${A2} \\(read\\) → profile plain: long-term keys`))
  const one = await cli(['login', '--profile', 'role2'], { env: { ...env, CDK_MFA_CODE: '565656' }, cwd: w.cwd })
  t.regex(one.stdout, /^profile role2: session obtained, .*but NOT cached/)
})

// Issue 12 "Also": doctor ran `npx --no-install cdk --version` when node_modules/aws-cdk was absent,
// executing whatever node_modules/.bin/cdk the current directory held.
test.serial('doctor reads the CDK CLI version from its package.json and never runs a cdk', async (t) => {
  const w = cliWorld({ project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'plain' } } } })
  const marker = path.join(w.root, 'cdk-was-run')
  fs.mkdirSync(path.join(w.cwd, 'node_modules', '.bin'), { recursive: true })
  fs.writeFileSync(path.join(w.cwd, 'node_modules', '.bin', 'cdk'), `#!/bin/sh\ntouch '${marker}'\necho 2.999.0\n`, { mode: 0o755 })
  // A cdk on PATH, as a global install lays it out: bin/cdk → lib/node_modules/aws-cdk/bin/cdk.
  const globalRoot = path.join(w.root, 'global')
  const pkg = path.join(globalRoot, 'lib', 'node_modules', 'aws-cdk')
  fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true })
  fs.mkdirSync(path.join(globalRoot, 'bin'))
  fs.writeFileSync(path.join(pkg, 'package.json'), '{"name":"aws-cdk","version":"2.1000.0"}')
  fs.writeFileSync(path.join(pkg, 'bin', 'cdk'), `#!/bin/sh\ntouch '${marker}'\necho 2.1000.0\n`, { mode: 0o755 })
  fs.symlinkSync('../lib/node_modules/aws-cdk/bin/cdk', path.join(globalRoot, 'bin', 'cdk'))
  const noCdkPath = process.env.PATH.split(path.delimiter).filter((d) => !fs.existsSync(path.join(d, 'cdk'))).join(path.delimiter)

  const withGlobal = await cli(['doctor'], { env: envFor(w, { PATH: `${path.join(globalRoot, 'bin')}${path.delimiter}${noCdkPath}` }), cwd: w.cwd })
  t.true(withGlobal.stdout.includes(`OK    CDK CLI 2.1000.0 (${fs.realpathSync(path.join(pkg, 'package.json'))})`), withGlobal.stdout)
  const none = await cli(['doctor'], { env: envFor(w, { PATH: noCdkPath }), cwd: w.cwd })
  t.regex(none.stdout, /WARN {2}CDK CLI: none found from .* \(no node_modules\/aws-cdk, no aws-cdk package behind a cdk on PATH\)/)
  t.false(fs.existsSync(marker), 'doctor ran a cdk')
})

// Issue 12 "Also": a 44 MB AWS config with 400k profiles made status take 6 s and 447 MB, and a
// "does not exist" error listed every profile (one 3.5 MB line).
test.serial('huge inputs stay bounded: a profile file over 10 MB is refused in one line; a missing profile lists a few names', async (t) => {
  const w = cliWorld({ project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'nope' } } } })
  const many = Array.from({ length: 20000 }, (_, i) => `[profile p${String(i).padStart(5, '0')}]\nregion = eu-west-1\n`).join('')
  fs.appendFileSync(path.join(w.home, '.aws', 'config'), many)
  const r = await cli(['credential-process', '--profile', 'nope'], { env: envFor(w), cwd: w.cwd })
  failsWithOneLine(t, r, /AWS profile "nope" does not exist .*profiles there: base, p00000, p00001, .* and \d+ more\)/)
  t.true(r.stderr.length < 1000, `${r.stderr.length} bytes`)

  const section = '[profile p]\nrole_arn = arn:aws:iam::111111111111:role/R\nsource_profile = base\nregion = eu-west-1\n'
  fs.writeFileSync(path.join(w.home, '.aws', 'config'), section.repeat(Math.ceil(11e6 / section.length)))
  for (const args of [['status'], ['credential-process', '--profile', 'p']]) {
    const big = await cli(args, { env: envFor(w), cwd: w.cwd })
    failsWithOneLine(t, big, /the AWS profile file .*config is 11\.0 MB, more than the 10 MB cdk-mfa-rs reads/)
    t.true(big.ms < 5000, `${args[0]} took ${big.ms} ms`)
  }
})

test.serial('doctor: broken JSON is a FAIL with file:line:col and a non-zero exit', async (t) => {
  const w = cliWorld({ project: { 'cdkmultiprofileplugin.json': '{\n  "awsProfiles": {\n    "111111111111": "role1",\n  }\n}\n' } })
  const r = await cli(['doctor'], { env: envFor(w), cwd: w.cwd })
  failsWithOneLine(t, r, /doctor found 1 problem marked FAIL/)
  const file = path.join(w.cwd, 'cdkmultiprofileplugin.json')
  t.true(r.stdout.includes(`FAIL  ${file}:4:3: invalid JSON: trailing comma`), r.stdout)
  t.regex(r.stdout, /\n      fix: correct the JSON at that line and column/)
  t.regex(r.stdout, /\d+ OK, \d+ WARN, 1 FAIL\n$/)
  // status and login refuse with the same position, in one line.
  failsWithOneLine(t, await cli(['status'], { env: envFor(w), cwd: w.cwd }), /invalid JSON in .*cdkmultiprofileplugin\.json at line 4, column 3/)
})

test.serial('doctor: profiles, MFA sources, cache permissions, CDK CLI 3.0.0 and a global cdk that cannot load the plugin', async (t) => {
  const w = cliWorld({
    project: {
      'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'role1', [A2]: 'loop1' } },
      'cdk.json': { app: 'node app.js', plugin: ['cdk-mfa-rs'] },
    },
    extraConfig: '[profile loop1]\nrole_arn = arn:aws:iam::222222222222:role/x\nsource_profile = loop2\n[profile loop2]\nrole_arn = arn:aws:iam::222222222222:role/y\nsource_profile = loop1\n',
  })
  // The project's CDK CLI is the broken 3.0.0; a "global" cdk elsewhere is first on PATH.
  fs.mkdirSync(path.join(w.cwd, 'node_modules', 'aws-cdk'), { recursive: true })
  fs.writeFileSync(path.join(w.cwd, 'node_modules', 'aws-cdk', 'package.json'), '{"name":"aws-cdk","version":"3.0.0"}')
  const globalRoot = path.join(w.root, 'global')
  fs.mkdirSync(path.join(globalRoot, 'lib', 'node_modules', 'aws-cdk', 'bin'), { recursive: true })
  fs.mkdirSync(path.join(globalRoot, 'bin'))
  fs.writeFileSync(path.join(globalRoot, 'lib', 'node_modules', 'aws-cdk', 'bin', 'cdk'), '#!/bin/sh\necho 2.1000.0\n', { mode: 0o755 })
  fs.symlinkSync('../lib/node_modules/aws-cdk/bin/cdk', path.join(globalRoot, 'bin', 'cdk'))
  fs.mkdirSync(w.cacheDir, { mode: 0o755 })
  fs.chmodSync(w.cacheDir, 0o755)
  const env = envFor(w, { PATH: `${path.join(globalRoot, 'bin')}:${process.env.PATH}` })

  const r = await cli(['doctor'], { env, cwd: w.cwd })
  t.is(r.code, 1, r.stdout)
  const out = r.stdout
  t.regex(out, /OK {4}configuration: 2 account\(s\) mapped/)
  t.regex(out, new RegExp(`OK {4}profile role1 \\(${A1} read, ${A1} write\\): static long-term keys of profile base \\| MFA ${SERIAL}`))
  t.regex(out, /FAIL {2}profile loop1 \(222222222222 read, 222222222222 write\): profile loop1: source_profile loop loop1 → loop2 → loop1/)
  t.regex(out, new RegExp(`WARN  MFA device ${SERIAL} \\(profile role1\\): no terminal here, no CDK_MFA_CODE and no mfa_process\\n {6}fix: set CDK_MFA_CODE`))
  t.regex(out, /WARN {2}cache: .* is readable by others \(mode 755\)[^\n]*\n {6}fix: chmod 700 /)
  t.regex(out, /WARN {2}CDK CLI 3\.0\.0 \(.*node_modules\/aws-cdk\/package\.json\): aws-cdk@3\.0\.0 on the registry is an accidental broken build; pin aws-cdk@2/)
  t.regex(out, /WARN {2}cdk on PATH \(.*global\/bin\/cdk\) is not the project's .* where cdk-mfa-rs is not installed\n {6}fix: run `npx cdk` in the project, or give the plugin as an absolute path in cdk\.json "plugin"/)
  failsWithOneLine(t, r, /doctor found 1 problem marked FAIL/)
  t.false(out.includes(BASE_SECRET))
  t.is(fs.statSync(w.cacheDir).mode & 0o777, 0o755, 'doctor reports, it does not change anything')

  // Fixed: mapping to a real profile, the code from CDK_MFA_CODE, plugin installed globally.
  fs.writeFileSync(path.join(w.cwd, 'cdkmultiprofileplugin.json'), JSON.stringify({ awsProfiles: { [A1]: 'role1', [A2]: 'role2' } }))
  fs.mkdirSync(path.join(globalRoot, 'lib', 'node_modules', 'cdk-mfa-rs'))
  fs.writeFileSync(path.join(globalRoot, 'lib', 'node_modules', 'cdk-mfa-rs', 'package.json'), '{"name":"cdk-mfa-rs"}')
  fs.chmodSync(w.cacheDir, 0o700)
  const ok = await cli(['doctor'], { env: { ...env, CDK_MFA_CODE: '123456' }, cwd: w.cwd })
  t.is(ok.code, 0, ok.stdout + ok.stderr)
  t.is(ok.stderr, '')
  t.regex(ok.stdout, new RegExp(`OK {4}MFA device ${SERIAL} \\(profile role1, role2\\): code from CDK_MFA_CODE`))
  t.regex(ok.stdout, /OK {4}cdk on PATH \(.*\) resolves the plugin name cdk-mfa-rs to .*global\/lib\/node_modules\/cdk-mfa-rs/)
  t.regex(ok.stdout, /OK {4}cache: .* is private and writable/)
  t.regex(ok.stdout, / 0 FAIL\n$/)
  t.is(suite.stub.calls.length, 0, 'doctor makes no STS call')
})

test.serial('status and doctor name the sign-in source; doctor checks SSO tokens and login sessions and names the command that fixes them', async (t) => {
  const A3 = '333333333333'
  const LOGIN = `arn:aws:iam::${A3}:user/dev`
  const w = cliWorld({
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: { [A1]: 'corp', [A2]: 'via-hub', [A3]: 'console' } } },
    extraConfig: [
      `[profile corp]\nsso_session = corp\nsso_account_id = ${A1}\nsso_role_name = Admin`,
      '[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1',
      `[profile hub]\nsso_start_url = https://hub.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = ${A1}\nsso_role_name = Hub`,
      `[profile via-hub]\nrole_arn = arn:aws:iam::${A2}:role/Deployer\nsource_profile = hub`,
      `[profile console]\nlogin_session = ${LOGIN}`,
    ].join('\n'),
  })
  const env = envFor(w)
  const status = await cli(['status'], { env, cwd: w.cwd })
  t.is(status.code, 0, status.stderr)
  t.regex(status.stdout, new RegExp(`${A1}\\s+read/write\\s+profile corp \\(SSO\\)\\s+-`))
  t.regex(status.stdout, new RegExp(`${A2}\\s+read/write\\s+profile via-hub → arn:aws:iam::${A2}:role/Deployer \\(SSO of profile hub\\)\\s+-`))
  t.regex(status.stdout, new RegExp(`${A3}\\s+read/write\\s+profile console \\(login session\\)\\s+-`))
  const json = JSON.parse((await cli(['status', '--json'], { env, cwd: w.cwd })).stdout)
  t.deepEqual([...new Set(json.accounts.map((a) => `${a.account} ${a.source}`))], [`${A1} SSO`, `${A2} SSO of profile hub`, `${A3} login session`])

  // Nobody signed in yet: one FAIL per sign-in, each with its command.
  const before = await cli(['doctor'], { env, cwd: w.cwd })
  t.is(before.code, 1, before.stdout)
  t.regex(before.stdout, /FAIL {2}sign-in of profile corp: profile corp is not signed in to IAM Identity Center \(no \S+\.json\)\n {6}fix: run `aws sso login --profile corp`\n/)
  t.regex(before.stdout, /FAIL {2}sign-in of profile hub: profile hub is not signed in to IAM Identity Center \(no \S+\.json\)\n {6}fix: run `aws sso login --profile hub`\n/)
  t.regex(before.stdout, /FAIL {2}sign-in of profile console: profile console has no `aws login` session \(no \S+\.json\)\n {6}fix: run `aws login --profile console`\n/)
  failsWithOneLine(t, before, /doctor found 3 problems marked FAIL/)

  // corp signed in, hub's legacy token expired, console's session present.
  const { writeSsoToken, writeLoginSession } = require('./helpers/signin-stubs')
  writeSsoToken(w.home, 'corp', { accessToken: 't1', expiresAt: new Date(Date.now() + 3600e3), startUrl: 'https://corp.awsapps.com/start' })
  writeSsoToken(w.home, 'https://hub.awsapps.com/start', { accessToken: 't2', expiresAt: new Date(Date.now() - 60e3), startUrl: 'https://hub.awsapps.com/start' })
  writeLoginSession(w.home, LOGIN, { accountId: A3, expiresAt: new Date(Date.now() + 900e3), refreshToken: 'r' })
  const after = await cli(['doctor'], { env, cwd: w.cwd })
  t.regex(after.stdout, /OK {4}sign-in of profile corp: SSO token valid until \d{4}-\d\d-\d\dT[\d:]+Z\n/)
  t.regex(after.stdout, /FAIL {2}sign-in of profile hub: the SSO sign-in of profile hub expired at \S+Z\n {6}fix: run `aws sso login --profile hub`\n/)
  t.regex(after.stdout, /OK {4}sign-in of profile console: login session valid until \S+Z, then refreshed\n/)
  failsWithOneLine(t, after, /doctor found 1 problem marked FAIL/)
  t.is(suite.stub.calls.length, 0, 'no network call')
})

test.serial('AWS CLI credential_process = cdk-mfa-rs credential-process: 1 prompt and the target account, then 0 prompts', async (t) => {
  const moto = await startMoto()
  const proxy = await startStsStub({ upstream: moto.url })
  t.teardown(async () => {
    await proxy.stop()
    await moto.stop()
  })
  const TARGET = '444455556666'
  const w = cliWorld({
    extraConfig: [
      `[profile mfa-role]\nrole_arn = arn:aws:iam::${TARGET}:role/Deployer\nsource_profile = base\nmfa_serial = ${SERIAL}\nregion = us-east-1`,
      `[profile x]\ncredential_process = ${process.execPath} ${CLI} credential-process --profile mfa-role\nregion = us-east-1`,
    ].join('\n'),
  })
  const env = {
    PATH: process.env.PATH,
    HOME: w.home,
    LANG: 'C.UTF-8',
    AWS_CONFIG_FILE: path.join(w.home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(w.home, '.aws', 'credentials'),
    AWS_ENDPOINT_URL: moto.url,
    AWS_ENDPOINT_URL_STS: proxy.url,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_MFA_RS_CACHE_DIR: w.cacheDir,
    NO_PROXY: '127.0.0.1,localhost',
  }
  const aws = path.join(VENV, 'bin', 'aws')
  const args = ['sts', 'get-caller-identity', '--profile', 'x', '--output', 'json']
  const calls = (action) => proxy.calls.filter((c) => c.action === action).length

  let t0 = Date.now()
  const first = await runInPty(aws, args, { env, cwd: w.cwd, answers: ['123456'], timeoutMs: 60000 })
  t.log(`first aws call (prompt): ${Date.now() - t0} ms`)
  t.is(first.exitCode, 0, first.transcript)
  t.is(first.prompts, 1, first.transcript)
  t.regex(first.transcript, new RegExp(`"Account": "${TARGET}"`))
  t.is(calls('GetSessionToken'), 1)
  t.is(calls('AssumeRole'), 1)
  t.false(first.transcript.includes(BASE_SECRET))

  t0 = Date.now()
  const second = await runInPty(aws, args, { env, cwd: w.cwd, answers: [], timeoutMs: 60000 })
  t.log(`second aws call (cache): ${Date.now() - t0} ms`)
  t.is(second.exitCode, 0, second.transcript)
  t.is(second.prompts, 0, second.transcript)
  t.regex(second.transcript, new RegExp(`"Account": "${TARGET}"`))
  t.is(calls('GetSessionToken'), 1, 'no new STS call')
  t.is(calls('AssumeRole'), 1)
})
