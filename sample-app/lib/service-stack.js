'use strict'
// A stand-in for a real service: a queue and a parameter naming the stage and the account.
const cdk = require('aws-cdk-lib')
const sqs = require('aws-cdk-lib/aws-sqs')
const ssm = require('aws-cdk-lib/aws-ssm')

class ServiceStack extends cdk.Stack {
  /**
   * @param {import('constructs').Construct} scope
   * @param {string} id
   * @param {cdk.StackProps & {stage: string}} props
   */
  constructor(scope, id, props) {
    super(scope, id, props)
    const queue = new sqs.Queue(this, 'Jobs', { retentionPeriod: cdk.Duration.days(4) })
    new ssm.StringParameter(this, 'Deployed', {
      parameterName: `/cdk-mfa-rs-sample/${props.stage}/account`,
      stringValue: this.account,
    })
    new cdk.CfnOutput(this, 'QueueUrl', { value: queue.queueUrl })
  }
}

module.exports = { ServiceStack }
