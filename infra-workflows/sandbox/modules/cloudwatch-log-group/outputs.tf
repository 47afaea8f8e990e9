output "name" {
  description = "Name of the log group."
  value       = terraform_data.this.output.name
}

output "arn" {
  description = "ARN of the log group."
  value       = "arn:aws:logs:us-east-1:000000000000:log-group:${terraform_data.this.output.name}"
}
