# Sandbox stand-in for the real module: no AWS provider, only terraform_data.
resource "terraform_data" "this" {
  input = {
    name = var.name
    # Same conversion as the real module: the enum string becomes a number.
    retention_in_days = tonumber(var.retention_in_days)
    kms_key_id        = var.kms_key_id
    tags              = var.tags
  }
}
