output "url" {
  description = "URL of the queue."
  value       = "https://sqs.${local.fake_region}.amazonaws.com/${local.fake_account}/${terraform_data.this.output.name}"
}

output "arn" {
  description = "ARN of the queue."
  value       = "arn:aws:sqs:${local.fake_region}:${local.fake_account}:${terraform_data.this.output.name}"
}

output "name" {
  description = "Full name of the queue (with the .fifo suffix for FIFO queues)."
  value       = terraform_data.this.output.name
}

output "dlq_url" {
  description = "URL of the dead-letter queue, or null when there is none."
  value       = local.with_dlq ? "https://sqs.${local.fake_region}.amazonaws.com/${local.fake_account}/${terraform_data.this.output.dlq_name}" : null
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue, or null when there is none."
  value       = local.with_dlq ? "arn:aws:sqs:${local.fake_region}:${local.fake_account}:${terraform_data.this.output.dlq_name}" : null
}
