"""Gemini on Vertex AI through vertex-proxy from a GitLab CI job, with the Gen AI SDK for Python (google-genai).

The job's ID token is the SDK's credential, good until the token's own exp.

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

from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials


def job_token_credentials(id_token):
    """The job's ID token as a credential that is good until the token's own expiry (its exp claim)."""
    # No need to check the signature here: the proxy does.
    payload = id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # google-auth compares expiry with naive UTC datetimes.
    expiry = datetime.datetime.fromtimestamp(claims["exp"], datetime.timezone.utc).replace(tzinfo=None)
    return Credentials(token=id_token, expiry=expiry)


client = genai.Client(
    vertexai=True,
    project=os.environ["GOOGLE_CLOUD_PROJECT"],
    location=os.environ["GOOGLE_CLOUD_LOCATION"],
    credentials=job_token_credentials(os.environ["VERTEX_PROXY_TOKEN"]),
    http_options=types.HttpOptions(base_url=os.environ["VERTEX_PROXY_URL"]),
)
response = client.models.generate_content(model="gemini-2.0-flash", contents="Hello from GitLab CI")
print(response.text)
# [END gitlab_ci_doc]
