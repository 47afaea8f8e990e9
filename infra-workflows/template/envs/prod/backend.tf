# Partial backend configuration: bucket, key and region are NOT set here.
# They are supplied at init time, for example:
#   terraform init \
#     -backend-config="bucket=<state-bucket>" \
#     -backend-config="key=envs/prod/terraform.tfstate" \
#     -backend-config="region=<state-bucket-region>"
# use_lockfile = true enables S3-native state locking (no DynamoDB table needed).
terraform {
  backend "s3" {
    use_lockfile = true
  }
}
