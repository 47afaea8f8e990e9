output "arn" {
  description = "ARN of the topic."
  value       = "arn:aws:sns:us-east-1:000000000000:${terraform_data.this.output.name}"
}

output "name" {
  description = "Full name of the topic (with the .fifo suffix for FIFO topics)."
  value       = terraform_data.this.output.name
}
