output "proxy_service_account" {
  description = "The proxy's own service account: the member of every token-creator binding."
  value       = google_service_account.proxy.email
}

output "rule_service_accounts" {
  description = "Each rule service account with the rules that use it."
  value       = { for email, sa in var.rule_service_accounts : email => sa.rules }
}

output "kubernetes_service_account_annotation" {
  description = "federation = gke: the annotation the proxy's Kubernetes ServiceAccount needs."
  value       = var.federation == "gke" ? { "iam.gke.io/gcp-service-account" = google_service_account.proxy.email } : null
}

output "workload_identity_provider" {
  description = "federation = external: the provider's full name, the audience of the projected token."
  value       = one(google_iam_workload_identity_pool_provider.cluster[*].name)
}

output "create_cred_config_command" {
  description = "federation = external: writes the external_account file proxy.yaml's credentials.source_credentials names."
  value = length(google_iam_workload_identity_pool_provider.cluster) == 0 ? null : join(" ", [
    "gcloud iam workload-identity-pools create-cred-config",
    one(google_iam_workload_identity_pool_provider.cluster[*].name),
    "--service-account=${google_service_account.proxy.email}",
    "--credential-source-file=/var/run/secrets/vertex-proxy/google/token",
    "--output-file=external-account.json",
  ])
}
