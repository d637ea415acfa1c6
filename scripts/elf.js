'use strict'
// The glibc floor of a shared object: the highest GLIBC_x.y[.z] version among the symbols in its
// dynamic symbol table (what the dynamic loader checks at load time), read with binutils' readelf.

const { execFileSync } = require('node:child_process')

function glibcVersions(file) {
  const out = execFileSync('readelf', ['-W', '--dyn-syms', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const versions = new Set()
  for (const m of out.matchAll(/@{1,2}GLIBC_(\d+\.\d+(?:\.\d+)?)/g)) versions.add(m[1])
  return [...versions]
}

function compare(a, b) {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0)
    if (d) return d
  }
  return 0
}

/** Highest GLIBC symbol version, or null when the file needs no versioned glibc symbol. */
function glibcFloor(file) {
  const v = glibcVersions(file).sort(compare)
  return v.length ? v[v.length - 1] : null
}

module.exports = { glibcFloor, glibcVersions, compare }
