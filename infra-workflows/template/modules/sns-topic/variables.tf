variable "name" {
  description = "Name of the topic (1-251 characters: letters, digits, hyphens and underscores; .fifo is appended for FIFO topics)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,251}$", var.name))
    error_message = "The topic name must be 1-251 characters of letters, digits, hyphens and underscores."
  }
}

variable "fifo" {
  description = "Create a FIFO topic (strict ordering and deduplication; FIFO topics deliver only to SQS queues)."
  type        = bool
  default     = false
  nullable    = false
}

variable "kms_key_id" {
  description = "KMS key (ID, ARN or alias) used to encrypt messages at rest; null leaves the topic unencrypted."
  type        = string
  default     = null
}

variable "email_subscriptions" {
  description = "Email addresses subscribed to the topic (each recipient must confirm the subscription)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.email_subscriptions) <= 20 && alltrue([for e in var.email_subscriptions : can(regex("^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$", e))])
    error_message = "The email_subscriptions must be at most 20 valid email addresses."
  }

  validation {
    condition     = !(var.fifo && length(var.email_subscriptions) > 0)
    error_message = "FIFO topics cannot have email subscriptions."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
