#!/usr/bin/env node
'use strict'
// Sample CDK app for cdk-mfa-rs: one service stack per stage, each in its own AWS account,
// plus the `required-resources` stack (the cross-account roles cdk-mfa-rs's assumeRole
// convention uses) in every target account.
//
// Accounts and region, each from (first wins):
//   context on the command line or in cdk.json   -c devAccount=… -c prodAccount=…
//                                                 -c sharedServicesAccount=… -c region=…
//   environment                                  DEV_ACCOUNT, PROD_ACCOUNT,
//                                                 SHARED_SERVICES_ACCOUNT, SAMPLE_REGION
//   built-in defaults (the demo's made-up accounts) 111111111111, 222222222222, 123456789012,
//                                                 us-east-1
// `-c moto=true` adapts the app to moto (the local AWS emulator `npm run demo` uses): no
// bootstrap-version rule (moto's CloudFormation has no SSM-parameter rules) and no
// AWS::CDK::Metadata resource. Leave it off for real accounts.
const cdk = require('aws-cdk-lib')
const { RequiredResourcesStack } = require('./lib/required-resources')
const { ServiceStack } = require('./lib/service-stack')

const app = new cdk.App()
const moto = ['true', '1', 'yes'].includes(String(app.node.tryGetContext('moto') ?? '').toLowerCase())

function setting(contextKey, envVar, fallback) {
  const v = app.node.tryGetContext(contextKey) ?? process.env[envVar] ?? fallback
  return String(v).trim()
}
function account(contextKey, envVar, fallback) {
  const v = setting(contextKey, envVar, fallback)
  if (!/^\d{12}$/.test(v)) throw new Error(`${contextKey} (${envVar}) must be a 12-digit AWS account id, got '${v}'`)
  return v
}

const region = setting('region', 'SAMPLE_REGION', 'us-east-1')
const sharedServicesAccount = account('sharedServicesAccount', 'SHARED_SERVICES_ACCOUNT', '123456789012')
const stages = [
  { name: 'dev', account: account('devAccount', 'DEV_ACCOUNT', '111111111111') },
  { name: 'prod', account: account('prodAccount', 'PROD_ACCOUNT', '222222222222') },
]

const stackProps = (acct) => ({
  env: { account: acct, region },
  ...(moto
    ? {
        synthesizer: new cdk.DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
        analyticsReporting: false,
      }
    : {}),
})

for (const stage of stages) {
  // Same CloudFormation stack name in every account; unique construct id in the app.
  const required = new RequiredResourcesStack(app, `required-resources-${stage.name}`, {
    ...stackProps(stage.account),
    stackName: 'required-resources',
    description: `cdk-mfa-rs sample: cdk-readOnlyRole and cdk-writeRole, assumable from ${sharedServicesAccount} with MFA`,
    sharedServicesAccount,
  })
  const service = new ServiceStack(app, stage.name, {
    ...stackProps(stage.account),
    description: `cdk-mfa-rs sample: the ${stage.name} service`,
    stage: stage.name,
  })
  service.addStackDependency(required)
}

app.synth()
