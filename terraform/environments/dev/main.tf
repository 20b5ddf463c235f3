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

  environment      = "dev"
  namespace        = "bot-dev"
  image_repository = "registry.gitlab.com/community/bot"
  image_digest     = var.image_digest

  telegram_bot_token      = var.telegram_bot_token
  telegram_webhook_secret = var.telegram_webhook_secret
  admin_token             = var.admin_token

  admin_previous_token      = var.admin_previous_token
  admin_read_token          = var.admin_read_token
  admin_previous_read_token = var.admin_previous_read_token

  # One disposable instance, no object store backups. A single instance has no standby to wait for, so
  # commits are local (asynchronous): dev's data may be lost with its volume, which is what dev is for.
  database = {
    mode                    = "cloudnativepg"
    cluster_name            = "bot-db"
    instances               = 1
    storage_size            = "5Gi"
    restore_check           = false
    synchronous_replication = false
  }
}
