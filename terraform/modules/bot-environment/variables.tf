variable "environment" {
  description = "Environment name: dev, staging or prod. Picks charts/bot/values-<environment>.yaml."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "namespace" {
  description = "Kubernetes namespace of the release; the Lease, the Secret and the database live here too."
  type        = string
}

variable "create_namespace" {
  description = "Create the namespace (false when the platform team hands it over ready-made)."
  type        = bool
  default     = true
}

variable "namespace_labels" {
  description = "Extra labels on the namespace (e.g. pod-security.kubernetes.io/enforce = restricted is always set)."
  type        = map(string)
  default     = {}
}

variable "release_name" {
  description = "Helm release name. With \"bot\" the chart's objects are named bot, bot-migrate, bot-backup, ..."
  type        = string
  default     = "bot"
}

variable "chart_path" {
  description = "Path to the chart; defaults to charts/bot of this repository."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "Image repository without tag or digest, registry included, e.g. registry.gitlab.com/community/bot."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+$", var.image_repository))
    error_message = "image_repository must be <registry>/<path> without a tag or digest."
  }
}

variable "image_digest" {
  description = "sha256:... digest to deploy. Null keeps the digest the pipeline last deployed (read from the running Deployment), so that an apply never rolls the application back; required on the first apply."
  type        = string
  default     = null

  validation {
    condition     = var.image_digest == null || can(regex("^sha256:[a-f0-9]{64}$", var.image_digest))
    error_message = "image_digest must look like sha256:<64 hex characters>."
  }
}

variable "helm_timeout_seconds" {
  description = "How long helm waits for the hooks and the rollout."
  type        = number
  default     = 600
}

# --- secrets ----------------------------------------------------------------------------------------------

variable "existing_secret_name" {
  description = "Name of a Secret that already holds Telegram__BotToken, Telegram__WebhookSecret and Admin__Token, and optionally Admin__PreviousToken, Admin__ReadToken and Admin__PreviousReadToken (e.g. synced by an external secrets operator; the pods mount every key and see changes without a restart). Null: Terraform creates it from the variables below."
  type        = string
  default     = null
}

variable "app_secret_name" {
  description = "Name of the Secret Terraform creates; must equal secrets.existingSecret in the environment's values file."
  type        = string
  default     = "bot-secrets"
}

variable "telegram_bot_token" {
  description = "Bot token from @BotFather. Pass as TF_VAR_telegram_bot_token from a protected CI variable or a vault, never in a file."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.telegram_bot_token == null || can(regex("^[0-9]{1,20}:[A-Za-z0-9_-]{20,200}$", var.telegram_bot_token))
    error_message = "telegram_bot_token is not a bot token of the form <id>:<secret>."
  }
}

variable "telegram_webhook_secret" {
  description = "Secret token Telegram sends in X-Telegram-Bot-Api-Secret-Token (16-256 of A-Z, a-z, 0-9, _ and -). Null: generated."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.telegram_webhook_secret == null || can(regex("^[A-Za-z0-9_-]{16,256}$", var.telegram_webhook_secret))
    error_message = "telegram_webhook_secret must be 16 to 256 characters of A-Z, a-z, 0-9, _ and -."
  }
}

variable "admin_token" {
  description = "Bearer token of the internal admin API. Null: generated."
  type        = string
  default     = null
  sensitive   = true
}

variable "admin_previous_token" {
  description = "The admin token's previous value (Admin__PreviousToken), still accepted while the callers move to the new admin_token during a rotation. Null: no such key."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.admin_previous_token == null || try(length(var.admin_previous_token) >= 16 && trimspace(var.admin_previous_token) == var.admin_previous_token, false)
    error_message = "admin_previous_token must be at least 16 characters, without surrounding white space."
  }
}

variable "admin_read_token" {
  description = "Bearer token of the admin API with the read scope only: stats, broadcasts, the join audit (Admin__ReadToken). Null: no such key."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.admin_read_token == null || try(length(var.admin_read_token) >= 16 && trimspace(var.admin_read_token) == var.admin_read_token, false)
    error_message = "admin_read_token must be at least 16 characters, without surrounding white space."
  }
}

variable "admin_previous_read_token" {
  description = "The read token's previous value (Admin__PreviousReadToken), during a rotation; needs admin_read_token. Null: no such key."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.admin_previous_read_token == null || try(length(var.admin_previous_read_token) >= 16 && trimspace(var.admin_previous_read_token) == var.admin_previous_read_token, false)
    error_message = "admin_previous_read_token must be at least 16 characters, without surrounding white space."
  }
}

variable "secret_rotation" {
  description = "Change this value (e.g. a date) to generate new webhook secret and admin token values (when they are generated)."
  type        = string
  default     = "1"
}

# --- database ---------------------------------------------------------------------------------------------

variable "database" {
  description = <<-EOT
    Where the bot's PostgreSQL comes from.
      mode = "cloudnativepg": a CloudNativePG Cluster in the namespace (the operator must be installed), with
        base backups and WAL archived to an object store when backup is set.
      mode = "external": a server outside the cluster (a managed service); its connection string is a
        sensitive variable (external_connection_string) stored in the app Secret.
    CloudNativePG fields:
      synchronous_replication (default true): a commit returns only once synchronous_standbys standbys
        (quorum, CloudNativePG's spec.postgresql.synchronous method "any") have the WAL, so nothing the bot
        acknowledges to Telegram lives on one instance alone. Needs instances >= 2 and the CloudNativePG
        operator 1.25 or later (dataDurability). Set it to false only for a disposable single-instance
        database (dev): then commits are local and a lost volume loses what it held.
      synchronous_standbys (default 1): how many standbys must confirm each commit; fewer than instances.
      synchronous_data_durability (default "required"): "required" makes writes wait while fewer standbys
        than synchronous_standbys are healthy (no acknowledged write is ever on the primary alone; the
        webhook answers 503 after Ingest:CommitTimeoutSeconds and Telegram retries); "preferred" lets the
        operator drop unhealthy standbys from the quorum, so writes go on, unreplicated, while the standbys
        are down (docs/runbook.md, "Synchronous replication").
      restore_check_server (default false): the restore check restores into a separate single-instance
        cluster <cluster_name>-restore (its own role restore_check, CREATEDB), not into a scratch database
        on the primary; the values file's restoreCheck.target.host must then be <cluster_name>-restore-rw.
  EOT
  type = object({
    mode          = string
    cluster_name  = optional(string, "bot-db")
    instances     = optional(number, 1)
    image_name    = optional(string, "ghcr.io/cloudnative-pg/postgresql:15")
    storage_size  = optional(string, "10Gi")
    storage_class = optional(string)
    database_name = optional(string, "bot")
    owner         = optional(string, "bot")
    parameters    = optional(map(string), {})
    restore_check = optional(bool, true)

    synchronous_replication     = optional(bool, true)
    synchronous_standbys        = optional(number, 1)
    synchronous_data_durability = optional(string, "required")

    restore_check_server       = optional(bool, false)
    restore_check_storage_size = optional(string, "10Gi")
    resources = optional(object({
      requests = optional(map(string), { cpu = "250m", memory = "512Mi" })
      limits   = optional(map(string), { memory = "1Gi" })
    }), {})
    backup = optional(object({
      destination_path   = string
      endpoint_url       = optional(string)
      retention_policy   = optional(string, "30d")
      schedule           = optional(string, "0 0 2 * * *")
      credentials_secret = optional(string, "bot-db-backup-credentials")
    }))
  })

  validation {
    condition     = contains(["cloudnativepg", "external"], var.database.mode)
    error_message = "database.mode must be cloudnativepg or external."
  }

  validation {
    condition     = var.database.mode != "cloudnativepg" || var.database.instances >= 1
    error_message = "database.instances must be at least 1."
  }

  validation {
    condition = var.database.mode != "cloudnativepg" || !var.database.synchronous_replication || (
      var.database.synchronous_standbys >= 1 && var.database.synchronous_standbys < var.database.instances
    )
    error_message = "synchronous_replication needs 1 <= database.synchronous_standbys < database.instances (a single instance has no standby: set synchronous_replication = false or instances = 2)."
  }

  validation {
    condition     = contains(["required", "preferred"], var.database.synchronous_data_durability)
    error_message = "database.synchronous_data_durability must be required or preferred."
  }

  validation {
    condition     = !var.database.restore_check_server || var.database.restore_check
    error_message = "database.restore_check_server needs database.restore_check."
  }
}

variable "external_connection_string" {
  description = "Complete Npgsql connection string for database.mode = \"external\" (stored as Database__ConnectionString in the app Secret; the values file must leave database.host empty)."
  type        = string
  default     = null
  sensitive   = true
}

variable "backup_object_store_credentials" {
  description = "Access key pair for the object store that receives CloudNativePG base backups and WAL (database.backup). Null when the Secret named by database.backup.credentials_secret is managed elsewhere."
  type = object({
    access_key_id     = string
    secret_access_key = string
  })
  default   = null
  sensitive = true
}

variable "labels" {
  description = "Labels added to the objects Terraform creates."
  type        = map(string)
  default     = {}
}
