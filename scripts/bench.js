#!/usr/bin/env node
'use strict'
// `npm run bench`: measures the figures of issue "Evidence" and writes BENCHMARKS.md.
//   node scripts/bench.js            full run: release build, 50 accounts, medians of repeated runs
//   node scripts/bench.js --tiny     quick check that the benchmark still runs (used by npm test);
//                                    3 accounts, few repetitions, current build, writes to --out
//   --out FILE                       where to write the report (default BENCHMARKS.md)
// Every ratio compares two measurements taken in the same run, on this machine.
const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { startStsStub } = require('../__test__/helpers/sts-stub')
const { makeWorld } = require('../__test__/helpers/plugin')
const { crossEnv, crossHost } = require('./setup-cross')

const ROOT = path.resolve(__dirname, '..')
const CHILD = path.join(ROOT, '__test__', 'helpers', 'resolve-child.js')
const args = process.argv.slice(2)
const TINY = args.includes('--tiny')
const OUT = args.includes('--out') ? path.resolve(args[args.indexOf('--out') + 1]) : path.join(ROOT, 'BENCHMARKS.md')
const ACCOUNTS = TINY ? 3 : 50
const REPEAT = TINY ? 3 : 15
const LATENCY_MS = 50
const SERIAL = 'arn:aws:iam::999999999999:mfa/bench'

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const log = (m) => process.stderr.write(`[bench] ${m}\n`)

function timed(cmd, cmdArgs, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6
      if (code !== 0) return reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited ${code}: ${err}`))
      resolve({ ms, out, err })
    })
  })
}

async function loadCost() {
  const base = []
  const loaded = []
  const rssBase = []
  const rssLoaded = []
  const rss = 'process.stdout.write(String(process.resourceUsage().maxRSS))'
  for (let i = 0; i < REPEAT; i++) {
    // Alternate so that drift on the machine hits both sides alike.
    const a = await timed(process.execPath, ['-e', rss])
    const b = await timed(process.execPath, ['-e', `require(${JSON.stringify(ROOT)});${rss}`])
    base.push(a.ms)
    loaded.push(b.ms)
    rssBase.push(Number(a.out))
    rssLoaded.push(Number(b.out))
  }
  return {
    baseMs: median(base),
    loadedMs: median(loaded),
    ratio: median(loaded) / median(base),
    addedMiB: (median(rssLoaded) - median(rssBase)) / 1024,
  }
}

function world(n) {
  const roles = []
  const map = {}
  for (let i = 0; i < n; i++) {
    const account = String(100000000000 + i)
    roles.push(`[profile bench${i}]\nrole_arn = arn:aws:iam::${account}:role/Deploy\nsource_profile = base\nmfa_serial = ${SERIAL}\n`)
    map[account] = `bench${i}`
  }
  return makeWorld({
    config: `[profile base]\nregion = us-east-1\n${roles.join('')}`,
    credentials: '[base]\naws_access_key_id = AKIABENCHBASE0000001\naws_secret_access_key = bench-secret\n',
    project: { 'cdkmultiprofileplugin.json': { awsProfiles: map } },
  })
}

function childEnv(w, stub, extra = {}) {
  return { PATH: process.env.PATH, HOME: w.home, CDK_MFA_RS_CACHE_DIR: w.cacheDir, AWS_ENDPOINT_URL_STS: stub.url, AWS_EC2_METADATA_DISABLED: 'true', ...extra }
}

async function resolveRun(w, stub, requests, extra) {
  const r = await timed(process.execPath, [CHILD, JSON.stringify({ requests, concurrent: true })], { cwd: w.cwd, env: childEnv(w, stub, extra) })
  const results = r.out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l))
  const failed = results.filter((x) => x.error)
  if (failed.length) throw new Error(`resolution failed: ${failed[0].error}`)
  return { wallMs: r.ms, resolveMs: Math.max(...results.map((x) => x.ms)), results }
}

async function coldAndWarm(stub) {
  const w = world(ACCOUNTS)
  const accounts = Object.keys(JSON.parse(fs.readFileSync(path.join(w.cwd, 'cdkmultiprofileplugin.json'), 'utf8')).awsProfiles)
  const single = []
  const many = []
  let calls = null
  let code = 100000
  for (let i = 0; i < REPEAT; i++) {
    for (const [list, sink] of [[accounts.slice(0, 1), single], [accounts, many]]) {
      fs.rmSync(w.cacheDir, { recursive: true, force: true })
      stub.clearCalls()
      const r = await resolveRun(w, stub, list.map((a) => [a, 1]), { CDK_MFA_CODE: String(code++) })
      sink.push(r.wallMs)
      if (list.length === accounts.length) {
        calls = {
          getSessionToken: stub.calls.filter((c) => c.action === 'GetSessionToken').length,
          assumeRole: stub.calls.filter((c) => c.action === 'AssumeRole').length,
          total: stub.calls.length,
        }
      }
    }
  }
  // Warm: the cache now holds the last cold run of all accounts; new processes, both modes.
  // ForReading and ForWriting share a profile here, so both modes hit the same cache entries.
  const warm = []
  const warmResolve = []
  let warmCalls = 0
  for (let i = 0; i < REPEAT; i++) {
    stub.clearCalls()
    const r = await resolveRun(w, stub, accounts.flatMap((a) => [[a, 0], [a, 1]]), {})
    warm.push(r.wallMs)
    warmResolve.push(r.resolveMs)
    warmCalls += stub.calls.length
  }
  w.cleanup()
  return {
    singleColdMs: median(single),
    manyColdMs: median(many),
    coldRatio: median(many) / median(single),
    calls,
    warmWallMs: median(warm),
    warmResolveMs: median(warmResolve),
    warmStsCalls: warmCalls,
  }
}

/** The release profile's opt-level, as Cargo.toml sets it. */
function releaseOptLevel() {
  const toml = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8')
  const m = /\[profile\.release\][^[]*?opt-level\s*=\s*"?([^"\n]+)"?/.exec(toml)
  return m ? m[1] : 'default'
}

function packSize() {
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }))
  return { tarballMB: info.size / 1e6, unpackedMB: info.unpackedSize / 1e6, files: info.files.length }
}

async function main() {
  if (!TINY) {
    // Built as linux-x64-gnu ships (zig, glibc 2.17 floor) where the cross tools run, as npm test does.
    const zig = crossHost() ? ['--target', 'x86_64-unknown-linux-gnu.2.17', '--cross-compile'] : []
    log(`release build ${zig.join(' ')} (LTO; takes minutes) ...`)
    execFileSync(path.join(ROOT, 'node_modules', '.bin', 'napi'), ['build', '--platform', '--release', '--dts', 'target/napi.d.ts', ...zig], { cwd: ROOT, stdio: 'inherit', env: crossEnv() })
  }
  const binary = path.join(ROOT, 'cdk-mfa-rs.linux-x64-gnu.node')
  log('load cost ...')
  const load = await loadCost()
  log(`cold and warm runs (${ACCOUNTS} accounts, ${LATENCY_MS} ms STS latency) ...`)
  const stub = await startStsStub({ faults: { latencyMs: LATENCY_MS, rejectReusedCodes: false } })
  let runs
  try {
    runs = await coldAndWarm(stub)
  } finally {
    await stub.stop()
  }
  const pack = packSize()
  const f = (x, d = 1) => x.toFixed(d)
  const ok = (b) => (b ? 'met' : '**missed**')
  const rows = [
    ['Load: `require` ÷ `node -e 0` (wall, median)', `${f(load.loadedMs)} ms ÷ ${f(load.baseMs)} ms = **${f(load.ratio, 2)}×**`, '≤ 1.15×', ok(load.ratio <= 1.15)],
    ['Load: peak memory added (maxRSS, median)', `**${f(load.addedMiB)} MiB**`, '≤ 15 MiB', ok(load.addedMiB <= 15)],
    [`Warm: ${ACCOUNTS} accounts × 2 modes, fresh process, disk cache`, `**${runs.warmStsCalls} STS calls** in ${REPEAT} runs; resolution **${f(runs.warmResolveMs)} ms** after load (process wall ${f(runs.warmWallMs)} ms)`, '0 STS calls, ≤ 20 ms beyond load', ok(runs.warmStsCalls === 0 && runs.warmResolveMs <= 20)],
    [`Cold: ${ACCOUNTS} accounts, one MFA session, STS +${LATENCY_MS} ms/call`, `**${runs.calls.getSessionToken} code used** (GetSessionToken), **${runs.calls.total} STS calls** (${runs.calls.assumeRole} AssumeRole)`, `1 prompt, ${ACCOUNTS + 1} STS calls`, ok(runs.calls.getSessionToken === 1 && runs.calls.total === ACCOUNTS + 1)],
    [`Cold: wall of ${ACCOUNTS} accounts ÷ 1 account (process wall, median)`, `${f(runs.manyColdMs)} ms ÷ ${f(runs.singleColdMs)} ms = **${f(runs.coldRatio, 2)}×**`, '≤ 3×', ok(runs.coldRatio <= 3)],
    ['Packed install size, linux-x64-gnu (`npm pack`)', `**${f(pack.tarballMB, 2)} MB** tarball, ${f(pack.unpackedMB, 2)} MB unpacked, ${pack.files} files`, '≤ 8 MB', ok(pack.unpackedMB <= 8)],
  ]
  const cpu = os.cpus()[0]
  const md = `# Benchmarks

Written by \`npm run bench\` (\`scripts/bench.js\`${TINY ? ' --tiny: a smoke run, not the real figures' : ''}) on ${new Date().toISOString().slice(0, 10)}.

**Machine:** ${cpu ? cpu.model : 'unknown CPU'}, ${os.cpus().length} cores, ${f(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}.
**Binary:** \`${path.basename(binary)}\`, ${f(fs.statSync(binary).size / 1e6, 2)} MB (${TINY ? 'whatever build was present' : `release build: LTO, opt-level ${releaseOptLevel()}, stripped`}).

**Method:** every figure is the median of ${REPEAT} runs, each in a fresh Node process. Ratios compare two medians measured
in the same run. STS is the project's local stub (\`__test__/helpers/sts-stub.js\`) on 127.0.0.1, adding ${LATENCY_MS} ms to every
call; the MFA code comes from \`CDK_MFA_CODE\`, which stands for the one prompt. Cold runs start with an empty cache
directory; warm runs use the cache the last cold run left. "Resolution after load" is measured inside the process, from the
first \`canProvideCredentials\` call to the last \`getProvider\` answer, all requests concurrent, as the CDK CLI issues them.

| Figure | Measured | Goal | |
|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}
`
  fs.writeFileSync(OUT, md)
  log(`wrote ${OUT}`)
  process.stdout.write(md)
}

main().catch((e) => {
  process.stderr.write(`[bench] failed: ${e.stack || e}\n`)
  process.exit(1)
})
