provider "kubernetes" {
  config_path    = var.kubeconfig_path
  config_context = var.kube_context
}

provider "helm" {
  kubernetes = {
    config_path    = var.kubeconfig_path
    config_context = var.kube_context
  }
}

module "bot" {
  source = "../../modules/bot-environment"

  environment      = "staging"
  namespace        = "bot-staging"
  image_repository = "registry.gitlab.com/community/bot"
  image_digest     = var.image_digest

  telegram_bot_token      = var.telegram_bot_token
  telegram_webhook_secret = var.telegram_webhook_secret
  admin_token             = var.admin_token

  admin_previous_token      = var.admin_previous_token
  admin_read_token          = var.admin_read_token
  admin_previous_read_token = var.admin_previous_read_token

  # Two instances with synchronous replication (the module's default: one standby confirms every commit,
  # dataDurability required), so staging shows what production does when its standby is away: writes
  # wait. With one standby, that is any time the standby restarts.
  database = {
    mode         = "cloudnativepg"
    cluster_name = "bot-db"
    instances    = 2
    storage_size = "10Gi"
    backup = {
      destination_path = "s3://bot-backups/staging"
      retention_policy = "7d"
    }
  }
  backup_object_store_credentials = var.backup_object_store_credentials
}
