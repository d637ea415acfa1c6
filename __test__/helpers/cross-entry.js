'use strict'
// Runs inside an emulated platform's Node (qemu or Wine): applies the test's environment, which
// Wine would otherwise rewrite (it sets USERPROFILE from its own registry and drops HOME), then
// runs the given script as the main program:  node cross-entry.js <script> [args...]
// CDK_MFA_RS_TEST_SIDECAR (JSON [program, ...args]) first starts a helper program on the same
// console (the win32 Ctrl-C test presses keys on it); the script does not wait for it.
for (const [k, v] of Object.entries(JSON.parse(process.env.CDK_MFA_RS_TEST_ENV || '{}'))) process.env[k] = v
delete process.env.CDK_MFA_RS_TEST_ENV
const sidecar = process.env.CDK_MFA_RS_TEST_SIDECAR
delete process.env.CDK_MFA_RS_TEST_SIDECAR
if (sidecar) {
  const [program, ...args] = JSON.parse(sidecar)
  require('node:child_process').spawn(program, args, { stdio: 'inherit' }).unref()
}
const [script, ...args] = process.argv.slice(2)
process.argv = [process.argv[0], script, ...args]
require(script)
