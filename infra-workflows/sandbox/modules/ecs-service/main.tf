# Sandbox stand-in for the real module: no AWS provider, only terraform_data.
locals {
  # Region and account are taken from the cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>).
  arn_parts    = split(":", var.cluster_arn)
  region       = local.arn_parts[3]
  account      = local.arn_parts[4]
  cluster_name = trimprefix(local.arn_parts[5], "cluster/")
}

resource "terraform_data" "this" {
  input = {
    name               = var.name
    cluster_arn        = var.cluster_arn
    image              = var.image
    cpu                = var.cpu
    memory             = var.memory
    desired_count      = var.desired_count
    container_port     = var.container_port
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
    assign_public_ip   = var.assign_public_ip
    environment        = var.environment
    # secret_environment is sensitive: only the (non-secret) variable names are recorded.
    secret_names = nonsensitive(sort(keys(var.secret_environment)))
    tags         = var.tags
  }
}
