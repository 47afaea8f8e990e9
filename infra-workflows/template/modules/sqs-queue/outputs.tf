output "url" {
  description = "URL of the queue."
  value       = aws_sqs_queue.this.url
}

output "arn" {
  description = "ARN of the queue."
  value       = aws_sqs_queue.this.arn
}

output "name" {
  description = "Full name of the queue (with the .fifo suffix for FIFO queues)."
  value       = aws_sqs_queue.this.name
}

output "dlq_url" {
  description = "URL of the dead-letter queue, or null when there is none."
  value       = local.with_dlq ? aws_sqs_queue.dlq[0].url : null
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue, or null when there is none."
  value       = local.with_dlq ? aws_sqs_queue.dlq[0].arn : null
}
