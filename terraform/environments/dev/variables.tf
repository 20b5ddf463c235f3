variable "kubeconfig_path" {
  description = "Kubeconfig with access to the environment's cluster (in CI: the GitLab agent's KUBECONFIG)."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "Context in the kubeconfig for this environment's cluster."
  type        = string
}

variable "image_digest" {
  description = "sha256:... digest to deploy; null keeps the running one (the pipeline owns rollouts)."
  type        = string
  default     = null
}

variable "telegram_bot_token" {
  description = "This environment's bot token (TF_VAR_telegram_bot_token from a protected, masked CI variable)."
  type        = string
  sensitive   = true
}

variable "telegram_webhook_secret" {
  description = "Webhook secret token; null generates one."
  type        = string
  default     = null
  sensitive   = true
}

variable "admin_token" {
  description = "Admin API bearer token; null generates one."
  type        = string
  default     = null
  sensitive   = true
}

variable "admin_previous_token" {
  description = "The admin token's previous value during a rotation (docs/runbook.md); null: none."
  type        = string
  default     = null
  sensitive   = true
}

variable "admin_read_token" {
  description = "Admin API bearer token with the read scope; null: none."
  type        = string
  default     = null
  sensitive   = true
}

variable "admin_previous_read_token" {
  description = "The read token's previous value during a rotation; null: none."
  type        = string
  default     = null
  sensitive   = true
}
