//! Resource addresses and types in words: `module.s3-bucket_x.aws_s3_bucket.this`
//! → "S3 bucket", counted ("2 SQS queues") and listed ("a, b and c").

/// Type names that read badly when the provider is dropped.
const WHOLE: &[(&str, &str)] = &[
    ("terraform_data", "Terraform data resource"),
    ("null_resource", "null resource"),
];

/// Words written upper-case.
const ACRONYMS: &[&str] = &[
    "acm", "alb", "ami", "api", "arn", "cdn", "db", "dlq", "dns", "ebs", "ec2", "ecr", "ecs",
    "efs", "eip", "eks", "elb", "emr", "http", "https", "iam", "id", "iot", "ip", "kms", "lb",
    "mq", "msk", "nat", "nlb", "rds", "s3", "ses", "sg", "sns", "sqs", "ssm", "sso", "ssl", "tls",
    "url", "vpc", "vpn", "waf",
];

/// Product names with their own capitals.
const NAMES: &[(&str, &str)] = &[
    ("apigateway", "API Gateway"),
    ("cloudfront", "CloudFront"),
    ("cloudtrail", "CloudTrail"),
    ("cloudwatch", "CloudWatch"),
    ("dynamodb", "DynamoDB"),
    ("elasticache", "ElastiCache"),
    ("eventbridge", "EventBridge"),
    ("github", "GitHub"),
    ("lambda", "Lambda"),
    ("opensearch", "OpenSearch"),
    ("route53", "Route 53"),
    ("secretsmanager", "Secrets Manager"),
];

/// The type and name of the resource at `address`, past any `module.<name>`
/// steps and instance keys; `None` for a data source or a malformed address.
pub(super) fn resource(address: &str) -> Option<(&str, &str)> {
    let steps = split(address);
    let mut i = 0;
    while steps.get(i).copied() == Some("module") {
        i += 2;
    }
    let ty = *steps.get(i)?;
    let name = *steps.get(i + 1)?;
    (ty != "data").then_some((ty, name))
}

/// `address` split on the dots outside `[...]` and quotes, each step
/// without its instance key.
fn split(address: &str) -> Vec<&str> {
    let mut steps = Vec::new();
    let (mut start, mut depth, mut quoted, mut escaped) = (0, 0u32, false, false);
    for (i, c) in address.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth = depth.saturating_sub(1),
            '.' if !quoted && depth == 0 => {
                steps.push(&address[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    steps.push(&address[start..]);
    steps
        .into_iter()
        .map(|s| s.split_once('[').map_or(s, |(step, _)| step))
        .collect()
}

/// A resource type in words: the provider dropped, acronyms upper-cased
/// (`aws_sqs_queue` → "SQS queue").
pub fn type_words(ty: &str) -> String {
    if let Some((_, words)) = WHOLE.iter().find(|(t, _)| *t == ty) {
        return (*words).to_owned();
    }
    let parts: Vec<&str> = ty.split('_').filter(|p| !p.is_empty()).collect();
    let parts = if parts.len() > 1 {
        &parts[1..]
    } else {
        &parts[..]
    };
    parts.iter().map(|p| word(p)).collect::<Vec<_>>().join(" ")
}

fn word(part: &str) -> String {
    let lower = part.to_ascii_lowercase();
    if ACRONYMS.contains(&lower.as_str()) {
        return lower.to_ascii_uppercase();
    }
    match NAMES.iter().find(|(w, _)| *w == lower) {
        Some((_, name)) => (*name).to_owned(),
        None => lower,
    }
}

/// `words` for `n` things: the last word in the plural unless `n` is 1
/// ("S3 bucket" → "S3 buckets", "IAM role policy" → "IAM role policies").
pub fn plural(words: &str, n: usize) -> String {
    if n == 1 {
        return words.to_owned();
    }
    let (head, last) = match words.rsplit_once(' ') {
        Some((head, last)) => (format!("{head} "), last),
        None => (String::new(), words),
    };
    let consonant_y = last.len() > 1
        && last.ends_with('y')
        && !last[..last.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    let last = if last.ends_with("ing") || last.ends_with("data") {
        last.to_owned()
    } else if consonant_y {
        format!("{}ies", &last[..last.len() - 1])
    } else if ["ss", "us", "as", "x", "ch", "sh", "z"]
        .iter()
        .any(|e| last.ends_with(e))
    {
        format!("{last}es")
    } else if last.ends_with('s') {
        last.to_owned() // already plural ("ownership controls")
    } else {
        format!("{last}s")
    };
    format!("{head}{last}")
}

/// "1 S3 bucket", "3 resources".
pub fn count(n: usize, words: &str) -> String {
    format!("{n} {}", plural(words, n))
}

/// "a", "a and b", "a, b and c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_become_words() {
        let cases = [
            ("aws_s3_bucket", "S3 bucket"),
            ("aws_sqs_queue", "SQS queue"),
            (
                "aws_s3_bucket_public_access_block",
                "S3 bucket public access block",
            ),
            (
                "aws_iam_role_policy_attachment",
                "IAM role policy attachment",
            ),
            ("aws_cloudwatch_log_group", "CloudWatch log group"),
            ("aws_ecs_task_definition", "ECS task definition"),
            ("aws_sns_topic_subscription", "SNS topic subscription"),
            ("aws_db_instance", "DB instance"),
            ("google_storage_bucket", "storage bucket"),
            ("terraform_data", "Terraform data resource"),
            ("random_id", "ID"),
            ("thing", "thing"),
        ];
        for (ty, words) in cases {
            assert_eq!(type_words(ty), words, "{ty}");
        }
    }

    #[test]
    fn plurals_and_lists() {
        let cases = [
            ("S3 bucket", "S3 buckets"),
            ("IAM role policy", "IAM role policies"),
            ("KMS alias", "KMS aliases"),
            (
                "S3 bucket ownership controls",
                "S3 bucket ownership controls",
            ),
            ("S3 bucket versioning", "S3 bucket versioning"),
            ("gateway", "gateways"),
            ("EIP", "EIPs"),
        ];
        for (one, many) in cases {
            assert_eq!(plural(one, 2), many, "{one}");
            assert_eq!(plural(one, 1), one);
        }
        assert_eq!(count(1, "resource"), "1 resource");
        assert_eq!(count(3, "resource"), "3 resources");
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(list(&items(&["a"])), "a");
        assert_eq!(list(&items(&["a", "b"])), "a and b");
        assert_eq!(list(&items(&["a", "b", "c"])), "a, b and c");
    }

    #[test]
    fn addresses_name_their_resource() {
        let cases = [
            ("aws_s3_bucket.this", Some(("aws_s3_bucket", "this"))),
            (
                "module.s3-bucket_x.aws_s3_bucket.this",
                Some(("aws_s3_bucket", "this")),
            ),
            (
                "module.a[\"k.e.y\"].module.b[0].aws_sqs_queue.dlq[\"x.y\"]",
                Some(("aws_sqs_queue", "dlq")),
            ),
            ("module.a.data.aws_iam_policy_document.x", None),
            ("module.a", None),
        ];
        for (address, want) in cases {
            assert_eq!(resource(address), want, "{address}");
        }
    }
}
