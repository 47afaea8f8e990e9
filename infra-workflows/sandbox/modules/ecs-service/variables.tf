variable "name" {
  description = "Name of the service, its task definition family and its container (1-48 characters: letters, digits, hyphens and underscores, starting with a letter)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,47}$", var.name))
    error_message = "The service name must be 1-48 characters of letters, digits, hyphens and underscores, starting with a letter."
  }
}

variable "cluster_arn" {
  description = "ARN of the existing ECS cluster the service runs in."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[a-zA-Z0-9_-]{1,255}$", var.cluster_arn))
    error_message = "The cluster_arn must be an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)."
  }
}

variable "image" {
  description = "Container image to run, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9./_:@-]{0,254}$", var.image))
    error_message = "The image must be a container image reference (registry/repository:tag or @digest)."
  }
}

variable "cpu" {
  description = "Fargate task CPU units (256 = 0.25 vCPU ... 4096 = 4 vCPU)."
  type        = string
  default     = "256"
  nullable    = false

  validation {
    condition     = contains(["256", "512", "1024", "2048", "4096"], var.cpu)
    error_message = "The cpu must be one of: 256, 512, 1024, 2048, 4096."
  }
}

variable "memory" {
  description = "Fargate task memory in MiB (512-30720; must be a combination Fargate supports for the chosen cpu)."
  type        = number
  default     = 512
  nullable    = false

  validation {
    condition     = var.memory >= 512 && var.memory <= 30720 && floor(var.memory) == var.memory
    error_message = "The memory must be a whole number of MiB between 512 and 30720."
  }
}

variable "desired_count" {
  description = "Number of tasks to keep running (0-100)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.desired_count >= 0 && var.desired_count <= 100 && floor(var.desired_count) == var.desired_count
    error_message = "The desired_count must be a whole number between 0 and 100."
  }
}

variable "container_port" {
  description = "TCP port the container listens on; null for workers that accept no traffic."
  type        = number
  default     = null

  validation {
    condition     = var.container_port == null ? true : (var.container_port >= 1 && var.container_port <= 65535 && floor(var.container_port) == var.container_port)
    error_message = "The container_port must be a whole number between 1 and 65535."
  }
}

variable "subnet_ids" {
  description = "IDs of the existing subnets the tasks are placed in."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && length(var.subnet_ids) <= 16 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", s))])
    error_message = "The subnet_ids must be 1-16 subnet IDs (subnet-xxxxxxxx)."
  }
}

variable "security_group_ids" {
  description = "IDs of the existing security groups attached to the tasks."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1 && length(var.security_group_ids) <= 5 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", s))])
    error_message = "The security_group_ids must be 1-5 security group IDs (sg-xxxxxxxx)."
  }
}

variable "assign_public_ip" {
  description = "Give each task a public IP address (only needed in public subnets without a NAT gateway)."
  type        = bool
  default     = false
  nullable    = false
}

variable "environment" {
  description = "Plain environment variables passed to the container (name => value)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "secret_environment" {
  description = "Secret environment variables (name => ARN of the Secrets Manager secret or SSM parameter holding the value). ECS injects the values at start-up; the values themselves never appear in code or state."
  type        = map(string)
  default     = {}
  nullable    = false
  sensitive   = true
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
