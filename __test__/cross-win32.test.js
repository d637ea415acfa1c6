'use strict'
// Issue 11: win32-x64, built here as x86_64-pc-windows-gnu with mingw-w64 (the release workflow
// builds the MSVC one), run under Wine 8 with the official Windows Node 22 from npm, against the
// local STS stub. Home and cache come from USERPROFILE; doctor reads the cache folder's ACL; the
// MFA prompt runs on a Wine console in a pseudo-terminal (src/prompt/terminal/windows.rs).
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { emulatedPlatformSuite } = require('./helpers/cross-suite')
const { quickBinary } = require('./helpers/cross')

const s = emulatedPlatformSuite(test, 'win32-x64-msvc')
const esc = (x) => x.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')

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

  const ok = await emu.run(cli, ['doctor'], { env, cwd: w.cwd })
  t.regex(ok.stdout, new RegExp(`OK {4}cache: ${esc(winCache)} is private and writable \\(ACL: you, SYSTEM and Administrators only; 0 entries\\)`), ok.stdout + ok.stderr)

  // Wine derives a folder's ACL from its Unix mode: group/other bits become entries for other accounts.
  fs.chmodSync(cache, 0o755)
  const open = await emu.run(cli, ['doctor'], { env, cwd: w.cwd })
  t.regex(open.stdout, new RegExp(`WARN  cache: ${esc(winCache)} is readable by .+ \\(its ACL\\); it holds session credentials`), open.stdout)
  t.regex(open.stdout, /fix: icacls ".*" \/inheritance:r \/grant:r "%USERNAME%:\(OI\)\(CI\)F"/)
  t.notRegex(open.stdout, /is private/)
})

// The pty transcript is Wine's conhost drawing its screen buffer with VT sequences: a cursor move
// right stands for the blanks it skips; everything else (cursor show/hide, erase line) is dropped.
function screen(transcript) {
  return transcript.replace(/\x1b\[(\d*)C/g, (_, n) => ' '.repeat(Number(n || 1))).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
}

const PROMPT = 'MFA token for arn:aws:iam::999999999999:mfa/dev-user (profile deploy): '

test.serial('win32-x64: credential-process asks on the console (CONIN$) in a terminal: each digit shows as *, backspace edits, a wrong code then the right one, GetSessionToken gets what was typed', async (t) => {
  const emu = s.emulator()
  const w = s.world()
  const cli = path.join(s.install().pkg, 'cli.js')
  // A pty 1000 columns wide: the credentials JSON stays on one screen line.
  const r = await emu.runTty(cli, ['credential-process', '--profile', 'deploy'], {
    env: s.envFor(w, { CDK_MFA_CODE: undefined }),
    cwd: w.cwd,
    prompt: /MFA token for \S+ \(profile [^)]+\):/,
    // The second answer ends with a 7 taken back with backspace (DEL, as a terminal sends it).
    answers: ['000000', '3182079\x7f'],
    cols: 1000,
    timeoutMs: 90000,
  })
  const out = screen(r.transcript)
  t.is(r.exitCode, 0, out)
  t.false(r.timedOut, out)
  t.is(r.prompts, 2, out)
  // Both prompts on their own line after the line naming who waits, and what was typed shows as
  // stars, never as digits.
  t.is(out.match(new RegExp(`\r\ncdk-mfa-rs: the code is for profile deploy\r*\n${esc(PROMPT)}\\*{6}`, 'g'))?.length, 2, out)
  t.false(r.transcript.includes('000000'), 'the wrong code is not echoed')
  t.false(r.transcript.includes('318207'), 'the right code is not echoed')
  t.regex(out, new RegExp(`\r\n${esc(PROMPT)}\\*{7}\\x08`), 'seven stars, then the backspace takes one back')
  t.regex(out, /\r\ncdk-mfa-rs: STS rejected that code for arn:aws:iam::999999999999:mfa\/dev-user \(wrong, or already used\); enter the next code \(2 of 3 attempts left\)\./)
  t.deepEqual(
    s.suite.stub.calls.map((c) => `${c.action}${c.tokenCode ? `+mfa:${c.tokenCode}` : ''}`),
    ['GetSessionToken+mfa:000000', 'GetSessionToken+mfa:318207', 'AssumeRole'],
  )
  // stdout is the console too (see runTty): the credentials are the line that starts with {.
  const json = JSON.parse(out.split('\r\n').find((l) => l.startsWith('{')))
  t.is(json.Version, 1)
  t.regex(json.AccessKeyId, /^ASIA/)
  const cache = path.join(w.home, '.aws', 'cdk-mfa-rs', 'cache')
  t.is(fs.readdirSync(cache).filter((f) => f.endsWith('.json')).length, 2, 'the MFA session and the role are cached')
})

// A Windows console hands Ctrl-C to a program that turned processed input off as a key (the
// character 3). A pty under Wine cannot type that key (see helpers/console-ctrl-c.c), so a small
// Windows program on the same console writes it, as the console would, and logs the input mode
// at the prompt, the Ctrl-C event the prompt then sends to every process on the console, and the
// input mode the companion command left when it ended. Under Wine the companion command's exit status after Ctrl-C is 0 (Wine's default
// Ctrl-C handler; Windows exits with STATUS_CONTROL_C_EXIT), so the status is not checked.
test.serial('win32-x64: Ctrl-C at the console prompt restores the input mode, then sends Ctrl-C to every process on the console; no STS call, nothing cached', async (t) => {
  const emu = s.emulator()
  const w = s.world()
  const cli = path.join(s.install().pkg, 'cli.js')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-ctrl-c-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const exe = path.join(dir, 'console-ctrl-c.exe')
  execFileSync('x86_64-w64-mingw32-gcc', ['-O2', '-s', '-o', exe, path.join(__dirname, 'helpers', 'console-ctrl-c.c')])
  const log = path.join(dir, 'keys.log')
  const started = Date.now()
  const r = await emu.runTty(cli, ['credential-process', '--profile', 'deploy'], {
    env: s.envFor(w, {
      CDK_MFA_CODE: undefined,
      // Not reached: were the key ignored, the prompt would give up after this and say so.
      CDK_MFA_RS_PROMPT_TIMEOUT_SECONDS: '40',
      CDK_MFA_RS_TEST_SIDECAR: JSON.stringify([emu.hostPath(exe), emu.hostPath(log)]),
    }),
    cwd: w.cwd,
    prompt: /MFA token for \S+ \(profile [^)]+\):/,
    onExtraPrompt: 'wait',
    waitFor: log,
    timeoutMs: 60000,
  })
  const secs = (Date.now() - started) / 1000
  const out = screen(r.transcript)
  t.false(r.timedOut, out)
  t.is(r.prompts, 1, out)
  t.true(secs < 30, `the run ended ${secs} s after it started: ${out}`)
  t.notRegex(out, /within \d+ s/, 'the prompt did not time out')
  if (!fs.existsSync(log)) t.fail(`the key injector did not finish: ${fs.existsSync(`${log}.part`) ? fs.readFileSync(`${log}.part`, 'utf8') : 'no log'}`)
  const logText = fs.readFileSync(log, 'utf8')
  t.log(logText)
  const steps = Object.fromEntries(
    logText
      .trim()
      .split(/\r?\n/) // a text file written on Windows
      .map((l) => l.split(' ')),
  )
  const ECHO_LINE_PROCESSED = 0x7
  t.is(Number(steps['prompt-mode']) & ECHO_LINE_PROCESSED, 0, 'at the prompt: no echo, no line editing, Ctrl-C as a key')
  t.is(Number(steps['ctrl-c-written']), 2, JSON.stringify(steps))
  t.is(steps['ctrl-event'], '0', `CTRL_C_EVENT reached the other process on the console: ${logText}`)
  t.is(steps['parent-ended'], '0x1', logText)
  t.is(Number(steps['final-mode']) & ECHO_LINE_PROCESSED, ECHO_LINE_PROCESSED, `the companion command left the console input mode restored: ${logText}`)
  t.deepEqual(s.suite.stub.calls, [])
  const cache = path.join(w.home, '.aws', 'cdk-mfa-rs', 'cache')
  t.deepEqual(fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.endsWith('.json')) : [], [])
})

test.serial('win32-x64: without a console (no terminal), CDK_MFA_PROMPT=terminal fails at once with one line, nothing waits', async (t) => {
  const emu = s.emulator()
  const w = s.world()
  const cli = path.join(s.install().pkg, 'cli.js')
  const started = Date.now()
  // emu.run: stdin /dev/null, stdout and stderr files, so Wine gives the program no console.
  const r = await emu.run(cli, ['credential-process', '--profile', 'deploy'], { env: s.envFor(w, { CDK_MFA_CODE: undefined, CDK_MFA_PROMPT: 'terminal' }), cwd: w.cwd })
  const secs = (Date.now() - started) / 1000
  t.is(r.code, 1, r.stderr)
  t.is(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.regex(r.stderr, /^cdk-mfa-rs: profile deploy: an MFA code for arn:aws:iam::999999999999:mfa\/dev-user is needed but there is no terminal to ask on; set CDK_MFA_CODE/)
  t.true(secs < 15, `${secs} s`)
  t.deepEqual(s.suite.stub.calls, [])
})
