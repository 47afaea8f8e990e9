# Sandbox stand-in for the real module: no AWS provider, only terraform_data.
resource "terraform_data" "this" {
  input = {
    name                = var.fifo ? "${var.name}.fifo" : var.name
    fifo                = var.fifo
    kms_key_id          = var.kms_key_id
    email_subscriptions = var.email_subscriptions
    tags                = var.tags
  }
}
