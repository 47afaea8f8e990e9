locals {
  suffix   = var.fifo ? ".fifo" : ""
  with_dlq = var.dlq_max_receive_count != null
}

resource "aws_sqs_queue" "dlq" {
  count = local.with_dlq ? 1 : 0

  name                      = "${var.name}-dlq${local.suffix}"
  fifo_queue                = var.fifo
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  name                        = "${var.name}${local.suffix}"
  fifo_queue                  = var.fifo
  content_based_deduplication = var.fifo ? true : null
  visibility_timeout_seconds  = var.visibility_timeout_seconds
  message_retention_seconds   = var.message_retention_seconds
  sqs_managed_sse_enabled     = true
  tags                        = var.tags

  redrive_policy = local.with_dlq ? jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[0].arn
    maxReceiveCount     = var.dlq_max_receive_count
  }) : null
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  count = local.with_dlq ? 1 : 0

  queue_url = aws_sqs_queue.dlq[0].id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this.arn]
  })
}
