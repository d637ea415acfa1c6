/* cdk-mfa-rs: the AWS CDK CLI plugin contract (`@aws-cdk/cli-plugin-contract`), implemented in Rust.
 * Hand-written so that `version` has the literal type '1'; __test__/types.test.js checks it against
 * the contract with the TypeScript compiler and against the typings napi-rs generates from src/lib.rs. */

/** Credentials as the CDK CLI expects them. `expiration` is omitted (never null) for keys that do not expire. */
export interface AwsCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  expiration?: Date
}

/** The one credential provider source this plugin registers, named `cdk-mfa-rs`. */
export declare class CredentialProviderSource {
  readonly name: string
  constructor()
  /** False when disabled by `CDK_MFA_RS_DISABLE` / `IGNORE_CDK_MULTI_PROFILE_PLUGIN` (1/true/yes). */
  isAvailable(): Promise<boolean>
  /** Decided from configuration alone: no STS call. */
  canProvideCredentials(accountId: string): Promise<boolean>
  /** `mode`: 0 = ForReading, 1 = ForWriting. */
  getProvider(accountId: string, mode: 0 | 1, options?: { readonly supportsV3Providers?: boolean }): Promise<AwsCredentials>
}

/** The plugin protocol version the CDK CLI checks. */
export declare const version: '1'

/** Called once by the CDK CLI, synchronously: registers the `cdk-mfa-rs` credential source. */
export declare function init(host: { registerCredentialProviderSource(source: CredentialProviderSource): void }): void

/** The `cdk-mfa-rs` companion command (`cli.js`): runs it with these arguments and resolves to its exit code. */
export declare function runCli(args: string[]): Promise<number>
