'use strict'
// Issue "a prompt where there is no terminal": without a terminal but on a desktop, the MFA code
// is asked in a dialog (zenity here, on a private Xvfb display). A person is played by xdotool:
// it finds the dialog by its title, types the code and presses Enter (or Escape to cancel).
// Every run here is without a controlling terminal (setsid) with stdin /dev/null, as an IDE task.
// Linux only (the macOS and Windows dialogs are covered by the Rust unit tests of their
// command lines); scripts/setup.js installs xvfb, zenity, xdotool and imagemagick.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { motoSuite, mfaApp, runCdk, listStacks } = require('./helpers/cdk')
const { resolveInChild } = require('./helpers/child')
const { cli } = require('./helpers/cli')
const { startDesktop, missingPrograms } = require('./helpers/desktop')

const PLUGIN = path.resolve(__dirname, '..')
const ARTIFACTS = path.join(PLUGIN, 'target', 'test-artifacts')
const ACCOUNTS = ['111111111111', '222222222222', '333333333333']
const SERIAL = 'arn:aws:iam::999999999999:mfa/dev-user'
const BASE_SECRET = 'long-term-secret-canary-dialog'
const ALL = ACCOUNTS.flatMap((a) => [[a, 0], [a, 1]])

if (process.platform !== 'linux') {
  // Reported as skipped, not passed: these tests need Xvfb, which only the Linux run has.
  test.skip('desktop dialog tests run on Linux only (Xvfb)', () => {})
} else {
  const missing = missingPrograms()
  if (missing.length) {
    test('desktop dialog: Xvfb, xdotool and ImageMagick are installed by npm run setup', (t) => {
      t.fail(`missing ${missing.join(', ')}: run \`npm run setup\` (apt-get install xvfb zenity xdotool imagemagick)`)
    })
  } else {
    dialogTests()
  }
}

function dialogTests() {
  const suite = motoSuite(test, { stub: true })
  let desk

  test.before(async () => {
    desk = await startDesktop()
  })
  test.after.always(async () => {
    if (desk) await desk.stop()
  })
  test.beforeEach(() => {
    suite.stub.resetFaults()
    suite.stub.clearCalls()
    suite.stub.usedCodes.clear()
  })

  function setup(stackPrefix, { plugin = {} } = {}) {
    const home = suite.home('cdk-mfa-dialog-')
    return mfaApp(home, {
      accounts: ACCOUNTS,
      serial: SERIAL,
      stackPrefix,
      baseKeyId: 'AKIADIALOGBASEKEY001',
      baseSecret: BASE_SECRET,
      stsUrl: suite.stub.url,
      plugin,
    })
  }

  const gstCalls = () => suite.stub.calls.filter((c) => c.action === 'GetSessionToken')
  const cached = (s) => (fs.existsSync(s.cacheDir) ? fs.readdirSync(s.cacheDir).filter((f) => f.endsWith('.json')) : [])

  function cdk(s, args, env = {}) {
    return runCdk(args, {
      cwd: s.appDir,
      home: s.home,
      motoUrl: suite.moto.url,
      env: { ...s.env, ...env },
      noTerminal: true,
      timeoutMs: 240000,
    })
  }

  const deploy = (s, env) => cdk(s, ['deploy', '--all', '--require-approval', 'never', '--method=direct', '--concurrency', '3'], { ...desk.env, ...env })

  /** The fake CDK host (resolve-child.js) in a fresh process without a terminal, on the desktop. */
  function child(s, requests, env = {}, spec = {}) {
    const childEnv = { PATH: process.env.PATH, HOME: s.home.home, AWS_EC2_METADATA_DISABLED: 'true', ...s.env, ...desk.env, ...env }
    for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k]
    return resolveInChild({ requests, concurrent: true, ...spec }, { env: childEnv, cwd: s.appDir, timeoutMs: 60000 })
  }

  /** Bootstrap the 3 accounts once per file (moto keeps them), with CDK_MFA_CODE: no dialog. */
  let bootstrapped = null
  function bootstrap() {
    bootstrapped ??= (async () => {
      const s = setup('Boot')
      const boot = await cdk(s, ['bootstrap', ...ACCOUNTS.map((a) => `aws://${a}/us-east-1`)], { CDK_MFA_CODE: '123456' })
      if (boot.code !== 0) throw new Error(`cdk bootstrap failed: ${boot.stderr}`)
      suite.stub.clearCalls()
      suite.stub.usedCodes.clear()
    })()
    return bootstrapped
  }

  test.serial('(a) cdk deploy of 3 MFA accounts from an IDE (no terminal): 1 dialog, 1 GetSessionToken; next deploy: 0 dialogs', async (t) => {
    await bootstrap()
    const s = setup('DialogApp')

    const person = desk.answer(['654321'], { screenshot: path.join(ARTIFACTS, 'mfa-dialog.png') })
    const first = await deploy(s)
    const seen = await person.stop()
    t.is(first.code, 0, first.stderr)
    t.is(seen.dialogs, 1, first.stderr)
    t.is(gstCalls().length, 1)
    t.is(gstCalls()[0].tokenCode, '654321')
    for (const st of s.stacks) {
      const names = (await listStacks(suite.moto.url, st.account)).map((x) => `${x.name}:${x.status}`)
      t.true(names.includes(`${st.name}:CREATE_COMPLETE`), `${st.account}: ${names}`)
    }
    // The dialog program's command line: the title, the device and who waits; nothing secret.
    const argv = seen.argv[0]
    t.truthy(argv, 'argv of the dialog process')
    t.is(path.basename(argv[0]), 'zenity')
    t.true(argv.includes('--hide-text'), 'input is masked')
    t.true(argv.includes('cdk-mfa-rs: MFA code'))
    const text = argv[argv.indexOf('--text') + 1]
    t.true(text.includes(SERIAL), text)
    // The CLI's three requests arrive milliseconds apart: the dialog waits for them and names all.
    t.true(text.includes(`\nfor:\n${ACCOUNTS.map((a, i) => `  account ${a} (profile mfa${i})`).join('\n')}\n`), text)
    t.false(argv.join(' ').includes('654321'))
    t.false(argv.join(' ').includes(BASE_SECRET))
    t.false(first.stdout.includes('654321') || first.stderr.includes('654321'), 'the code is never logged')
    t.false(first.stderr.includes(BASE_SECRET))
    t.is(seen.screenshots.length, 1, 'screenshot taken')
    t.true(fs.statSync(seen.screenshots[0]).size > 1000)
    t.log(`dialog text:\n${text}`)
    t.log(`screenshot: ${seen.screenshots[0]}`)

    suite.stub.clearCalls()
    const nobody = desk.answer([])
    const second = await deploy(s)
    const seen2 = await nobody.stop()
    t.is(second.code, 0, second.stderr)
    t.is(seen2.dialogs, 0)
    t.is(gstCalls().length, 0)
  })

  test.serial('(a2) requests arriving 60 ms apart: one dialog, naming all three accounts', async (t) => {
    const s = setup('GatherApp')
    const person = desk.answer(['616161'])
    const r = await child(s, ACCOUNTS.map((a) => [a, 1]), {}, { staggerMs: 60 })
    const seen = await person.stop()
    for (const x of r.results) t.falsy(x.error, `${x.account}: ${x.error}`)
    t.is(seen.dialogs, 1, r.stderr)
    const text = seen.argv[0][seen.argv[0].indexOf('--text') + 1]
    t.true(text.includes(`\nfor:\n${ACCOUNTS.map((a, i) => `  account ${a} (profile mfa${i})`).join('\n')}\n`), text)
    t.is(gstCalls().length, 1)
  })

  test.serial('(b) a wrong code, then the right one: 2 dialogs, the second says why', async (t) => {
    const s = setup('WrongApp')
    const shot = path.join(ARTIFACTS, 'mfa-dialog-retry.png')
    const person = desk.answer(['000000', '424242'], { screenshot: shot, screenshotOf: 2 })
    const r = await child(s, ALL)
    const seen = await person.stop()
    t.is(r.code, 0, r.stderr)
    for (const x of r.results) t.falsy(x.error, `${x.account}/${x.mode}: ${x.error}`)
    t.is(seen.dialogs, 2, r.stderr)
    t.deepEqual(gstCalls().map((c) => c.tokenCode), ['000000', '424242'])
    const second = seen.argv[1][seen.argv[1].indexOf('--text') + 1]
    t.regex(second.replace(/\n/g, ' '), /^STS rejected that code for .* \(wrong, or already used\); enter the next code \(2 of 3 attempts left\)/)
    t.false(seen.argv.flat().join(' ').includes('424242'))
    t.deepEqual(seen.screenshots, [shot])
  })

  test.serial('(b2) a code that is not 6 digits is refused in the dialog without an STS call', async (t) => {
    const s = setup('ShortApp')
    const person = desk.answer(['12ab', '575757'])
    const r = await child(s, [[ACCOUNTS[0], 0]])
    const seen = await person.stop()
    t.falsy(r.results[0].error)
    t.is(seen.dialogs, 2)
    t.deepEqual(gstCalls().map((c) => c.tokenCode), ['575757'])
    t.regex(seen.argv[1][seen.argv[1].indexOf('--text') + 1], /^an MFA code is 6 digits; try again \(2 of 3 attempts left\)\./)
  })

  test.serial('(b3) three answers that are not codes (one an OK on an empty box): 3 dialogs, then one error, nothing cached', async (t) => {
    const s = setup('JunkApp')
    // A 4th dialog would be cancelled by the person (no answers left) and counted.
    const person = desk.answer(['12ab', '', 'x1234567'])
    const r = await child(s, ALL)
    const seen = await person.stop()
    t.is(seen.dialogs, 3, r.stderr)
    t.is(r.results.length, ALL.length)
    for (const x of r.results) {
      t.regex(x.error, new RegExp(`no valid MFA code for ${SERIAL.replace(/[/]/g, '\\/')} after 3 attempts \\(the last was not 6 digits\\); nothing was cached`))
    }
    t.regex(seen.argv[2][seen.argv[2].indexOf('--text') + 1], /^an MFA code is 6 digits; try again \(1 of 3 attempts left\)\./)
    t.is(suite.stub.calls.length, 0)
    t.deepEqual(cached(s), [])
  })

  test.serial('(c) Cancel: cdk stops with one clear error, no second dialog, nothing cached', async (t) => {
    await bootstrap()
    const s = setup('CancelApp')
    const person = desk.answer(['cancel'])
    const r = await deploy(s)
    const seen = await person.stop()
    t.not(r.code, 0)
    t.is(seen.dialogs, 1, r.stderr)
    t.regex(r.stderr, new RegExp(`cdk-mfa-rs: .*MFA prompt for ${SERIAL.replace(/[/]/g, '\\/')} cancelled; nothing was cached`))
    t.deepEqual(cached(s), [])
    t.is(gstCalls().length, 0)
    t.log(r.stderr.split('\n').filter((l) => /cancelled/.test(l)).slice(0, 3).join('\n'))
  })

  test.serial('(d) no desktop and no terminal: the fast failure of today, saying what to install or set', async (t) => {
    const s = setup('NoDesktopApp')
    const person = desk.answer([])
    const r = await child(s, ALL, { DISPLAY: undefined })
    // A desktop that is set but cannot be reached is an error too, not a Cancel and not a hang.
    const gone = await child(s, [[ACCOUNTS[0], 0]], { DISPLAY: ':59999' })
    const seen = await person.stop()
    t.is(seen.dialogs, 0)
    t.true(r.ms < 2000 + 1500, `took ${r.ms} ms (process start included)`)
    for (const x of r.results) {
      t.true(x.ms < 2000, `${x.ms} ms`)
      t.regex(x.error, new RegExp(`MFA code for ${SERIAL.replace(/[/]/g, '\\/')} is needed but there is no terminal to ask on`))
      t.regex(x.error, /CDK_MFA_CODE/)
      t.regex(x.error, /mfa_process/)
      t.regex(x.error, /DISPLAY or WAYLAND_DISPLAY/)
      t.regex(x.error, /zenity or kdialog/)
    }
    t.regex(gone.results[0].error, /cannot ask for the MFA code for .*: zenity failed .*cannot open display/)
    t.true(gone.results[0].ms < 5000, `${gone.results[0].ms} ms`)
    t.is(suite.stub.calls.length, 0)
    t.deepEqual(cached(s), [])
  })

  test.serial('CDK_MFA_PROMPT=none and mfaPrompt "terminal" never show a dialog', async (t) => {
    const s = setup('OffApp')
    const person = desk.answer([])
    const off = await child(s, [[ACCOUNTS[0], 0]], { CDK_MFA_PROMPT: 'none' })
    const s2 = setup('TermApp', { plugin: { mfaPrompt: 'terminal' } })
    const term = await child(s2, [[ACCOUNTS[0], 0]])
    const seen = await person.stop()
    t.is(seen.dialogs, 0)
    t.regex(off.results[0].error, /prompting is off \(CDK_MFA_PROMPT or mfaPrompt is "none"\); set CDK_MFA_CODE/)
    t.regex(term.results[0].error, /is needed but there is no terminal to ask on; set CDK_MFA_CODE/)
    t.notRegex(term.results[0].error, /dialog/)
    t.is(suite.stub.calls.length, 0)
  })

  test.serial('doctor says where a code would be asked: in a dialog, or what a dialog needs', async (t) => {
    const s = setup('DoctorApp')
    const env = (extra) => {
      const e = { PATH: process.env.PATH, HOME: s.home.home, AWS_EC2_METADATA_DISABLED: 'true', ...s.env, ...extra }
      for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k]
      return e
    }
    const device = `MFA device ${SERIAL} \\(profile mfa0, mfa1, mfa2\\)`
    const onDesk = await cli(['doctor'], { env: env(desk.env), cwd: s.appDir })
    t.regex(onDesk.stdout, new RegExp(`OK {4}${device}: code asked in a dialog \\(\\S*zenity\\)`))
    const noDesk = await cli(['doctor'], { env: env({}), cwd: s.appDir })
    t.regex(noDesk.stdout, new RegExp(`WARN  ${device}: no terminal here, no CDK_MFA_CODE and no mfa_process\\n {6}fix: set CDK_MFA_CODE.*; for a dialog, run it in a desktop session \\(DISPLAY or WAYLAND_DISPLAY set\\) with zenity or kdialog installed`))
    const off = await cli(['doctor'], { env: env({ ...desk.env, CDK_MFA_PROMPT: 'none' }), cwd: s.appDir })
    t.regex(off.stdout, new RegExp(`WARN  ${device}: prompting is off \\(CDK_MFA_PROMPT or mfaPrompt is "none"\\), no CDK_MFA_CODE`))
    t.is(suite.stub.calls.length, 0)
  })

  test.serial('the dialog closes itself at the time limit (its process group killed), nothing cached', async (t) => {
    const s = setup('SlowApp')
    const person = desk.answer(['leave'])
    const r = await child(s, ALL, { CDK_MFA_RS_PROMPT_TIMEOUT_SECONDS: '3' })
    const openAfter = await person.isOpen()
    const seen = await person.stop()
    t.is(seen.dialogs, 1)
    t.false(openAfter, 'the dialog is gone')
    for (const x of r.results) t.regex(x.error, /no MFA code for .* was typed within 3 s/)
    t.true(r.ms < 10000, `${r.ms} ms`)
    t.deepEqual(cached(s), [])
  })

  test.serial('two cdk processes started together without a terminal: 1 dialog in total', async (t) => {
    await bootstrap()
    const s = setup('TwinDialogApp')
    const person = desk.answer(['333333'])
    // Template diffs: two change-set diffs of one stack at once race on one change set name in
    // moto; the credentials are asked for alike.
    const diff = (out) => cdk(s, ['diff', '--method=template', '--output', out], desk.env)
    const [a, b] = await Promise.all([diff('cdk.out.a'), diff('cdk.out.b')])
    const seen = await person.stop()
    t.is(a.code, 0, a.stderr)
    t.is(b.code, 0, b.stderr)
    t.is(seen.dialogs, 1, `${a.stderr}\n----\n${b.stderr}`)
    t.is(gstCalls().length, 1)
  })
}
