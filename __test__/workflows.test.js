'use strict'
// Issue 11 (release workflow): .github/workflows/*.yml are valid GitHub workflows (the schema
// check-jsonschema vendors, no network) and agree with the package: every napi target is built,
// every tested platform has a build, every `npm run` script exists, publishing needs the tests.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { VENV } = require('../scripts/setup')

const ROOT = path.resolve(__dirname, '..')
const DIR = path.join(ROOT, '.github', 'workflows')
const CHECK = path.join(VENV, 'bin', 'check-jsonschema')
const PYTHON = path.join(VENV, 'bin', 'python')
const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f))
const pkg = require(path.join(ROOT, 'package.json'))

// Any network use would fail: the proxy points at a closed port.
const OFFLINE = { ...process.env, HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', NO_PROXY: '', no_proxy: '' }

function validate(file) {
  const r = spawnSync(CHECK, ['--builtin-schema', 'vendor.github-workflows', file], { encoding: 'utf8', env: OFFLINE, timeout: 60000 })
  return { code: r.status, out: `${r.stdout}${r.stderr}` }
}

/** The YAML as plain data (ruamel.yaml, which check-jsonschema brings into the .venv). */
function load(file) {
  const py = 'import json,sys\nfrom ruamel.yaml import YAML\nprint(json.dumps(YAML(typ="safe").load(open(sys.argv[1], encoding="utf-8"))))'
  const r = spawnSync(PYTHON, ['-c', py, file], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(r.stderr)
  return JSON.parse(r.stdout)
}

test('there is a workflow, and each validates against the GitHub workflow schema offline', (t) => {
  t.true(files.length > 0)
  for (const f of files) {
    const r = validate(path.join(DIR, f))
    t.is(r.code, 0, `${f}: ${r.out}`)
  }
})

test('setup.js --debian-packages lists every Debian package the setup checks for, keyring of the musl userland included', (t) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'setup.js'), '--debian-packages'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const listed = r.stdout.trim().split(' ')
  const { debianPackages } = require('../scripts/setup')
  t.deepEqual(listed, debianPackages())
  for (const p of ['xvfb', 'zenity', 'xdotool', 'imagemagick', 'binutils', 'gcc-mingw-w64-x86-64', 'qemu-user', 'libc6-arm64-cross', 'libstdc++6-arm64-cross', 'wine', 'wine64', 'debian-archive-keyring']) {
    t.true(listed.includes(p), p)
  }
  // Every package scripts/setup*.js would apt-get is in the list (the sources name them as `pkg: '…'`).
  for (const f of ['setup.js', 'setup-cross.js']) {
    for (const m of fs.readFileSync(path.join(ROOT, 'scripts', f), 'utf8').matchAll(/pkg: '([^']+)', (?:present|cmd):/g)) t.true(listed.includes(m[1]), `${f}: ${m[1]}`)
  }
})

test('the validator rejects a workflow with a misspelt key (it is not a no-op)', (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-wf-'))
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }))
  const bad = path.join(tmp, 'ci.yml')
  fs.writeFileSync(bad, fs.readFileSync(path.join(DIR, 'ci.yml'), 'utf8').replace('    runs-on: ubuntu-24.04\n    timeout-minutes: 45', '    runs_on: ubuntu-24.04\n    timeout-minutes: 45'))
  const r = validate(bad)
  t.is(r.code, 1, r.out)
  t.regex(r.out, /runs_on/)
})

test('ci.yml agrees with package.json: napi targets built, tested platforms built, scripts exist, publish gated', (t) => {
  const wf = load(path.join(DIR, 'ci.yml'))
  const jobs = wf.jobs
  for (const [name, job] of Object.entries(jobs)) {
    for (const need of [].concat(job.needs || [])) t.truthy(jobs[need], `${name} needs unknown job ${need}`)
    for (const step of job.steps || []) {
      for (const m of (step.run || '').matchAll(/npm run ([\w:-]+)/g)) t.truthy(pkg.scripts[m[1]], `${name}: npm run ${m[1]} is not a script`)
      for (const m of (step.run || '').matchAll(/bash (\S+)/g)) t.true(fs.existsSync(path.join(ROOT, m[1])), `${name}: ${m[1]} missing`)
    }
  }
  const builds = jobs.build.strategy.matrix.settings
  t.deepEqual(builds.map((b) => b['rust-target']).sort(), [...pkg.napi.targets].sort(), 'one build per napi target')
  for (const b of builds) t.is(b.target.replace(/\.\d+\.\d+$/, ''), b['rust-target'])
  // The glibc targets pin the floor at 2.17 (Amazon Linux 2, RHEL 8, Ubuntu 20.04).
  for (const b of builds.filter((b) => b['rust-target'].endsWith('-linux-gnu'))) t.true(b.target.endsWith('.2.17'), b.target)
  // Every build is checked (size, stripped, CPU, glibc floor, minimum macOS) before its upload.
  const steps = jobs.build.steps
  const checkAt = steps.findIndex((s) => s.run === 'node scripts/check-binary.js cdk-mfa-rs.${{ matrix.settings.platform }}.node')
  t.true(checkAt >= 0, 'build runs scripts/check-binary.js on its binary')
  t.true(checkAt < steps.findIndex((s) => (s.uses || '').startsWith('actions/upload-artifact')), 'before the upload')
  const built = new Set(builds.map((b) => b.platform))
  const tested = jobs['test-portable'].strategy.matrix.settings.map((s) => s.platform)
  for (const p of tested) t.true(built.has(p), `${p} is tested but not built`)
  t.true(tested.some((p) => p.startsWith('darwin-')) && tested.some((p) => p.startsWith('win32-')))
  t.deepEqual(jobs['test-portable'].strategy.matrix.node.map(Number), pkg.engines.node.split(' || ').map((r) => Number(r.slice(1))), 'every supported Node major')
  t.true(jobs['test-portable'].steps.some((s) => s.run === 'npm run test:portable'))

  // The whole suite runs as the runner's non-root user: what the setup would apt-get install
  // comes first, with sudo, from the setup's own list.
  const linux = jobs['test-linux'].steps.map((s) => s.run || '')
  const apt = linux.findIndex((r) => /sudo .*apt-get install .*\$\(node scripts\/setup\.js --debian-packages\)/.test(r))
  t.true(apt >= 0, 'test-linux installs the setup\'s Debian packages with sudo')
  t.true(apt < linux.indexOf('bash .ci/run'), 'before npm test')

  const publish = jobs.publish
  t.regex(publish.if, /startsWith\(github\.ref, 'refs\/tags\/v'\)/)
  t.deepEqual([...publish.needs].sort(), ['build', 'test-linux', 'test-portable'])
  t.is(publish.permissions['id-token'], 'write')
  const runs = publish.steps.map((s) => s.run || '').join('\n')
  t.regex(runs, /napi artifacts/)
  t.regex(runs, /npm publish --provenance/)
  t.is(pkg.scripts.prepublishOnly, 'napi prepublish -t npm')
})
