# The registry exposes retention_in_days as an enum of strings (so the UI can offer a
# fixed list); the API wants a number, hence tonumber(). "0" means never expire.
resource "aws_cloudwatch_log_group" "this" {
  name              = var.name
  retention_in_days = tonumber(var.retention_in_days)
  kms_key_id        = var.kms_key_id
  tags              = var.tags
}
