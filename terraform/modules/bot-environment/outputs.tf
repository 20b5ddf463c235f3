output "namespace" {
  description = "Namespace of the release."
  value       = local.namespace
}

output "release_name" {
  description = "Helm release name (what the pipeline upgrades and `helm rollback` takes)."
  value       = helm_release.bot.name
}

output "release_status" {
  description = "Status of the Helm release after the apply."
  value       = helm_release.bot.status
}

output "image_digest" {
  description = "The digest this apply deployed (the one given, or the one that was running)."
  value       = local.image_digest
}

output "app_secret_name" {
  description = "Secret mounted at /etc/bot/secrets (secrets.existingSecret in the values file)."
  value       = local.app_secret_name
}

output "database_cluster_name" {
  description = "CloudNativePG cluster name, or null for an external database."
  value       = local.cnpg ? var.database.cluster_name : null
}

output "database_host" {
  description = "Read-write service of the CloudNativePG cluster (database.host in the values file), or null."
  value       = local.database_host
}

output "database_password_secret" {
  description = "Secret whose key \"password\" holds the app role's password (database.passwordSecret), or null."
  value       = local.database_password
}

output "webhook_url" {
  description = "Public webhook URL registered with Telegram."
  value       = try("https://${local.chart_values.ingress.hostname}/telegram/webhook", null)
}

output "database_ca_secret" {
  description = "Secret whose key \"ca.crt\" holds the CA of the database's server certificate (database.caSecret), or null."
  value       = local.database_ca
}

output "restore_check_host" {
  description = "Read-write service of the restore check's own cluster (restoreCheck.target.host), or null when it restores on the bot's cluster."
  value       = local.restore_server ? "${local.restore_cluster}-rw" : null
}
