output "id" {
  description = "Name of the bucket."
  value       = terraform_data.this.output.name
}

output "arn" {
  description = "ARN of the bucket."
  value       = "arn:aws:s3:::${terraform_data.this.output.name}"
}

output "bucket_regional_domain_name" {
  description = "Region-specific domain name of the bucket."
  value       = "${terraform_data.this.output.name}.s3.us-east-1.amazonaws.com"
}
