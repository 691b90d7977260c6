package dev.vertexproxy.proxy.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.auth.http.HttpTransportFactory;
import com.google.auth.oauth2.ExternalAccountCredentials;
import com.google.auth.oauth2.GdchCredentials;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ImpersonatedCredentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import com.google.auth.oauth2.UserCredentials;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Loads the proxy's own Google identity — the one that impersonates the policy's service accounts — and refuses
 * long-lived service-account keys wherever they hide (the file itself, ADC, or the source of an impersonated
 * credential file): this product exists so that nobody ships keys. Loading never fetches a token.
 */
final class SourceCredentials {
  private static final Set<String> KEY_TYPES = Set.of("service_account", "gdch_service_account");
  private static final String KEYLESS_ALTERNATIVES = "use workload identity federation (an external_account file),"
      + " an impersonated_service_account file, or the ambient identity (metadata server / ADC without a key)";

  private SourceCredentials() {
  }

  static GoogleCredentials load(CredentialsConfig config, HttpTransportFactory transport) throws IOException {
    Path file = config.sourceCredentialsFile();
    GoogleCredentials credentials;
    String origin;
    if (file != null) {
      origin = "credentials.source_credentials_file: " + file;
      byte[] json = Files.readAllBytes(file);
      String type = declaredType(json, origin);
      if (KEY_TYPES.contains(type)) {
        throw refusedKey(origin, type);
      }
      credentials = fromStream(type, json, transport, origin);
    } else {
      origin = "Application Default Credentials";
      credentials = GoogleCredentials.getApplicationDefault(transport);
    }
    refuseKeys(credentials, origin);
    if (credentials.createScopedRequired()) {
      // Impersonation (IAM Credentials) needs a cloud-platform source token.
      credentials = credentials.createScoped(List.of(CredentialsConfig.CLOUD_PLATFORM_SCOPE));
    }
    return credentials;
  }

  /**
   * The file as the credential type it declares, read by that type's own {@code fromStream} (the generic
   * {@code GoogleCredentials.fromStream} is deprecated: it accepts whatever the file says, keys included).
   */
  private static GoogleCredentials fromStream(String type, byte[] json, HttpTransportFactory transport, String origin)
      throws IOException {
    ByteArrayInputStream in = new ByteArrayInputStream(json);
    return switch (type) {
      case "external_account" -> ExternalAccountCredentials.fromStream(in, transport);
      case "impersonated_service_account" -> ImpersonatedCredentials.fromStream(in, transport);
      case "authorized_user" -> UserCredentials.fromStream(in, transport);
      default -> throw new IllegalArgumentException(origin + " declares type \"" + type + "\" (expected: external_account,"
          + " impersonated_service_account or authorized_user)");
    };
  }

  private static void refuseKeys(GoogleCredentials credentials, String origin) {
    GoogleCredentials current = credentials;
    while (current != null) {
      if (current instanceof ServiceAccountCredentials) {
        throw refusedKey(origin, "service_account");
      }
      if (current instanceof GdchCredentials) {
        throw refusedKey(origin, "gdch_service_account");
      }
      current = current instanceof ImpersonatedCredentials
          ? ((ImpersonatedCredentials) current).getSourceCredentials()
          : null;
    }
  }

  private static String declaredType(byte[] json, String origin) {
    try {
      JsonNode root = new ObjectMapper().readTree(json);
      JsonNode type = root == null ? null : root.get("type");
      if (type == null || !type.isTextual()) {
        throw new IllegalArgumentException(origin + " has no \"type\" (expected: a Google credential JSON file)");
      }
      return type.asText();
    } catch (IOException e) {
      // Deliberately without the parser's message: it may quote file content, and credential files hold secrets.
      throw new IllegalArgumentException(origin + " is not valid JSON (expected: a Google credential JSON file)");
    }
  }

  private static IllegalArgumentException refusedKey(String origin, String type) {
    return new IllegalArgumentException(origin + " is a service-account key (type " + type
        + "); vertex-proxy refuses long-lived keys: " + KEYLESS_ALTERNATIVES);
  }
}
