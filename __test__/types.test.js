'use strict'
// index.d.ts against the CDK plugin contract (TypeScript compiler) and against the typings
// napi-rs generates from src/lib.rs (no export may be missing from the hand-written file).
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc')

function tsc(file) {
  try {
    execFileSync(TSC, ['--noEmit', '--strict', '--target', 'es2022', '--module', 'commonjs', file], {
      cwd: ROOT,
      encoding: 'utf8',
    })
    return ''
  } catch (e) {
    return (e.stdout || '') + (e.stderr || '') || e.message
  }
}

test('index.d.ts satisfies @aws-cdk/cli-plugin-contract: Plugin and CredentialProviderSource', (t) => {
  t.is(tsc(path.join(__dirname, 'types', 'contract.ts')), '')
})

test('the type check can fail: a wrong version literal is rejected', (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'cdk-mfa-rs-types-'))
  const bad = path.join(dir, 'bad.ts')
  fs.writeFileSync(
    bad,
    `import type { Plugin } from ${JSON.stringify(path.join(ROOT, 'node_modules', '@aws-cdk', 'cli-plugin-contract'))}\n` +
      `declare const m: { version: string; init(host: unknown): void }\nexport const p: Plugin = m\n`,
  )
  t.regex(tsc(bad), /Type 'string' is not assignable to type '"1"'/)
  fs.rmSync(dir, { recursive: true, force: true })
})

test('every export napi-rs generates from src/lib.rs is declared in index.d.ts', (t) => {
  const generated = fs.readFileSync(path.join(ROOT, 'target', 'napi.d.ts'), 'utf8')
  const handWritten = fs.readFileSync(path.join(ROOT, 'index.d.ts'), 'utf8')
  const names = (text) => [...text.matchAll(/export (?:declare )?(?:const|function|class|interface) (\w+)/g)].map((m) => m[1]).filter((n) => !n.startsWith('__'))
  const missing = names(generated).filter((n) => !names(handWritten).includes(n))
  t.deepEqual(missing, [])
  t.true(names(generated).includes('init'))
  // And the runtime module exports exactly what is declared.
  const mod = require(ROOT)
  for (const n of ['version', 'init', 'CredentialProviderSource']) t.not(mod[n], undefined, n)
})
