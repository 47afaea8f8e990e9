variable "aws_region" {
  description = "AWS region this environment's resources are created in."
  type        = string
  default     = "us-east-1"
}
