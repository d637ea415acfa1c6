'use strict'
// Debian packages the tests need, installed with apt-get when missing: as root directly (CI
// containers, the developers' machines here), otherwise through `sudo -n` (GitHub's runners: a
// non-root user with password-less sudo; `-n` never waits for a password). With neither, the
// error says what to install. A warm run only looks.
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

function isRoot() {
  return !process.getuid || process.getuid() === 0
}

function manualHint(missing) {
  return `install them (sudo apt-get install ${missing.join(' ')})`
}

/**
 * The command lines that install `missing` (apt-get update, then install), each an argv array.
 * Not root: through `sudo -n`, which resets the environment, so the non-interactive frontend is
 * set on the command line (`env`). Throws when there is no way to become root.
 */
function installCommands(missing, { root = isRoot(), sudo = onPath('sudo') } = {}) {
  if (!root && !sudo) throw new Error(`missing Debian packages: ${missing.join(' ')}; ${manualHint(missing)}`)
  const prefix = root ? [] : ['sudo', '-n', 'env', 'DEBIAN_FRONTEND=noninteractive']
  // Other apt users on the machine: wait for the lock instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=600']
  return [
    [...prefix, 'apt-get', ...lock, 'update', '-q'],
    [...prefix, 'apt-get', ...lock, 'install', '-y', '-q', '--no-install-recommends', ...missing],
  ]
}

/** @param {{pkg: string, present: () => boolean}[]} wanted */
function ensureDebianPackages(wanted, log) {
  const missing = [...new Set(wanted.filter((w) => !w.present()).map((w) => w.pkg))]
  if (!missing.length) return
  if (process.platform !== 'linux' || !onPath('apt-get')) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them with your package manager`)
  }
  const cmds = installCommands(missing)
  log(`${cmds[0][0] === 'sudo' ? 'sudo -n ' : ''}apt-get install ${missing.join(' ')} ...`)
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const [cmd, ...args] of cmds) {
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] })
    if (r.error) throw new Error(`${cmd} failed to start: ${r.error.message}`)
    if (r.status !== 0) {
      const why = cmd === 'sudo' ? ' (sudo -n: is a password needed?)' : ''
      throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}${why}; missing Debian packages: ${missing.join(' ')}; ${manualHint(missing)}`)
    }
  }
}

module.exports = { ensureDebianPackages, installCommands, onPath }
