variable "name" {
  description = "Name of the log group, e.g. /app/payments (1-512 characters: letters, digits and _ - / . #)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_/.#-]{1,512}$", var.name))
    error_message = "The log group name must be 1-512 characters of letters, digits and _ - / . #."
  }
}

variable "retention_in_days" {
  description = "How many days log events are kept, as a string (one of the values CloudWatch allows; \"0\" keeps them forever). Converted with tonumber() in main.tf."
  type        = string
  default     = "30"
  nullable    = false

  validation {
    condition     = contains(["1", "3", "5", "7", "14", "30", "60", "90", "120", "150", "180", "365", "400", "545", "731", "1096", "1827", "2192", "2557", "2922", "3288", "3653", "0"], var.retention_in_days)
    error_message = "The retention_in_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653, 0 (never expire)."
  }
}

variable "kms_key_id" {
  description = "ARN of the KMS key used to encrypt the log data; null uses CloudWatch Logs' default encryption."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
