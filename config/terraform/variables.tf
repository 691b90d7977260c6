variable "project_id" {
  description = "The Google Cloud project Vertex AI runs in, where the service accounts and the pool live."
  type        = string
}

variable "region" {
  description = "The default region of the provider (Vertex AI calls name their own location)."
  type        = string
  default     = "us-central1"
}

variable "proxy_service_account_id" {
  description = "The account id of the proxy's own service account (the part before @)."
  type        = string
  default     = "vertex-proxy"
}

variable "namespace" {
  description = "The Kubernetes namespace the proxy runs in (config/k8s uses vertex-proxy)."
  type        = string
  default     = "vertex-proxy"
}

variable "kubernetes_service_account" {
  description = "The Kubernetes ServiceAccount the proxy's pods run as (config/k8s uses vertex-proxy)."
  type        = string
  default     = "vertex-proxy"
}

variable "rule_service_accounts" {
  description = <<-EOT
    The service accounts the policy's allow rules name, each with the rules that use it. Generate it from the policy
    so the two never drift: vertex-proxy policy iam policy.yaml --format tfvars > rules.auto.tfvars
  EOT
  type = map(object({
    rules = list(string)
  }))

  validation {
    condition = alltrue([
      for email in keys(var.rule_service_accounts) :
      can(regex("^([a-z0-9][a-z0-9-]{0,62}@[a-z0-9][a-z0-9.-]{0,126}\\.iam|[0-9]{1,20}-compute@developer)\\.gserviceaccount\\.com$", email))
    ])
    error_message = "Every key of rule_service_accounts must be a service account email, as the policy names it."
  }
}

variable "create_rule_service_accounts" {
  description = <<-EOT
    true: create each rule's service account in project_id and grant it the Vertex AI role there (every email must
    then be NAME@<project_id>.iam.gserviceaccount.com). false: the accounts exist and have their roles already
    (other projects, managed elsewhere); only the proxy's token-creator bindings are declared.
  EOT
  type        = bool
  default     = true
}

variable "gemini_only_role" {
  description = <<-EOT
    true: rule service accounts get a custom role holding only aiplatform.endpoints.predict (what generateContent,
    streamGenerateContent and countTokens check) instead of roles/aiplatform.user. Which models stays the policy's
    job: IAM cannot tell one publisher model from another.
  EOT
  type        = bool
  default     = false
}

variable "federation" {
  description = <<-EOT
    How the proxy gets its own Google identity without a key. gke: GKE Workload Identity (the cluster's workload
    pool must be enabled). external: a workload identity pool trusting another cluster's service account tokens.
    none: the proxy runs on Google Cloud as its service account already (a VM, Cloud Run).
  EOT
  type        = string
  default     = "gke"

  validation {
    condition     = contains(["gke", "external", "none"], var.federation)
    error_message = "federation must be gke, external or none."
  }
}

variable "oidc_issuer_uri" {
  description = "federation = external: the cluster's service account token issuer (kubectl get --raw /.well-known/openid-configuration)."
  type        = string
  default     = null
}

variable "oidc_jwks_json" {
  description = "federation = external, for an issuer Google cannot reach: the cluster's JWKS (kubectl get --raw /openid/v1/jwks)."
  type        = string
  default     = null
}

variable "workload_identity_pool_id" {
  description = "federation = external: the pool's id."
  type        = string
  default     = "vertex-proxy"
}

variable "workload_identity_provider_id" {
  description = "federation = external: the OIDC provider's id in the pool."
  type        = string
  default     = "cluster"
}

variable "data_access_logs" {
  description = "Turn on Vertex AI's Data Access audit logs (DATA_READ, DATA_WRITE) so Google records every call too."
  type        = bool
  default     = true
}
