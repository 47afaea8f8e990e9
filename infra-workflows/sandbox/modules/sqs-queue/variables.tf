variable "name" {
  description = "Name of the queue (1-70 characters: letters, digits, hyphens and underscores; .fifo is appended for FIFO queues)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,70}$", var.name))
    error_message = "The queue name must be 1-70 characters of letters, digits, hyphens and underscores."
  }
}

variable "fifo" {
  description = "Create a FIFO queue (exactly-once, ordered delivery) instead of a standard queue."
  type        = bool
  default     = false
  nullable    = false
}

variable "visibility_timeout_seconds" {
  description = "How long a received message stays hidden from other consumers, in seconds (0-43200)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "The visibility_timeout_seconds must be a whole number between 0 and 43200."
  }
}

variable "message_retention_seconds" {
  description = "How long SQS keeps an unconsumed message, in seconds (60-1209600, i.e. 1 minute to 14 days)."
  type        = number
  default     = 345600
  nullable    = false

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "The message_retention_seconds must be a whole number between 60 and 1209600."
  }
}

variable "dlq_max_receive_count" {
  description = "Move a message to a dead-letter queue after this many failed receives; null creates no dead-letter queue."
  type        = number
  default     = null

  validation {
    condition     = var.dlq_max_receive_count == null ? true : (var.dlq_max_receive_count >= 1 && var.dlq_max_receive_count <= 1000 && floor(var.dlq_max_receive_count) == var.dlq_max_receive_count)
    error_message = "The dlq_max_receive_count must be a whole number between 1 and 1000."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
