package dev.vertexproxy.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.genai.Client;
import com.google.genai.types.HttpOptions;
import java.io.IOException;
import java.util.Base64;
import java.util.Date;
import java.util.Map;

/**
 * Gemini on Vertex AI through vertex-proxy from a GitLab CI job, with the Gen AI Java SDK: the job's ID token is the
 * SDK's credential, good until the token's own {@code exp}.
 *
 * <p>Environment: {@code VERTEX_PROXY_URL}, {@code VERTEX_PROXY_TOKEN} (the job's {@code id_tokens:} variable),
 * {@code GOOGLE_CLOUD_PROJECT}, {@code GOOGLE_CLOUD_LOCATION}.
 *
 * <p>docs/gitlab-ci.md shows the code between the START and END markers; a test keeps the two identical, and the
 * proxy's end-to-end tests run this class against {@code vertex-proxy dev}.
 */
public final class GenAiThroughProxy {
  private GenAiThroughProxy() {}

  public static void main(String[] args) throws IOException {
    System.out.println(generate(System.getenv(), "Hello from GitLab CI"));
  }

  // [START gitlab_ci_doc]
  /** The job's ID token as a credential that is good until the token's own expiry (its exp claim). */
  public static GoogleCredentials jobTokenCredentials(String idToken) throws IOException {
    // No need to check the signature here: the proxy does.
    byte[] claims = Base64.getUrlDecoder().decode(idToken.split("\\.")[1]);
    long exp = new ObjectMapper().readTree(claims).get("exp").asLong();
    return GoogleCredentials.create(new AccessToken(idToken, new Date(exp * 1000)));
  }

  public static Client client(Map<String, String> env, GoogleCredentials credentials) {
    return Client.builder()
        .vertexAI(true)
        .project(env.get("GOOGLE_CLOUD_PROJECT"))
        .location(env.get("GOOGLE_CLOUD_LOCATION"))
        .credentials(credentials)
        .httpOptions(HttpOptions.builder().baseUrl(env.get("VERTEX_PROXY_URL")).build())
        .build();
  }

  public static String generate(Map<String, String> env, String prompt) throws IOException {
    try (Client client = client(env, jobTokenCredentials(env.get("VERTEX_PROXY_TOKEN")))) {
      return client.models.generateContent("gemini-2.0-flash", prompt, null).text();
    }
  }
  // [END gitlab_ci_doc]
}
