# One environment of the bot: namespace, the app Secret, the database (a CloudNativePG cluster with object
# store backups, or an external server), and the Helm release of charts/bot with the environment's values
# file. The pipeline upgrades the same release with `helm upgrade` and a new digest between applies; an
# apply without image_digest keeps the digest that is running, so Terraform never rolls the bot back.

locals {
  chart_path  = coalesce(var.chart_path, "${path.module}/../../../charts/bot")
  values_file = "${local.chart_path}/values-${var.environment}.yaml"
  # The values file is the one the pipeline deploys with; the names below must agree with it (checked
  # by the preconditions on the release).
  chart_values = yamldecode(file(local.values_file))

  labels = merge({
    "app.kubernetes.io/part-of"    = "bot"
    "app.kubernetes.io/managed-by" = "terraform"
    "bot.example.com/environment"  = var.environment
  }, var.labels)

  namespace = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace

  cnpg              = var.database.mode == "cloudnativepg"
  cnpg_backup       = local.cnpg && var.database.backup != null
  restore_check     = local.cnpg && var.database.restore_check
  restore_server    = local.restore_check && var.database.restore_check_server
  restore_cluster   = "${var.database.cluster_name}-restore"
  synchronous       = local.cnpg && var.database.synchronous_replication
  app_secret_name   = coalesce(var.existing_secret_name, var.app_secret_name)
  restore_secret    = "${var.release_name}-restore-check"
  restore_role      = "restore_check"
  database_host     = local.cnpg ? "${var.database.cluster_name}-rw" : null
  database_password = local.cnpg ? "${var.database.cluster_name}-app" : null
  # CloudNativePG publishes the CA that signs its server certificates (key ca.crt); the chart mounts it for
  # SSL Mode=VerifyFull.
  database_ca = local.cnpg ? "${var.database.cluster_name}-ca" : null

  # The digest the pipeline deployed last, read from the running Deployment's bot container.
  running_images = flatten([
    for deployment in try(data.kubernetes_resources.running.objects, []) : [
      for container in deployment.spec.template.spec.containers : container.image if container.name == "bot"
    ]
  ])
  running_digest = try(regex("@(sha256:[a-f0-9]{64})$", local.running_images[0])[0], null)
  image_digest   = var.image_digest != null ? var.image_digest : local.running_digest

  # registry.gitlab.com/community/bot -> image.registry and image.repository, as the chart takes them.
  image_registry = split("/", var.image_repository)[0]
  image_path     = join("/", slice(split("/", var.image_repository), 1, length(split("/", var.image_repository))))

  values_database_host     = try(local.chart_values.database.host, "")
  values_database_password = try(local.chart_values.database.passwordSecret.name, "")
  cnpg_values_match        = local.values_database_host == local.database_host && local.values_database_password == local.database_password
  values_match_database    = local.cnpg ? local.cnpg_values_match : local.values_database_host == ""
  values_database_ca       = try(local.chart_values.database.caSecret.name, "")
  values_restore_host      = try(local.chart_values.restoreCheck.target.host, "")
  values_restore_ca        = try(local.chart_values.restoreCheck.target.caSecret.name, "")
  # The restore check's server: the separate restore cluster, or the bot's own (an empty host means that).
  restore_target_matches = local.restore_server ? (
    local.values_restore_host == "${local.restore_cluster}-rw" && contains(["", "${local.restore_cluster}-ca"], local.values_restore_ca)
  ) : contains(["", coalesce(local.database_host, "-")], local.values_restore_host)
}

# --- namespace ----------------------------------------------------------------------------------------

resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = merge(local.labels, {
      # Every pod the chart renders meets the restricted Pod Security Standard; the namespace enforces it.
      "pod-security.kubernetes.io/enforce" = "restricted"
      "pod-security.kubernetes.io/audit"   = "restricted"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }, var.namespace_labels)
  }
}

# --- the app Secret (mounted as files at /etc/bot/secrets) ----------------------------------------------

# Generated when not given; secret_rotation replaces them.
resource "random_password" "webhook_secret" {
  length  = 48
  special = false
  keepers = {
    rotation = var.secret_rotation
  }
}

resource "random_password" "admin_token" {
  length  = 48
  special = false
  keepers = {
    rotation = var.secret_rotation
  }
}

locals {
  admin_token = coalesce(var.admin_token, random_password.admin_token.result)
  # The admin tokens that are set, for the check that no value appears under two names.
  admin_tokens = compact([local.admin_token, var.admin_previous_token, var.admin_read_token, var.admin_previous_read_token])
}

resource "kubernetes_secret_v1" "app" {
  count = var.existing_secret_name == null ? 1 : 0

  metadata {
    name      = var.app_secret_name
    namespace = local.namespace
    labels    = local.labels
  }

  # Keys are the bot's setting names in environment-variable form (key-per-file configuration).
  data = merge(
    {
      "Telegram__BotToken"      = var.telegram_bot_token
      "Telegram__WebhookSecret" = coalesce(var.telegram_webhook_secret, random_password.webhook_secret.result)
      "Admin__Token"            = local.admin_token
    },
    # The optional admin tokens, each a key only when given.
    var.admin_previous_token == null ? {} : { "Admin__PreviousToken" = var.admin_previous_token },
    var.admin_read_token == null ? {} : { "Admin__ReadToken" = var.admin_read_token },
    var.admin_previous_read_token == null ? {} : { "Admin__PreviousReadToken" = var.admin_previous_read_token },
    # CloudNativePG's <cluster>-app Secret supplies Database__Password; an external server's full
    # connection string lives here.
    local.cnpg ? {} : { "Database__ConnectionString" = var.external_connection_string },
  )

  lifecycle {
    precondition {
      condition     = var.telegram_bot_token != null
      error_message = "telegram_bot_token is required when Terraform creates the app Secret (or set existing_secret_name)."
    }
    precondition {
      condition     = local.cnpg || var.external_connection_string != null
      error_message = "external_connection_string is required when database.mode is external."
    }
    precondition {
      condition     = var.admin_previous_read_token == null || var.admin_read_token != null
      error_message = "admin_previous_read_token needs admin_read_token (the bot refuses a previous token without a current one)."
    }
    precondition {
      condition     = length(local.admin_tokens) == length(distinct(local.admin_tokens))
      error_message = "admin_token, admin_previous_token, admin_read_token and admin_previous_read_token must all differ (the bot refuses one value under two names)."
    }
  }
}

# --- database: CloudNativePG --------------------------------------------------------------------------

resource "random_password" "restore_check" {
  count   = local.restore_check ? 1 : 0
  length  = 40
  special = false
}

# The restore check restores into a scratch database: its own role with CREATEDB, not the app's, on the
# bot's cluster or (restore_check_server) on a separate one.
resource "kubernetes_secret_v1" "restore_check" {
  count = local.restore_check ? 1 : 0

  metadata {
    name      = local.restore_secret
    namespace = local.namespace
    labels    = merge(local.labels, { "cnpg.io/reload" = "true" })
  }

  type = "kubernetes.io/basic-auth"
  data = {
    username = local.restore_role
    password = random_password.restore_check[0].result
  }
}

resource "kubernetes_secret_v1" "backup_credentials" {
  count = local.cnpg_backup && nonsensitive(var.backup_object_store_credentials != null) ? 1 : 0

  metadata {
    name      = var.database.backup.credentials_secret
    namespace = local.namespace
    labels    = local.labels
  }

  data = {
    ACCESS_KEY_ID     = var.backup_object_store_credentials.access_key_id
    ACCESS_SECRET_KEY = var.backup_object_store_credentials.secret_access_key
  }
}

resource "kubernetes_manifest" "database" {
  count = local.cnpg ? 1 : 0

  manifest = {
    apiVersion = "postgresql.cnpg.io/v1"
    kind       = "Cluster"
    metadata = {
      name      = var.database.cluster_name
      namespace = local.namespace
      labels    = local.labels
    }
    spec = merge(
      {
        instances             = var.database.instances
        imageName             = var.database.image_name
        primaryUpdateStrategy = "unsupervised"
        storage = merge(
          { size = var.database.storage_size },
          { for key, value in { storageClass = var.database.storage_class } : key => value if value != null },
        )
        # Creates the database, its owner and the <cluster>-app Secret (key "password") the chart mounts.
        bootstrap = {
          initdb = {
            database = var.database.database_name
            owner    = var.database.owner
          }
        }
        postgresql = merge(
          {
            # charts/bot's database.maxConnections must say the same: the chart holds every replica's pool
            # and sessions, a surge pod and a reserve to it (a delivery check compares the two).
            parameters = merge({
              max_connections            = "200"
              log_min_duration_statement = "1000"
            }, var.database.parameters)
          },
          # Quorum commit: a commit returns once synchronous_standbys standbys have flushed its WAL. With
          # dataDurability "required" writes wait while too few standbys are healthy rather than go on
          # unreplicated (docs/runbook.md, "Synchronous replication").
          { for key, value in {
            synchronous = local.synchronous ? {
              method         = "any"
              number         = var.database.synchronous_standbys
              dataDurability = var.database.synchronous_data_durability
            } : null
          } : key => value if value != null },
        )
        resources = var.database.resources
        managed = {
          roles = local.restore_check && !local.restore_server ? [{
            name           = local.restore_role
            ensure         = "present"
            login          = true
            createdb       = true
            passwordSecret = { name = local.restore_secret }
          }] : []
        }
      },
      # Base backups and continuous WAL archiving to the object store: point-in-time recovery. The chart's
      # pg_dump CronJob is the second, logical line of defence (and the one the restore check proves).
      { for key, value in {
        backup = local.cnpg_backup ? {
          retentionPolicy = var.database.backup.retention_policy
          barmanObjectStore = merge(
            {
              destinationPath = var.database.backup.destination_path
              s3Credentials = {
                accessKeyId     = { name = var.database.backup.credentials_secret, key = "ACCESS_KEY_ID" }
                secretAccessKey = { name = var.database.backup.credentials_secret, key = "ACCESS_SECRET_KEY" }
              }
              wal  = { compression = "gzip" }
              data = { compression = "gzip" }
            },
            { for key, value in { endpointURL = var.database.backup.endpoint_url } : key => value if value != null },
          )
        } : null
      } : key => value if value != null },
    )
  }

  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "20m"
    update = "20m"
  }

  depends_on = [kubernetes_secret_v1.restore_check, kubernetes_secret_v1.backup_credentials]
}

# The restore check's own server: one small instance that holds nothing but the scratch database, so that
# restoring a large dump every night neither loads the primary nor is replicated and archived with it.
resource "kubernetes_manifest" "restore_database" {
  count = local.restore_server ? 1 : 0

  manifest = {
    apiVersion = "postgresql.cnpg.io/v1"
    kind       = "Cluster"
    metadata = {
      name      = local.restore_cluster
      namespace = local.namespace
      labels    = merge(local.labels, { "app.kubernetes.io/component" = "restore-check" })
    }
    spec = {
      instances             = 1
      imageName             = var.database.image_name
      primaryUpdateStrategy = "unsupervised"
      storage = merge(
        { size = var.database.restore_check_storage_size },
        { for key, value in { storageClass = var.database.storage_class } : key => value if value != null },
      )
      # The restore role owns a database of its own (it connects to "postgres" for CREATE/DROP DATABASE).
      bootstrap = {
        initdb = {
          database               = local.restore_role
          owner                  = local.restore_role
          secret                 = { name = local.restore_secret }
          postInitApplicationSQL = ["ALTER ROLE ${local.restore_role} CREATEDB"]
        }
      }
      postgresql = {
        parameters = {
          max_connections = "20"
        }
      }
      resources = var.database.resources
    }
  }

  wait {
    condition {
      type   = "Ready"
      status = "True"
    }
  }

  timeouts {
    create = "20m"
    update = "20m"
  }

  depends_on = [kubernetes_secret_v1.restore_check]
}

resource "kubernetes_manifest" "scheduled_backup" {
  count = local.cnpg_backup ? 1 : 0

  manifest = {
    apiVersion = "postgresql.cnpg.io/v1"
    kind       = "ScheduledBackup"
    metadata = {
      name      = "${var.database.cluster_name}-daily"
      namespace = local.namespace
      labels    = local.labels
    }
    spec = {
      # Six fields: CloudNativePG's schedule has seconds.
      schedule             = var.database.backup.schedule
      immediate            = true
      backupOwnerReference = "self"
      method               = "barmanObjectStore"
      cluster = {
        name = var.database.cluster_name
      }
    }
  }

  depends_on = [kubernetes_manifest.database]
}

# --- the release ----------------------------------------------------------------------------------------

data "kubernetes_resources" "running" {
  api_version    = "apps/v1"
  kind           = "Deployment"
  namespace      = var.namespace
  label_selector = "app.kubernetes.io/instance=${var.release_name},app.kubernetes.io/component=server"
}

resource "helm_release" "bot" {
  name      = var.release_name
  namespace = local.namespace
  chart     = local.chart_path

  values = [file(local.values_file)]
  set = [
    { name = "image.registry", value = local.image_registry },
    { name = "image.repository", value = local.image_path },
    { name = "image.digest", value = local.image_digest },
  ]

  # Same as the pipeline: the migration hook first, roll back everything when the rollout fails.
  atomic          = true
  wait            = true
  cleanup_on_fail = true
  timeout         = var.helm_timeout_seconds
  max_history     = 10
  lint            = true

  lifecycle {
    precondition {
      condition     = local.image_digest != null
      error_message = "No image digest: pass image_digest (nothing is running yet to keep)."
    }
    precondition {
      condition     = try(local.chart_values.secrets.existingSecret, "") == local.app_secret_name
      error_message = "values-${var.environment}.yaml must set secrets.existingSecret to ${local.app_secret_name}."
    }
    precondition {
      condition     = local.values_match_database
      error_message = "values-${var.environment}.yaml database.host/passwordSecret must match the database: ${local.cnpg ? "${local.database_host} and ${local.database_password}" : "an empty host (the Secret carries the connection string)"}."
    }
    precondition {
      condition     = !try(local.chart_values.restoreCheck.enabled, false) || !local.cnpg || (local.restore_check && try(local.chart_values.restoreCheck.target.passwordSecret.name, "") == local.restore_secret)
      error_message = "values-${var.environment}.yaml restoreCheck.target.passwordSecret.name must be ${local.restore_secret}, and database.restore_check must be on."
    }
    precondition {
      condition     = !local.cnpg || contains(["", local.database_ca], local.values_database_ca)
      error_message = "values-${var.environment}.yaml database.caSecret.name must be ${coalesce(local.database_ca, "-")} (CloudNativePG's CA for the server certificate) or empty."
    }
    precondition {
      condition     = !try(local.chart_values.restoreCheck.enabled, false) || !local.cnpg || local.restore_target_matches
      error_message = "values-${var.environment}.yaml restoreCheck.target.host must be ${local.restore_server ? "${local.restore_cluster}-rw (caSecret ${local.restore_cluster}-ca)" : "empty or ${coalesce(local.database_host, "-")}"}, as database.restore_check_server says."
    }
  }

  depends_on = [
    kubernetes_secret_v1.app,
    kubernetes_manifest.database,
    kubernetes_secret_v1.restore_check,
    kubernetes_manifest.restore_database,
  ]
}
