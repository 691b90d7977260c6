# The Google side of vertex-proxy: the APIs, the proxy's own service account, one service account per policy rule,
# the proxy's right to mint tokens for each of them, the proxy's keyless identity (GKE Workload Identity or workload
# identity federation from another cluster) and Vertex AI's Data Access audit logs. docs/google-setup.md walks
# through the same steps as gcloud commands; a test keeps the two declaring the same bindings.
terraform {
  required_version = ">= 1.3"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 5.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
