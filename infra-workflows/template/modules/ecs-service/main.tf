data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  # The keys (variable names) are not secret; only the referenced values are.
  secret_names = nonsensitive(sort(keys(var.secret_environment)))

  # IAM resources for the secret references: Secrets Manager references may carry a
  # ":json-key:version-stage:version-id" suffix that IAM ARNs do not have.
  secret_resources = distinct([
    for arn in values(var.secret_environment) :
    join(":", slice(split(":", arn), 0, min(7, length(split(":", arn)))))
  ])

  ports = var.container_port == null ? [] : [var.container_port]

  port_mappings = [
    for port in local.ports : {
      containerPort = port
      protocol      = "tcp"
    }
  ]
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = 30
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

data "aws_iam_policy_document" "secrets" {
  count = length(local.secret_names) > 0 ? 1 : 0

  statement {
    actions   = ["secretsmanager:GetSecretValue", "ssm:GetParameters"]
    resources = local.secret_resources
  }
}

resource "aws_iam_role_policy" "secrets" {
  count = length(local.secret_names) > 0 ? 1 : 0

  name   = "read-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.secrets[0].json
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  tags                     = var.tags

  container_definitions = jsonencode([
    {
      name         = var.name
      image        = var.image
      essential    = true
      portMappings = local.port_mappings
      environment  = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
      secrets      = [for k in local.secret_names : { name = k, valueFrom = var.secret_environment[k] }]

      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.this.name
          awslogs-region        = data.aws_region.current.name
          awslogs-stream-prefix = var.name
        }
      }
    }
  ])
}

resource "aws_ecs_service" "this" {
  name                    = var.name
  cluster                 = var.cluster_arn
  task_definition         = aws_ecs_task_definition.this.arn
  desired_count           = var.desired_count
  launch_type             = "FARGATE"
  propagate_tags          = "SERVICE"
  enable_ecs_managed_tags = true
  tags                    = var.tags

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = var.security_group_ids
    assign_public_ip = var.assign_public_ip
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # The secret policy must exist before tasks start pulling secrets.
  depends_on = [aws_iam_role_policy_attachment.execution, aws_iam_role_policy.secrets]
}
