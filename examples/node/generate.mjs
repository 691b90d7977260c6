// Gemini on Vertex AI through vertex-proxy from a GitLab CI job, with the Gen AI SDK for Node (@google/genai): the
// job's ID token is the SDK's credential, good until the token's own exp.
//
// Environment: VERTEX_PROXY_URL, VERTEX_PROXY_TOKEN (the job's id_tokens: variable), GOOGLE_CLOUD_PROJECT,
// GOOGLE_CLOUD_LOCATION, and METADATA_SERVER_DETECTION=none so that google-auth-library never probes for a GCE
// metadata server.
//
// docs/gitlab-ci.md shows the code between the START and END markers; a test keeps the two identical, and the proxy's
// end-to-end tests run this file against `vertex-proxy dev`.

// [START gitlab_ci_doc]
import { GoogleGenAI } from '@google/genai';
import { OAuth2Client } from 'google-auth-library';

// The job's ID token as a credential that is good until the token's own expiry (its exp claim).
// No need to check the signature here: the proxy does.
const idToken = process.env.VERTEX_PROXY_TOKEN;
const { exp } = JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString());
const jobToken = new OAuth2Client();
jobToken.setCredentials({ access_token: idToken, expiry_date: exp * 1000 });

const ai = new GoogleGenAI({
  vertexai: true,
  project: process.env.GOOGLE_CLOUD_PROJECT,
  location: process.env.GOOGLE_CLOUD_LOCATION,
  googleAuthOptions: { authClient: jobToken },
  httpOptions: { baseUrl: process.env.VERTEX_PROXY_URL },
});

const response = await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Hello from GitLab CI' });
console.log(response.text);
// [END gitlab_ci_doc]
