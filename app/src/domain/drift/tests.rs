//! Table tests: which request owns each drifted resource.

use super::*;

const A: &str = "0000000001aaaaaa";
const B: &str = "0000000002bbbbbb";

fn change(address: &str, action: &str) -> DriftChange {
    DriftChange {
        address: address.into(),
        action: action.into(),
        attributes: vec![],
    }
}

#[test]
fn each_change_goes_to_the_request_owning_its_block() {
    let cases: &[(&str, Option<&str>)] = &[
        (
            "module.s3-bucket_0000000001aaaaaa.terraform_data.this",
            Some(A),
        ),
        (
            "module.sqs-queue_0000000002bbbbbb.aws_sqs_queue.this[0]",
            Some(B),
        ),
        (
            "module.s3-bucket_0000000001aaaaaa.module.inner.aws_s3_bucket.this",
            Some(A),
        ),
        ("module.s3-bucket_0000000001aaaaaa[0].x.y", Some(A)),
        ("aws_s3_bucket.handmade", None),
        ("module.vpc.aws_vpc.main", None),
        ("module.s3-bucket_notanid.terraform_data.this", None),
    ];
    for (address, owner) in cases {
        let got = ownership(&[change(address, "update")]);
        match owner {
            Some(id) => {
                let id = RequestId::parse(id).unwrap();
                assert_eq!(
                    got.by_request.keys().collect::<Vec<_>>(),
                    [&id],
                    "{address}"
                );
                assert!(got.unmanaged.is_empty(), "{address}");
            }
            None => {
                assert!(got.by_request.is_empty(), "{address}");
                assert_eq!(got.unmanaged.len(), 1, "{address}");
            }
        }
    }
}

#[test]
fn changes_are_grouped_per_request_in_plan_order() {
    let changes = [
        change(
            &format!("module.s3-bucket_{A}.terraform_data.this"),
            "update",
        ),
        change("aws_iam_role.manual", "delete"),
        change(
            &format!("module.sqs-queue_{B}.terraform_data.this"),
            "create",
        ),
        change(
            &format!("module.s3-bucket_{A}.terraform_data.other"),
            "create",
        ),
    ];
    let got = ownership(&changes);
    let a = &got.by_request[&RequestId::parse(A).unwrap()];
    assert_eq!(
        a.iter().map(|c| c.action.as_str()).collect::<Vec<_>>(),
        ["update", "create"]
    );
    assert_eq!(got.by_request[&RequestId::parse(B).unwrap()].len(), 1);
    assert_eq!(got.unmanaged, [change("aws_iam_role.manual", "delete")]);
    assert_eq!(ownership(&[]), Ownership::default());
}
