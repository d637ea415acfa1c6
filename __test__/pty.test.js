'use strict'
// Tests of the pty helper: a program that reads MFA codes from /dev/tty (its stdin is
// /dev/null) gets the configured answers, in order, one per prompt.
const test = require('ava')
const { runInPty } = require('./helpers/pty')

// Reads codes from the controlling terminal only; prints what it got; exits with the
// number of codes received + 10. stdin is /dev/null, so the answers can only arrive via /dev/tty.
const TTY_PROGRAM = `
exec </dev/null
n=0
while [ "$n" -lt "\${WANT:-2}" ]; do
  printf 'MFA token for arn:aws:iam::123456789012:mfa/alice (profile dev): ' >/dev/tty
  IFS= read -r code </dev/tty || { echo "EOF on tty"; exit 99; }
  n=$((n+1))
  echo "got[$n]=$code stdin-is-tty=$([ -t 0 ] && echo yes || echo no)"
done
echo "cwd=$PWD marker=$MARKER"
exit $((10 + n))
`

test('answers prompts in order via the controlling terminal, with env and cwd', async (t) => {
  const r = await runInPty('bash', ['-c', TTY_PROGRAM], {
    env: { PATH: process.env.PATH, MARKER: 'xyz', WANT: '2' },
    cwd: '/tmp',
    answers: ['000000', '123456'],
    timeoutMs: 20000,
  })
  t.is(r.error, null)
  t.false(r.timedOut)
  t.is(r.exitCode, 12)
  t.is(r.prompts, 2)
  t.is(r.answered, 2)
  t.deepEqual(r.promptTexts, Array(2).fill('MFA token for arn:aws:iam::123456789012:mfa/alice (profile dev): '))
  t.regex(r.transcript, /got\[1\]=000000 stdin-is-tty=no/)
  t.regex(r.transcript, /got\[2\]=123456 stdin-is-tty=no/)
  t.regex(r.transcript, /cwd=\/tmp marker=xyz/)
  t.true(r.transcript.indexOf('got[1]=000000') < r.transcript.indexOf('got[2]=123456'))
})

test('a prompt beyond the configured answers gets EOF; custom prompt regex; exit codes pass through', async (t) => {
  const r = await runInPty('bash', ['-c', TTY_PROGRAM], {
    env: { PATH: process.env.PATH, WANT: '3' },
    answers: ['111111'],
    timeoutMs: 20000,
  })
  t.is(r.prompts, 2)
  t.is(r.answered, 1)
  t.is(r.exitCode, 99)
  t.regex(r.transcript, /EOF on tty/)

  const custom = await runInPty('bash', ['-c', 'printf "Code? " >/dev/tty; read -r c </dev/tty; echo "c=$c"; exit 0'], {
    env: { PATH: process.env.PATH },
    prompt: /code\? $/i,
    answers: ['424242'],
    timeoutMs: 20000,
  })
  t.is(custom.exitCode, 0)
  t.is(custom.prompts, 1)
  t.regex(custom.transcript, /c=424242/)
})

test('overall timeout kills a program that never finishes', async (t) => {
  const t0 = Date.now()
  const r = await runInPty('bash', ['-c', 'echo started; sleep 30'], { env: { PATH: process.env.PATH }, timeoutMs: 1500 })
  t.true(r.timedOut)
  t.is(r.exitCode, null)
  t.truthy(r.signal)
  t.regex(r.transcript, /started/)
  t.true(Date.now() - t0 < 10000)
})

test('a missing program is reported, not hung on', async (t) => {
  const r = await runInPty('definitely-not-a-program-xyz', [], { env: { PATH: '/usr/bin:/bin' }, timeoutMs: 5000 })
  t.regex(r.error, /not found|No such file|ExceptionPexpect/i)
})
