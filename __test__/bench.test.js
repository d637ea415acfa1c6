'use strict'
// The benchmark is a script (`npm run bench`), not a timed test: here it only has to keep running,
// on a tiny size, and report the counts that do not depend on machine speed.
const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

test('npm run bench still runs (tiny size) and reports its figures', (t) => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-mfa-rs-bench-')), 'BENCHMARKS.md')
  execFileSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'bench.js'), '--tiny', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 240000 })
  const md = fs.readFileSync(out, 'utf8')
  t.regex(md, /\| Load: `require` ÷ `node -e 0` \(wall, median\) \| [\d.]+ ms ÷ [\d.]+ ms = \*\*[\d.]+×\*\*/)
  t.regex(md, /\*\*0 STS calls\*\* in 3 runs/)
  t.regex(md, /\*\*1 code used\*\* \(GetSessionToken\), \*\*4 STS calls\*\* \(3 AssumeRole\)/)
  t.regex(md, /Packed install size.*\*\*[\d.]+ MB\*\* tarball/)
  fs.rmSync(path.dirname(out), { recursive: true, force: true })
})
