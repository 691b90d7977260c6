"""Gemini on Vertex AI through vertex-proxy from a GitLab CI job, with the Vertex AI SDK for Python (vertexai).

The job's ID token is the SDK's credential, good until the token's own exp. The proxy speaks HTTP/1.1 REST, so the
SDK must use api_transport="rest" (its default is gRPC).

Environment: VERTEX_PROXY_URL, VERTEX_PROXY_TOKEN (the job's id_tokens: variable), GOOGLE_CLOUD_PROJECT,
GOOGLE_CLOUD_LOCATION.

docs/gitlab-ci.md shows the code between the START and END markers; a test keeps the two identical and compiles
this file.
"""

# [START gitlab_ci_doc]
import base64
import datetime
import json
import os

import vertexai
from google.oauth2.credentials import Credentials
from vertexai.generative_models import GenerativeModel


def job_token_credentials(id_token):
    """The job's ID token as a credential that is good until the token's own expiry (its exp claim)."""
    # No need to check the signature here: the proxy does.
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # google-auth compares expiry with naive UTC datetimes.
    expiry = datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc).replace(tzinfo=None)
    return Credentials(token=id_token, expiry=expiry)


vertexai.init(
    project=os.environ["GOOGLE_CLOUD_PROJECT"],
    location=os.environ["GOOGLE_CLOUD_LOCATION"],
    credentials=job_token_credentials(os.environ["VERTEX_PROXY_TOKEN"]),
    api_endpoint=os.environ["VERTEX_PROXY_URL"],
    api_transport="rest",
)
response = GenerativeModel("gemini-2.0-flash").generate_content("Hello from GitLab CI")
print(response.text)
# [END gitlab_ci_doc]
