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

  environment      = "prod"
  namespace        = "bot-prod"
  image_repository = "registry.gitlab.com/community/bot"
  image_digest     = var.image_digest

  telegram_bot_token      = var.telegram_bot_token
  telegram_webhook_secret = var.telegram_webhook_secret
  admin_token             = var.admin_token

  admin_previous_token      = var.admin_previous_token
  admin_read_token          = var.admin_read_token
  admin_previous_read_token = var.admin_previous_read_token

  # Three instances (one primary, two replicas across zones), every commit confirmed by one of the two
  # standbys (quorum, dataDurability required: one standby may be away without stopping writes), base
  # backups and WAL in the object store for point-in-time recovery, on top of the chart's nightly encrypted
  # pg_dump (copied to the bucket) and its restore check, which restores into a server of its own,
  # bot-db-restore (values-prod.yaml restoreCheck.target).
  database = {
    mode                        = "cloudnativepg"
    cluster_name                = "bot-db"
    instances                   = 3
    storage_size                = "50Gi"
    synchronous_replication     = true
    synchronous_standbys        = 1
    synchronous_data_durability = "required"
    restore_check_server        = true
    restore_check_storage_size  = "50Gi"
    # charts/bot/values-prod.yaml database.maxConnections says the same (a delivery check compares them).
    parameters = {
      max_connections = "300"
    }
    resources = {
      requests = { cpu = "1", memory = "2Gi" }
      limits   = { memory = "4Gi" }
    }
    backup = {
      destination_path = "s3://bot-backups/prod"
      retention_policy = "30d"
    }
  }
  backup_object_store_credentials = var.backup_object_store_credentials
}
