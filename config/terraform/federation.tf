# GKE Workload Identity: the proxy's Kubernetes ServiceAccount acts as the proxy's Google service account. The
# ServiceAccount also needs the annotation iam.gke.io/gcp-service-account = the proxy's email (output
# kubernetes_service_account_annotation; config/k8s sets it).
resource "google_service_account_iam_member" "gke_workload_identity" {
  count = var.federation == "gke" ? 1 : 0

  service_account_id = google_service_account.proxy.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${var.kubernetes_service_account}]"
}

# Outside Google Cloud: a pool that trusts the cluster's service account tokens, for the proxy's ServiceAccount only.
resource "google_iam_workload_identity_pool" "proxy" {
  count = var.federation == "external" ? 1 : 0

  project                   = var.project_id
  workload_identity_pool_id = var.workload_identity_pool_id
  display_name              = "vertex-proxy"
  description               = "The vertex-proxy's Kubernetes ServiceAccount, from a cluster outside Google Cloud."

  depends_on = [google_project_service.required]
}

resource "google_iam_workload_identity_pool_provider" "cluster" {
  count = var.federation == "external" ? 1 : 0

  project                            = var.project_id
  workload_identity_pool_id          = google_iam_workload_identity_pool.proxy[0].workload_identity_pool_id
  workload_identity_pool_provider_id = var.workload_identity_provider_id
  display_name                       = "cluster"

  attribute_mapping = {
    "google.subject" = "assertion.sub"
  }
  # Every other ServiceAccount of the cluster (any pod's token) is refused at the token exchange.
  attribute_condition = "assertion.sub == 'system:serviceaccount:${var.namespace}:${var.kubernetes_service_account}'"

  oidc {
    issuer_uri = var.oidc_issuer_uri
    jwks_json  = var.oidc_jwks_json
  }

  lifecycle {
    precondition {
      condition     = var.oidc_issuer_uri != null
      error_message = "federation = external needs oidc_issuer_uri, the cluster's service account token issuer."
    }
  }
}

# The federated ServiceAccount may act as the proxy's service account (the external_account file names it).
resource "google_service_account_iam_member" "external_workload_identity" {
  count = var.federation == "external" ? 1 : 0

  service_account_id = google_service_account.proxy.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principal://iam.googleapis.com/${google_iam_workload_identity_pool.proxy[0].name}/subject/system:serviceaccount:${var.namespace}:${var.kubernetes_service_account}"
}
