package dev.vertexproxy.examples;

import com.google.genai.Client;
import com.google.genai.ResponseStream;
import com.google.genai.types.GenerateContentResponse;

/**
 * Gemini on Vertex AI through vertex-proxy with no credential code at all: the Gen AI SDK's own defaults. Application
 * Default Credentials load the {@code external_account} file {@code vertex-proxy adc} wrote, whose token exchange is the
 * proxy's; the base URL, project and location come from the environment.
 *
 * <p>Environment: {@code GOOGLE_APPLICATION_CREDENTIALS} (the file), {@code GOOGLE_GENAI_USE_VERTEXAI=true},
 * {@code GOOGLE_VERTEX_BASE_URL} (the proxy), {@code GOOGLE_CLOUD_PROJECT}, {@code GOOGLE_CLOUD_LOCATION}.
 *
 * <p>docs/gitlab-ci.md shows the code between the START and END markers; a test keeps the two identical, and the
 * proxy's end-to-end tests run the guide's recipe with this program against {@code vertex-proxy dev}.
 */
public final class GenAiWithAdc {
  private GenAiWithAdc() {}

  public static void main(String[] args) {
    String prompt = args.length > 0 ? args[0] : "Hello from GitLab CI";
    // [START gitlab_ci_doc]
    try (Client client = new Client()) {
      GenerateContentResponse answer = client.models.generateContent("gemini-2.0-flash", prompt, null);
      System.out.println(answer.text());
      try (ResponseStream<GenerateContentResponse> stream =
          client.models.generateContentStream("gemini-2.0-flash", prompt + " (streamed)", null)) {
        for (GenerateContentResponse chunk : stream) {
          System.out.println(chunk.text());
        }
      }
    }
    // [END gitlab_ci_doc]
  }
}
