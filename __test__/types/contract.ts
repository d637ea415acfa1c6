// Compiled by __test__/types.test.js (tsc --noEmit --strict): the package's typings must satisfy
// the CDK CLI plugin contract.
import type { CredentialProviderSource as ContractSource, IPluginHost, Plugin, SDKv3CompatibleCredentials } from '@aws-cdk/cli-plugin-contract'
import * as cdkMfaRs from '../../index'

// The module itself is a Plugin (version '1', init(host)).
export const asPlugin: Plugin = cdkMfaRs

// The registered source is a CredentialProviderSource.
export function register(host: IPluginHost): void {
  const source: ContractSource = new cdkMfaRs.CredentialProviderSource()
  host.registerCredentialProviderSource(source)
  cdkMfaRs.init(host)
}

// getProvider resolves to SDK v3 compatible credentials.
export async function credentials(source: cdkMfaRs.CredentialProviderSource): Promise<SDKv3CompatibleCredentials> {
  return source.getProvider('111111111111', 1, { supportsV3Providers: true })
}
