variable "name" {
  description = "Globally unique name of the bucket (3-63 characters: lowercase letters, digits, dots and hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "The bucket name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "versioning" {
  description = "Keep every version of every object (recommended: protects against accidental overwrites and deletes)."
  type        = bool
  default     = true
  nullable    = false
}

variable "force_destroy" {
  description = "Allow Terraform to delete the bucket even when it still contains objects."
  type        = bool
  default     = false
  nullable    = false
}

variable "encryption" {
  description = "Server-side encryption: AES256 (S3-managed keys) or aws:kms (KMS keys)."
  type        = string
  default     = "AES256"
  nullable    = false

  validation {
    condition     = contains(["AES256", "aws:kms"], var.encryption)
    error_message = "The encryption must be one of: AES256, aws:kms."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key used when encryption is aws:kms (null uses the AWS-managed aws/s3 key)."
  type        = string
  default     = null
}

variable "expiration_days" {
  description = "Delete objects (and noncurrent versions) this many days after creation; null keeps objects forever."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null ? true : (var.expiration_days >= 1 && var.expiration_days <= 3650 && floor(var.expiration_days) == var.expiration_days)
    error_message = "The expiration_days must be a whole number between 1 and 3650."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
  nullable    = false
}
