'use strict'
// Issue 11: win32-x64, built here as x86_64-pc-windows-gnu with mingw-w64 (the release workflow
// builds the MSVC one), run under Wine 8 with the official Windows Node 22 from npm, against the
// local STS stub. Home and cache come from USERPROFILE; doctor reads the cache folder's ACL.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { emulatedPlatformSuite } = require('./helpers/cross-suite')
const { quickBinary } = require('./helpers/cross')

const s = emulatedPlatformSuite(test, 'win32-x64-msvc')

test('win32-x64: the DLL resolves N-API at load time: it imports neither node.exe nor libnode.dll', (t) => {
  const out = execFileSync('x86_64-w64-mingw32-objdump', ['-p', quickBinary('win32-x64-msvc')], { encoding: 'utf8', maxBuffer: 64 << 20 })
  const dlls = [...out.matchAll(/DLL Name: (\S+)/g)].map((m) => m[1].toLowerCase())
  t.true(dlls.includes('kernel32.dll'), dlls.join(' '))
  t.false(dlls.some((d) => d === 'node.exe' || d.startsWith('libnode')), dlls.join(' '))
})

test.serial('win32-x64: doctor checks the cache folder ACL under USERPROFILE: private when only the user can read it, a warning naming who else can', async (t) => {
  const emu = s.emulator()
  const w = s.world()
  const cache = path.join(w.home, '.aws', 'cdk-mfa-rs', 'cache')
  fs.mkdirSync(cache, { recursive: true, mode: 0o700 })
  fs.chmodSync(cache, 0o700)
  const cli = path.join(s.install().pkg, 'cli.js')
  const env = s.envFor(w, { CDK_MFA_CODE: undefined })
  const winCache = emu.hostPath(cache)
  const esc = (x) => x.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')

  const ok = await emu.run(cli, ['doctor'], { env, cwd: w.cwd })
  t.regex(ok.stdout, new RegExp(`OK {4}cache: ${esc(winCache)} is private and writable \\(ACL: you, SYSTEM and Administrators only; 0 entries\\)`), ok.stdout + ok.stderr)

  // Wine derives a folder's ACL from its Unix mode: group/other bits become entries for other accounts.
  fs.chmodSync(cache, 0o755)
  const open = await emu.run(cli, ['doctor'], { env, cwd: w.cwd })
  t.regex(open.stdout, new RegExp(`WARN  cache: ${esc(winCache)} is readable by .+ \\(its ACL\\); it holds session credentials`), open.stdout)
  t.regex(open.stdout, /fix: icacls ".*" \/inheritance:r \/grant:r "%USERNAME%:\(OI\)\(CI\)F"/)
  t.notRegex(open.stdout, /is private/)
})
