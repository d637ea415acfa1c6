'use strict'
// scripts/check-binary.js, the release checks of a built .node (the release workflow runs it on
// every platform's build): on the binaries npm test builds, and on real shared libraries made here
// with zig that must pass or fail (too big, not stripped, wrong CPU, wrong minimum macOS).
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { VENV } = require('../scripts/setup')
const { MAX_NODE_BYTES, PLATFORMS } = require('../scripts/platforms')
const { expectedMacos } = require('../scripts/check-binary')
const { crossHost } = require('../scripts/setup-cross')

const ROOT = path.resolve(__dirname, '..')
const CHECK = path.join(ROOT, 'scripts', 'check-binary.js')
const DEV_BUILD = path.join(ROOT, 'cdk-mfa-rs.linux-x64-gnu.node')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-check-binary-'))
test.after.always(() => {
  if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true })
})

function check(files, ...flags) {
  const r = spawnSync(process.execPath, [CHECK, ...flags, ...files], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const SRC = path.join(tmp, 'lib.c')
fs.writeFileSync(SRC, 'int napi_register_module_v1(void) { return 1; }\nstatic int twice(int x) { return 2 * x; }\nint other(int y) { return twice(y); }\n')

/** A real shared library for `target` (zig, no libc or runtime: fast), as cdk-mfa-rs.<key>.node. */
function zigLib(target, key, extra = []) {
  const dir = fs.mkdtempSync(path.join(tmp, 'lib-'))
  const out = path.join(dir, `cdk-mfa-rs.${key}.node`)
  const cache = path.join(tmp, 'zig-cache')
  const r = spawnSync(path.join(VENV, 'bin', 'python'), ['-m', 'ziglang', 'build-lib', '-dynamic', '-target', target, '-fno-compiler-rt', '-fno-ubsan-rt', ...extra, `-femit-bin=${out}`, SRC], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, ZIG_GLOBAL_CACHE_DIR: cache, ZIG_LOCAL_CACHE_DIR: cache },
  })
  if (r.status !== 0) throw new Error(`zig build-lib ${target}: ${r.stderr}`)
  return out
}

test('the Linux and Windows binaries npm test built pass the checks of a dev build (format, CPU, glibc floor)', (t) => {
  const files = [DEV_BUILD]
  for (const p of PLATFORMS) {
    const f = path.join(ROOT, 'target', 'cross-quick', p.key, `cdk-mfa-rs.${p.key}.node`)
    if (fs.existsSync(f)) files.push(f)
  }
  if (crossHost()) {
    // npm test's quick cross builds: a PE and an arm64 ELF besides the x64 one.
    t.true(files.some((f) => f.endsWith('cdk-mfa-rs.win32-x64-msvc.node')), 'the win32 build npm test makes')
    t.true(files.some((f) => f.endsWith('cdk-mfa-rs.linux-arm64-gnu.node')), 'the linux-arm64-gnu build npm test makes')
  }
  const r = check(files, '--dev')
  t.is(r.code, 0, r.out + r.err)
  t.is(r.out.trim().split('\n').length, files.length)
  t.regex(r.out, /^cdk-mfa-rs\.linux-x64-gnu\.node {2}\d+ bytes .* ELF x64, glibc >= 2\.\d+ {2}OK$/m)
  if (crossHost()) t.regex(r.out, /^cdk-mfa-rs\.win32-x64-msvc\.node {2}\d+ bytes .* PE x64 {2}OK$/m)
})

test('the dev build npm test made, checked as a release build, fails: over 8 MiB', (t) => {
  t.true(fs.statSync(DEV_BUILD).size > MAX_NODE_BYTES)
  const r = check([DEV_BUILD])
  t.is(r.code, 1)
  t.regex(r.out, /^cdk-mfa-rs\.linux-x64-gnu\.node {2}\d+ bytes .* FAIL: \d+ bytes, over the 8388608-byte \(8 MiB\) limit(; not stripped \(has \.symtab\))?$/m)
  t.regex(r.err, /check-binary: 1 of 1 binaries failed the checks/)
})

test('an ELF library with a symbol table fails as not stripped; stripped by binutils, it passes', (t) => {
  const lib = zigLib('x86_64-linux-gnu.2.17', 'linux-x64-gnu')
  const r = check([lib])
  t.is(r.code, 1)
  t.regex(r.out, /ELF x64, not stripped \(has \.symtab\).* FAIL: not stripped \(has \.symtab\)$/m)
  const s = spawnSync('strip', ['--strip-all', lib], { encoding: 'utf8' })
  t.is(s.status, 0, s.stderr)
  const r2 = check([lib])
  t.is(r2.code, 0, r2.out)
  t.regex(r2.out, /ELF x64, stripped \(no \.symtab\).* OK$/m)
})

test('the 8 MiB limit: a stripped library of exactly 8,388,608 bytes passes, one byte more fails', (t) => {
  const lib = zigLib('x86_64-linux-gnu.2.17', 'linux-x64-gnu', ['-fstrip'])
  t.is(check([lib]).code, 0, check([lib]).out)
  // Bytes after the last section header change nothing for the loader, only the size.
  fs.appendFileSync(lib, Buffer.alloc(MAX_NODE_BYTES - fs.statSync(lib).size))
  const exact = check([lib])
  t.is(exact.code, 0, exact.out)
  t.regex(exact.out, /8388608 bytes \(8\.00 MiB\) {2}ELF x64, stripped \(no \.symtab\)/)
  fs.appendFileSync(lib, Buffer.alloc(1))
  const over = check([lib])
  t.is(over.code, 1)
  t.regex(over.out, /FAIL: 8388609 bytes, over the 8388608-byte \(8 MiB\) limit$/m)
})

test('a binary of another CPU or OS under a platform name fails', (t) => {
  const arm = zigLib('aarch64-linux-gnu.2.17', 'linux-x64-gnu', ['-fstrip'])
  t.regex(check([arm]).out, /FAIL: CPU arm64, expected x64$/m)
  const mac = zigLib('aarch64-macos.11.0', 'linux-arm64-gnu')
  t.regex(check([mac], '--dev').out, /FAIL: Mach-O, expected ELF$/m)
})

test('darwin: the minimum macOS recorded in the binary is the deployment target (x64 10.13, arm64 11.0); an unstripped one fails the release check', (t) => {
  t.is(expectedMacos('x64'), '10.13')
  t.is(expectedMacos('arm64'), '11.0')
  t.regex(fs.readFileSync(path.join(ROOT, '.cargo', 'config.toml'), 'utf8'), /^MACOSX_DEPLOYMENT_TARGET = "10\.13"$/m)
  // x64 at 10.13 records LC_VERSION_MIN_MACOSX, arm64 at 11.0 LC_BUILD_VERSION (as Apple's linker does).
  const x64 = zigLib('x86_64-macos.10.13', 'darwin-x64')
  const arm = zigLib('aarch64-macos.11.0', 'darwin-arm64')
  const dev = check([x64, arm], '--dev')
  t.is(dev.code, 0, dev.out)
  t.regex(dev.out, /^cdk-mfa-rs\.darwin-x64\.node .* Mach-O x64, minimum macOS 10\.13 {2}OK$/m)
  t.regex(dev.out, /^cdk-mfa-rs\.darwin-arm64\.node .* Mach-O arm64, minimum macOS 11\.0 {2}OK$/m)
  // zig keeps local symbols (and a debug map): a release check says it is not stripped.
  const release = check([x64])
  t.is(release.code, 1)
  t.regex(release.out, /not stripped \((\d+) local symbols\), minimum macOS 10\.13 {2}FAIL: not stripped \(\d+ local symbols\)$/m)
  // Built for a newer macOS than the deployment target: it would not load on 10.13.
  const newer = check([zigLib('x86_64-macos.12.0', 'darwin-x64')], '--dev')
  t.is(newer.code, 1)
  t.regex(newer.out, /FAIL: minimum macOS 12\.0, expected 10\.13$/m)
})

// No tool here strips a Mach-O (rustc runs `strip -x` on macOS), so the stripped case is the
// zig-built library with its local symbols made external: what stays after `strip -x`.
test('darwin: with no local symbol left the release check passes', (t) => {
  const lib = zigLib('aarch64-macos.11.0', 'darwin-arm64', ['-fstrip'])
  const buf = fs.readFileSync(lib)
  const ncmds = buf.readUInt32LE(16)
  let at = 32
  let locals = 0
  for (let i = 0; i < ncmds; i++) {
    if (buf.readUInt32LE(at) === 0x2 /* LC_SYMTAB */) {
      const symoff = buf.readUInt32LE(at + 8)
      for (let s = 0; s < buf.readUInt32LE(at + 12); s++) {
        const type = symoff + s * 16 + 4
        if ((buf[type] & 0x01) === 0) {
          buf[type] |= 0x01
          locals++
        }
      }
    }
    at += buf.readUInt32LE(at + 4)
  }
  t.true(locals > 0, 'zig left local symbols to remove')
  t.regex(check([lib]).out, new RegExp(`not stripped \\(${locals} local symbols\\)`))
  fs.writeFileSync(lib, buf)
  const r = check([lib])
  t.is(r.code, 0, r.out)
  t.regex(r.out, /Mach-O arm64, stripped \(0 local symbols\), minimum macOS 11\.0 {2}OK$/m)
})
