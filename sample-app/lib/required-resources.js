'use strict'
// The roles cdk-mfa-rs's assumeRole convention assumes in each target account (default names
// cdk-readOnlyRole / cdk-writeRole, see the plugin's `assumeRole` configuration). Both trust
// the shared-services account (where people's IAM users and MFA devices live) only with MFA.
const cdk = require('aws-cdk-lib')
const iam = require('aws-cdk-lib/aws-iam')

class RequiredResourcesStack extends cdk.Stack {
  /**
   * @param {import('constructs').Construct} scope
   * @param {string} id
   * @param {cdk.StackProps & {sharedServicesAccount: string, readRoleName?: string, writeRoleName?: string}} props
   */
  constructor(scope, id, props) {
    super(scope, id, props)
    const { sharedServicesAccount } = props
    const mfaOnly = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }
    const trusted = () => new iam.AccountPrincipal(sharedServicesAccount).withConditions(mfaOnly)

    const readOnly = new iam.Role(this, 'ReadOnlyRole', {
      roleName: props.readRoleName ?? 'cdk-readOnlyRole',
      description: 'cdk diff / synth lookups (cdk-mfa-rs ForReading)',
      assumedBy: trusted(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')],
    })
    // ReadOnlyAccess does not include sts:AssumeRole; the CDK CLI reads through the
    // bootstrap lookup role (cdk-<qualifier>-lookup-role-<account>-<region>).
    readOnly.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [`arn:${this.partition}:iam::${this.account}:role/cdk-*-lookup-role-*`],
      }),
    )

    // Deploying (and bootstrapping) needs broad rights; narrow this to your needs, e.g. to
    // sts:AssumeRole on the bootstrap roles (cdk-*-deploy-role-*, cdk-*-file-publishing-role-*, …)
    // once the account is bootstrapped.
    const write = new iam.Role(this, 'WriteRole', {
      roleName: props.writeRoleName ?? 'cdk-writeRole',
      description: 'cdk deploy / bootstrap (cdk-mfa-rs ForWriting)',
      assumedBy: trusted(),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AdministratorAccess')],
    })

    new cdk.CfnOutput(this, 'ReadOnlyRoleArn', { value: readOnly.roleArn })
    new cdk.CfnOutput(this, 'WriteRoleArn', { value: write.roleArn })
  }
}

module.exports = { RequiredResourcesStack }
