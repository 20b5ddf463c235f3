output "namespace" {
  description = "Namespace of the release."
  value       = module.bot.namespace
}

output "image_digest" {
  description = "The digest this apply deployed."
  value       = module.bot.image_digest
}

output "database_host" {
  description = "The database's read-write service."
  value       = module.bot.database_host
}

output "webhook_url" {
  description = "Public webhook URL registered with Telegram."
  value       = module.bot.webhook_url
}
