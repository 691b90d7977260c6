// Gemini on Vertex AI through vertex-proxy with no credential code, with the Gen AI SDK for Node (@google/genai):
// Application Default Credentials load the external_account file `vertex-proxy adc` wrote, whose token exchange is
// the proxy's; the base URL, project and location come from the environment.
//
// Environment: GOOGLE_APPLICATION_CREDENTIALS (the file), GOOGLE_GENAI_USE_VERTEXAI=true, GOOGLE_VERTEX_BASE_URL (the
// proxy), GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_LOCATION; NODE_EXTRA_CA_CERTS when the proxy's CA is a private one.
//
// docs/gitlab-ci.md shows the code between the START and END markers; a test keeps the two identical, and the proxy's
// end-to-end tests run this file against `vertex-proxy dev`.

// [START gitlab_ci_doc]
import { GoogleGenAI } from '@google/genai';

const ai = new GoogleGenAI({});
const response = await ai.models.generateContent({ model: 'gemini-2.0-flash', contents: 'Hello from GitLab CI' });
console.log(response.text);
// [END gitlab_ci_doc]
