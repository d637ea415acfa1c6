'use strict'
// A program that deploys with the CDK Toolkit Library (@aws-cdk/toolkit-lib) instead of the CDK
// CLI, loading cdk-mfa-rs by name the way the README shows:
//
//   node toolkit-deploy.js <appDir> <outdir> [--bootstrap aws://A/r aws://B/r ...]
//
// Runs in the cwd it is given (where cdkmultiprofileplugin.json is). Prints one JSON line
// {"deployed":[{"stack","account"}...]} on stdout when every stack is deployed; exits 1 with
// the toolkit's error otherwise. `-c moto=true` for sample-app comes from a MemoryContext, so
// nothing is written into the app directory.
const { Toolkit, StackSelectionStrategy, BootstrapEnvironments, MemoryContext } = require('@aws-cdk/toolkit-lib')

async function main() {
  const [appDir, outdir, ...rest] = process.argv.slice(2)
  const toolkit = new Toolkit({ color: false, emojis: false })
  await toolkit.pluginHost.load('cdk-mfa-rs')
  const b = rest.indexOf('--bootstrap')
  if (b >= 0) await toolkit.bootstrap(BootstrapEnvironments.fromList(rest.slice(b + 1)), {})
  const cx = await toolkit.fromCdkApp(`${JSON.stringify(process.execPath)} app.js`, {
    workingDirectory: appDir,
    outdir,
    contextStore: new MemoryContext({ moto: 'true' }),
  })
  const result = await toolkit.deploy(cx, {
    stacks: { strategy: StackSelectionStrategy.ALL_STACKS },
    deploymentMethod: { method: 'direct' },
  })
  const deployed = result.stacks.map((s) => ({ stack: s.stackName, account: s.environment.account }))
  process.stdout.write(JSON.stringify({ deployed }) + '\n')
}

main().catch((e) => {
  process.stderr.write(`toolkit-deploy: ${e.message}\n`)
  process.exit(1)
})
