output "arn" {
  description = "ARN of the topic."
  value       = aws_sns_topic.this.arn
}

output "name" {
  description = "Full name of the topic (with the .fifo suffix for FIFO topics)."
  value       = aws_sns_topic.this.name
}
