#!/usr/bin/env node
'use strict'
// The checks a built `cdk-mfa-rs.<platform>.node` must pass before it ships. The release workflow
// runs them on every platform's build; npm test on the Linux and Windows builds it makes, and on
// files that must fail (__test__/check-binary.test.js).
//   - format and CPU are the platform's: ELF / PE / Mach-O, x86-64 / arm64, a shared library
//   - linux-*-gnu: no glibc symbol newer than the platform's pin (scripts/platforms.js: 2.17)
//   - darwin: the minimum macOS version recorded in it (LC_BUILD_VERSION minos, or
//     LC_VERSION_MIN_MACOSX) is .cargo/config.toml's MACOSX_DEPLOYMENT_TARGET (arm64: 11.0, its first)
//   - release builds (not --dev): at most MAX_NODE_BYTES (8 MiB), and stripped: ELF without
//     .symtab, PE without COFF symbols, Mach-O without local symbols (what `strip -x`, which
//     rustc runs for `strip = "symbols"` on a macOS cdylib, leaves)
// Plain file reads, so it runs on macOS and Windows runners too; only the glibc floor needs
// readelf (scripts/elf.js), on the Linux hosts that build the gnu targets.
//
// Usage: node scripts/check-binary.js [--dev] <path/to/cdk-mfa-rs.<platform>.node>...
//   --dev   a dev-profile build (what npm test builds): size and stripping are not checked
// Prints one line per file; exits 1 when any check fails.

const fs = require('node:fs')
const path = require('node:path')
const { byKey, MAX_NODE_BYTES } = require('./platforms')
const { glibcFloor, compare: cmpVersion } = require('./elf')

const CARGO_CONFIG = path.join(__dirname, '..', '.cargo', 'config.toml')
// The first macOS with Apple silicon: nothing older exists for darwin-arm64.
const ARM64_FIRST_MACOS = '11.0'

/** The minimum macOS a darwin build must record: the deployment target the build is given. */
function expectedMacos(arch) {
  const m = /^\s*MACOSX_DEPLOYMENT_TARGET\s*=\s*"([\d.]+)"/m.exec(fs.readFileSync(CARGO_CONFIG, 'utf8'))
  if (!m) throw new Error(`${CARGO_CONFIG} sets no MACOSX_DEPLOYMENT_TARGET`)
  return arch === 'arm64' && cmpVersion(m[1], ARM64_FIRST_MACOS) < 0 ? ARM64_FIRST_MACOS : m[1]
}

// --- ELF (Linux) --------------------------------------------------------------------------------
const ELF_MACHINE = { 62: 'x64', 183: 'arm64' }

function readElf(buf) {
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error('not a 64-bit little-endian ELF file')
  const type = buf.readUInt16LE(16)
  const shoff = Number(buf.readBigUInt64LE(40))
  const shentsize = buf.readUInt16LE(58)
  const shnum = buf.readUInt16LE(60)
  let symtab = false
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize
    if (at + 8 > buf.length) throw new Error('section headers past the end of the file')
    if (buf.readUInt32LE(at + 4) === 2 /* SHT_SYMTAB */) symtab = true
  }
  return { format: 'ELF', arch: ELF_MACHINE[buf.readUInt16LE(18)] || `machine ${buf.readUInt16LE(18)}`, library: type === 3 /* ET_DYN */, stripped: !symtab, strippedHow: symtab ? 'has .symtab' : 'no .symtab' }
}

// --- PE (Windows) -------------------------------------------------------------------------------
const PE_MACHINE = { 0x8664: 'x64', 0xaa64: 'arm64' }

function readPe(buf) {
  const pe = buf.readUInt32LE(0x3c)
  if (pe + 24 > buf.length || buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('no PE header')
  const machine = buf.readUInt16LE(pe + 4)
  const symbols = buf.readUInt32LE(pe + 16)
  const characteristics = buf.readUInt16LE(pe + 22)
  return {
    format: 'PE',
    arch: PE_MACHINE[machine] || `machine 0x${machine.toString(16)}`,
    library: (characteristics & 0x2000) !== 0 /* IMAGE_FILE_DLL */,
    stripped: symbols === 0,
    strippedHow: `${symbols} COFF symbols`,
  }
}

// --- Mach-O (macOS) -----------------------------------------------------------------------------
const MACHO_CPU = { 0x01000007: 'x64', 0x0100000c: 'arm64' }
const LC_SYMTAB = 0x2
const LC_VERSION_MIN_MACOSX = 0x24
const LC_BUILD_VERSION = 0x32
const PLATFORM_MACOS = 1

function machoVersion(v) {
  const patch = v & 0xff
  return `${v >>> 16}.${(v >>> 8) & 0xff}${patch ? `.${patch}` : ''}`
}

function readMacho(buf) {
  const cpu = buf.readUInt32LE(4)
  const filetype = buf.readUInt32LE(12)
  const ncmds = buf.readUInt32LE(16)
  let at = 32
  let locals = null
  let minos = null
  for (let i = 0; i < ncmds; i++) {
    if (at + 8 > buf.length) throw new Error('load commands past the end of the file')
    const cmd = buf.readUInt32LE(at)
    const size = buf.readUInt32LE(at + 4)
    if (size < 8) throw new Error(`load command ${i} has size ${size}`)
    if (cmd === LC_SYMTAB) {
      const symoff = buf.readUInt32LE(at + 8)
      const nsyms = buf.readUInt32LE(at + 12)
      if (symoff + nsyms * 16 > buf.length) throw new Error('symbol table past the end of the file')
      locals = 0
      // nlist_64: n_type at +4; not N_EXT (0x01) = local, N_STAB (0xe0) bits = debug entries.
      for (let s = 0; s < nsyms; s++) if ((buf[symoff + s * 16 + 4] & 0x01) === 0) locals++
    } else if (cmd === LC_BUILD_VERSION && buf.readUInt32LE(at + 8) === PLATFORM_MACOS) {
      minos = machoVersion(buf.readUInt32LE(at + 12))
    } else if (cmd === LC_VERSION_MIN_MACOSX) {
      minos = machoVersion(buf.readUInt32LE(at + 8))
    }
    at += size
  }
  return {
    format: 'Mach-O',
    arch: MACHO_CPU[cpu] || `cputype 0x${cpu.toString(16)}`,
    library: filetype === 6 /* MH_DYLIB */ || filetype === 8 /* MH_BUNDLE */,
    stripped: locals === 0 || locals === null,
    strippedHow: `${locals ?? 0} local symbols`,
    minos,
  }
}

function readBinary(buf) {
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0x7f454c46) return readElf(buf)
  if (buf.length >= 0x40 && buf.toString('latin1', 0, 2) === 'MZ') return readPe(buf)
  if (buf.length >= 32 && buf.readUInt32LE(0) === 0xfeedfacf) return readMacho(buf)
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0xcafebabe) throw new Error('a universal (fat) Mach-O: one architecture per package expected')
  throw new Error('neither ELF, PE nor 64-bit Mach-O')
}

const FORMAT_OF_OS = { linux: 'ELF', win32: 'PE', darwin: 'Mach-O' }

/**
 * Checks one `cdk-mfa-rs.<platform>.node`. Returns { key, size, facts: [...], problems: [...] };
 * `dev`: a dev-profile build (size and stripping not checked).
 */
function checkBinary(file, { dev = false } = {}) {
  const m = /^cdk-mfa-rs\.([a-z0-9-]+)\.node$/.exec(path.basename(file))
  if (!m) throw new Error(`${file}: not named cdk-mfa-rs.<platform>.node`)
  const p = byKey(m[1])
  const [os, arch] = p.key.split('-')
  const buf = fs.readFileSync(file)
  const facts = []
  const problems = []
  let bin
  try {
    bin = readBinary(buf)
  } catch (e) {
    return { key: p.key, size: buf.length, facts, problems: [`unreadable: ${e.message}`] }
  }
  facts.push(`${bin.format} ${bin.arch}`)
  if (bin.format !== FORMAT_OF_OS[os]) problems.push(`${bin.format}, expected ${FORMAT_OF_OS[os]}`)
  if (bin.arch !== arch) problems.push(`CPU ${bin.arch}, expected ${arch}`)
  if (!bin.library) problems.push('not a shared library')
  if (!dev) {
    if (buf.length > MAX_NODE_BYTES) problems.push(`${buf.length} bytes, over the ${MAX_NODE_BYTES}-byte (8 MiB) limit`)
    facts.push(bin.stripped ? `stripped (${bin.strippedHow})` : `not stripped (${bin.strippedHow})`)
    if (!bin.stripped) problems.push(`not stripped (${bin.strippedHow})`)
  }
  if (os === 'darwin') {
    const want = expectedMacos(arch)
    facts.push(`minimum macOS ${bin.minos ?? 'not recorded'}`)
    if (!bin.minos || cmpVersion(bin.minos, want) !== 0) problems.push(`minimum macOS ${bin.minos ?? 'not recorded'}, expected ${want}`)
  }
  if (p.glibc && bin.format === 'ELF') {
    const floor = glibcFloor(file)
    facts.push(`glibc >= ${floor ?? 'any'}`)
    if (floor && cmpVersion(floor, p.glibc) > 0) problems.push(`needs GLIBC_${floor}, newer than ${p.glibc}`)
  }
  return { key: p.key, size: buf.length, facts, problems }
}

function main(argv) {
  const dev = argv.includes('--dev')
  const files = argv.filter((a) => a !== '--dev')
  if (!files.length) throw new Error('usage: node scripts/check-binary.js [--dev] <cdk-mfa-rs.<platform>.node>...')
  let bad = 0
  for (const f of files) {
    const r = checkBinary(f, { dev })
    const mib = (r.size / 1024 / 1024).toFixed(2)
    const verdict = r.problems.length ? `FAIL: ${r.problems.join('; ')}` : 'OK'
    process.stdout.write(`${path.basename(f)}  ${r.size} bytes (${mib} MiB)  ${r.facts.join(', ')}  ${verdict}\n`)
    if (r.problems.length) bad++
  }
  if (bad) throw new Error(`${bad} of ${files.length} binaries failed the checks`)
}

if (require.main === module) {
  try {
    main(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`check-binary: ${e.message}\n`)
    process.exit(1)
  }
}

module.exports = { checkBinary, expectedMacos, readBinary }
