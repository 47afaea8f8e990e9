resource "aws_sns_topic" "this" {
  name                        = var.fifo ? "${var.name}.fifo" : var.name
  fifo_topic                  = var.fifo
  content_based_deduplication = var.fifo ? true : null
  kms_master_key_id           = var.kms_key_id
  tags                        = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.email_subscriptions)

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = each.value
}
