locals {
  services = [
    "aiplatform.googleapis.com",     # Vertex AI itself
    "iamcredentials.googleapis.com", # generateAccessToken: the proxy impersonating each rule's service account
    "iam.googleapis.com",            # service accounts, custom roles, workload identity pools
    "sts.googleapis.com",            # token exchange for workload identity federation
  ]

  # The accounts this module creates by their resource name (so the bindings wait for them); the others as
  # "projects/-/...": IAM infers the project from the email, so accounts in other projects work too.
  rule_sa_resource = merge(
    { for email in keys(var.rule_service_accounts) : email => "projects/-/serviceAccounts/${email}" },
    { for email, sa in google_service_account.rule : email => sa.name },
  )
}

resource "google_project_service" "required" {
  for_each = toset(local.services)

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false # other workloads may need them too
}

# The proxy's own identity. It holds no role on the project: all it may do is mint tokens for the rule service
# accounts below, one binding each.
resource "google_service_account" "proxy" {
  project      = var.project_id
  account_id   = var.proxy_service_account_id
  display_name = "vertex-proxy"
  description  = "The vertex-proxy's own identity: impersonates the service accounts its policy's rules name."

  depends_on = [google_project_service.required]
}

resource "google_service_account" "rule" {
  for_each = var.create_rule_service_accounts ? var.rule_service_accounts : {}

  project      = var.project_id
  account_id   = split("@", each.key)[0]
  display_name = substr("vertex-proxy rules: ${join(", ", each.value.rules)}", 0, 100) # the API's limit

  lifecycle {
    precondition {
      condition     = endswith(each.key, "@${var.project_id}.iam.gserviceaccount.com")
      error_message = "${each.key} is not in project ${var.project_id}: set create_rule_service_accounts = false and manage it where it lives."
    }
  }
}

resource "google_project_iam_custom_role" "gemini_only" {
  count = var.gemini_only_role ? 1 : 0

  project     = var.project_id
  role_id     = "geminiOnly"
  title       = "Gemini only"
  description = "Prompt requests to Vertex AI models (generateContent, streamGenerateContent, countTokens) and nothing else."
  permissions = ["aiplatform.endpoints.predict"]

  depends_on = [google_project_service.required]
}

# What each rule's service account may do in Vertex AI. The policy narrows it further (methods, locations, models).
resource "google_project_iam_member" "rule_vertex" {
  for_each = var.create_rule_service_accounts ? var.rule_service_accounts : {}

  project = var.project_id
  role    = var.gemini_only_role ? one(google_project_iam_custom_role.gemini_only[*].id) : "roles/aiplatform.user"
  member  = "serviceAccount:${google_service_account.rule[each.key].email}"
}

# The proxy may mint tokens for this one service account. Bound on the service account, not the project: a
# project-level token creator could impersonate every service account in the project, present and future.
resource "google_service_account_iam_member" "proxy_token_creator" {
  for_each = var.rule_service_accounts

  service_account_id = local.rule_sa_resource[each.key]
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "serviceAccount:${google_service_account.proxy.email}"
}

resource "google_project_iam_audit_config" "vertex" {
  count = var.data_access_logs ? 1 : 0

  project = var.project_id
  service = "aiplatform.googleapis.com"

  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}
