output "service_name" {
  description = "Name of the ECS service."
  value       = terraform_data.this.output.name
}

output "service_arn" {
  description = "ARN of the ECS service."
  value       = "arn:aws:ecs:${local.region}:${local.account}:service/${local.cluster_name}/${terraform_data.this.output.name}"
}

output "task_definition_arn" {
  description = "ARN (with revision) of the task definition."
  value       = "arn:aws:ecs:${local.region}:${local.account}:task-definition/${terraform_data.this.output.name}:1"
}

output "execution_role_arn" {
  description = "ARN of the task execution role."
  value       = "arn:aws:iam::${local.account}:role/${terraform_data.this.output.name}-execution"
}

output "log_group_name" {
  description = "Name of the CloudWatch log group receiving the container logs."
  value       = "/ecs/${terraform_data.this.output.name}"
}
