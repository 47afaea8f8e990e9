# Sandbox stand-in for the real module: no AWS provider, only terraform_data.
locals {
  fake_region  = "us-east-1"
  fake_account = "000000000000"
  suffix       = var.fifo ? ".fifo" : ""
  with_dlq     = var.dlq_max_receive_count != null
}

resource "terraform_data" "this" {
  input = {
    name                       = "${var.name}${local.suffix}"
    fifo                       = var.fifo
    visibility_timeout_seconds = var.visibility_timeout_seconds
    message_retention_seconds  = var.message_retention_seconds
    dlq_max_receive_count      = var.dlq_max_receive_count
    dlq_name                   = local.with_dlq ? "${var.name}-dlq${local.suffix}" : null
    tags                       = var.tags
  }
}
