'use strict'
// Issue 11, packaging: the napi-rs per-platform packages (npm/<platform>/), the optional
// dependencies `napi prepublish` gives the root package, the loader's one-line answer on a
// platform without a binary, and the glibc floor of every linux-gnu binary built here.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const NAPI = path.join(ROOT, 'node_modules', '.bin', 'napi')
const { PLATFORMS, rustTarget } = require('../scripts/platforms')
const { glibcFloor, compare } = require('../scripts/elf')
const rootPkg = require('../package.json')

const tmps = []
function tmp(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  tmps.push(d)
  return d
}
test.after.always(() => {
  if (!process.env.KEEP_TMP) for (const d of tmps) fs.rmSync(d, { recursive: true, force: true })
})

test('npm/<platform>/package.json: one per shipped platform, with the name, main, files, os, cpu and libc napi-rs generates', (t) => {
  // napi's own generator, from this package.json, as the reference.
  const ref = tmp('cdk-mfa-rs-npmdirs-')
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(ref, 'package.json'))
  execFileSync(NAPI, ['create-npm-dirs', '--npm-dir', 'npm'], { cwd: ref, stdio: 'ignore' })
  const keys = PLATFORMS.map((p) => p.key).sort()
  t.deepEqual(fs.readdirSync(path.join(ROOT, 'npm')).sort(), keys)
  t.deepEqual(fs.readdirSync(path.join(ref, 'npm')).sort(), keys)
  for (const key of keys) {
    const mine = require(path.join(ROOT, 'npm', key, 'package.json'))
    const theirs = JSON.parse(fs.readFileSync(path.join(ref, 'npm', key, 'package.json'), 'utf8'))
    for (const f of ['name', 'version', 'main', 'files', 'os', 'cpu', 'libc', 'engines']) t.deepEqual(mine[f], theirs[f], `${key}: ${f}`)
    // And what npm matches against the user's machine, spelled out.
    const [osName, cpu, abi] = key.split('-')
    t.deepEqual(mine.os, [osName], key)
    t.deepEqual(mine.cpu, [cpu], key)
    t.deepEqual(mine.libc, osName === 'linux' ? [abi === 'musl' ? 'musl' : 'glibc'] : undefined, key)
    t.is(mine.main, `cdk-mfa-rs.${key}.node`)
  }
})

test('the platform table, napi.targets and the loader entry (plugin.js) name the same seven platforms', (t) => {
  const keys = PLATFORMS.map((p) => p.key)
  const src = fs.readFileSync(path.join(ROOT, 'plugin.js'), 'utf8')
  const shipped = JSON.parse(/const SHIPPED = (\[[^\]]*\])/.exec(src)[1].replace(/'/g, '"'))
  t.deepEqual(shipped.slice().sort(), keys.slice().sort())
  const released = PLATFORMS.map((p) => p.release || rustTarget(p)).sort()
  t.deepEqual(rootPkg.napi.targets.slice().sort(), released)
  t.is(rootPkg.main, 'plugin.js')
  t.true(rootPkg.files.includes('plugin.js') && rootPkg.files.includes('index.js'))
})

test('napi prepublish gives the root package one optional dependency per platform package, at its own version', (t) => {
  const dir = tmp('cdk-mfa-rs-prepublish-')
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'))
  fs.cpSync(path.join(ROOT, 'npm'), path.join(dir, 'npm'), { recursive: true })
  // prepublish checks each platform package is complete; what it writes into package.json does not
  // depend on the binaries' contents, so this copy gets a placeholder file for each.
  for (const { key } of PLATFORMS) fs.writeFileSync(path.join(dir, 'npm', key, `cdk-mfa-rs.${key}.node`), 'placeholder')
  execFileSync(NAPI, ['prepublish', '-t', 'npm', '--skip-optional-publish', '--no-gh-release'], { cwd: dir, stdio: 'ignore' })
  const after = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  const want = Object.fromEntries(PLATFORMS.map((p) => [`cdk-mfa-rs-${p.key}`, rootPkg.version]))
  t.deepEqual(after.optionalDependencies, want)
  // The committed package.json has none: they are added at release time only, so a checkout
  // never asks the registry for binaries that are not published yet.
  t.is(rootPkg.optionalDependencies, undefined)
})

// A process that reports another platform than this machine's, before anything loads.
function fakePlatform(platform, arch) {
  const f = path.join(tmp('cdk-mfa-rs-fake-'), 'fake-platform.js')
  fs.writeFileSync(
    f,
    `Object.defineProperty(process, 'platform', { value: ${JSON.stringify(platform)} })\n` +
      `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(arch)} })\n`,
  )
  return f
}

test('on a platform with no binary, the plugin and the companion command say so in one line naming it', (t) => {
  const preload = fakePlatform('freebsd', 'x64')
  const want = /^cdk-mfa-rs: no binary for this platform \(freebsd-x64, Node v[\d.]+\); cdk-mfa-rs ships binaries for linux-x64-gnu, .*win32-x64-msvc$/
  const load = spawnSync(process.execPath, ['-r', preload, '-e', `try { require(${JSON.stringify(ROOT)}) } catch (e) { process.stdout.write(e.message) }`], { encoding: 'utf8' })
  t.regex(load.stdout, want)
  t.is(load.stdout.split('\n').length, 1)
  const cli = spawnSync(process.execPath, ['-r', preload, path.join(ROOT, 'cli.js'), 'status'], { encoding: 'utf8' })
  t.is(cli.status, 1)
  t.is(cli.stdout, '')
  t.regex(cli.stderr, new RegExp(want.source.replace('$', '\\n$')))
  t.is(cli.stderr.trim().split('\n').length, 1)
})

test('every linux-gnu binary built here needs no glibc symbol newer than GLIBC_2.17', (t) => {
  // The root binary (what npm test runs everywhere) and the quick cross builds npm test made.
  const files = [path.join(ROOT, 'cdk-mfa-rs.linux-x64-gnu.node')]
  for (const p of PLATFORMS.filter((x) => x.glibc)) {
    for (const dir of [path.join(ROOT, 'target', 'cross-quick', p.key), path.join(ROOT, 'npm', p.key)]) {
      const f = path.join(dir, `cdk-mfa-rs.${p.key}.node`)
      if (fs.existsSync(f)) files.push(f)
    }
  }
  t.true(files.some((f) => f.includes('linux-arm64-gnu')), 'an arm64 gnu build exists (npm test builds it)')
  for (const f of files) {
    const floor = glibcFloor(f)
    t.truthy(floor, `${f} has versioned glibc symbols`)
    t.true(compare(floor, '2.17') <= 0, `${path.relative(ROOT, f)} needs GLIBC_${floor}`)
  }
})

// Cargo passes `-C lto` only to a crate whose every crate type can be LTO'd: with
// crate-type = ["cdylib", "rlib"] the release .node silently linked every dependency's whole object
// code (win32 mingw 10.6 MB → 4.8 MB, linux-x64-gnu 7.9 MB → 5.4 MB once LTO ran). A crate with
// this manifest's [lib] and [profile.release] sections and no dependencies, built by the real
// Cargo (about a second), must get `-C lto` on its rustc command line.
test('the release profile really runs LTO on the addon crate (Cargo passes -C lto with these crate types)', (t) => {
  const toml = fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8')
  const section = (name) => {
    const m = new RegExp(`^\\[${name.replace('.', '\\.')}\\]\\n(?:(?!\\[).*\\n?)*`, 'm').exec(toml)
    t.truthy(m, `Cargo.toml has no [${name}] section`)
    return m[0]
  }
  const dir = tmp('cdk-mfa-rs-lto-')
  const manifest = ['[package]', 'name = "lto_probe"', 'version = "0.0.0"', 'edition = "2021"', '', section('lib'), section('profile.release'), '[workspace]', ''].join('\n')
  fs.writeFileSync(path.join(dir, 'Cargo.toml'), manifest)
  fs.mkdirSync(path.join(dir, 'src'))
  fs.writeFileSync(path.join(dir, 'src', 'lib.rs'), '#[no_mangle]\npub extern "C" fn probe() -> u32 {\n    42\n}\n')
  const r = spawnSync('cargo', ['build', '--release', '--lib', '-v', '--target-dir', path.join(dir, 'target')], { cwd: dir, encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const rustc = r.stderr.split('\n').find((l) => l.includes('--crate-name lto_probe'))
  t.truthy(rustc, r.stderr)
  t.regex(rustc, /-C lto(\s|=)/, `Cargo did not ask rustc for LTO:\n${rustc}\n\n${manifest}`)
})
