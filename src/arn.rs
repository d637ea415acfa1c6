//! Partitions and role ARNs for the conventional cross-account role.

/// The partition a region belongs to. Longer prefixes first: `us-isob-` before `us-iso-`.
pub fn partition_for_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES.iter().find(|(prefix, _)| region.starts_with(prefix)).map_or("aws", |(_, partition)| partition)
}

/// `arn:<partition>:iam::<account>:role/<name>` for a role name that may carry a path
/// (`team/cdk-writeRole`) and `{ACCOUNT_ID}` placeholders; a full role ARN is used as is.
pub fn role_arn(name: &str, account: &str, region: &str) -> String {
    let name = name.replace("{ACCOUNT_ID}", account);
    if name.starts_with("arn:") {
        return name;
    }
    let name = name.trim_start_matches('/');
    let name = name.strip_prefix("role/").unwrap_or(name);
    format!("arn:{}:iam::{account}:role/{name}", partition_for_region(region))
}

/// The account of an IAM ARN (`arn:aws:iam::123456789012:...`), if it has one.
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_partition() {
        let cases = [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("ap-southeast-2", "aws"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ];
        for (region, partition) in cases {
            assert_eq!(partition_for_region(region), partition, "{region}");
            assert_eq!(
                role_arn("cdk-writeRole", "111111111111", region),
                format!("arn:{partition}:iam::111111111111:role/cdk-writeRole")
            );
        }
    }

    #[test]
    fn paths_placeholders_and_full_arns() {
        assert_eq!(
            role_arn("deploy/cdk/cdk-readOnlyRole", "222222222222", "us-east-1"),
            "arn:aws:iam::222222222222:role/deploy/cdk/cdk-readOnlyRole"
        );
        assert_eq!(role_arn("/deploy/x", "222222222222", "us-east-1"), "arn:aws:iam::222222222222:role/deploy/x");
        assert_eq!(
            role_arn("cdk-{ACCOUNT_ID}-write-{ACCOUNT_ID}", "333333333333", "cn-north-1"),
            "arn:aws-cn:iam::333333333333:role/cdk-333333333333-write-333333333333"
        );
        assert_eq!(
            role_arn("arn:aws:iam::444444444444:role/fixed", "333333333333", "eu-west-1"),
            "arn:aws:iam::444444444444:role/fixed"
        );
        assert_eq!(
            role_arn("arn:aws-us-gov:iam::{ACCOUNT_ID}:role/x", "555555555555", "us-east-1"),
            "arn:aws-us-gov:iam::555555555555:role/x"
        );
    }

    #[test]
    fn account_of_arn() {
        assert_eq!(account_of("arn:aws:iam::123456789012:mfa/me"), Some("123456789012"));
        assert_eq!(account_of("arn:aws:iam:::role/x"), None);
        assert_eq!(account_of("nope"), None);
    }
}
