'use strict'
// Debian packages the tests need, installed with apt-get when missing (as root, as on CI and
// the developers' machines here; otherwise the error says what to install). A warm run only looks.
//
//   ensureDebianPackages([{ pkg: 'xdotool', present: () => onPath('xdotool') }], log)

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

function onPath(cmd) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] })
  if (r.error) throw new Error(`${cmd} failed to start: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`)
}

/** @param {{pkg: string, present: () => boolean}[]} wanted */
function ensureDebianPackages(wanted, log) {
  const missing = wanted.filter((w) => !w.present()).map((w) => w.pkg)
  if (!missing.length) return
  if (process.platform !== 'linux' || !onPath('apt-get')) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them with your package manager`)
  }
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them (sudo apt-get install ${missing.join(' ')})`)
  }
  log(`apt-get install ${missing.join(' ')} ...`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  // Other apt users on the machine: wait for the lock instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=600']
  run('apt-get', [...lock, 'update', '-q'], env)
  run('apt-get', [...lock, 'install', '-y', '-q', '--no-install-recommends', ...missing], env)
}

module.exports = { ensureDebianPackages, onPath }
