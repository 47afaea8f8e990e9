# Sandbox stand-in for the real module: no AWS provider, only terraform_data.
resource "terraform_data" "this" {
  input = {
    name            = var.name
    versioning      = var.versioning
    force_destroy   = var.force_destroy
    encryption      = var.encryption
    kms_key_arn     = var.kms_key_arn
    expiration_days = var.expiration_days
    tags            = var.tags
  }
}
