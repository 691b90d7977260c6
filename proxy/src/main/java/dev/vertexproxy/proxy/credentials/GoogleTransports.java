package dev.vertexproxy.proxy.credentials;

import com.google.api.client.http.javanet.NetHttpTransport;
import com.google.auth.http.HttpTransportFactory;
import dev.vertexproxy.proxy.config.CredentialsConfig;
import dev.vertexproxy.proxy.upstream.TrustAnchors;
import java.io.IOException;
import java.security.GeneralSecurityException;

/**
 * The HTTP transport google-auth-library talks to STS and IAM Credentials over: the JDK's, trusting the system's
 * anchors plus {@code credentials.ca_file} when set. Built once; the transport is thread-safe and shared.
 */
public final class GoogleTransports {
  private GoogleTransports() {
  }

  /** The transport {@code config} asks for. */
  public static HttpTransportFactory forConfig(CredentialsConfig config) throws IOException {
    if (config.caFile() == null) {
      NetHttpTransport transport = new NetHttpTransport();
      return () -> transport;
    }
    try {
      NetHttpTransport transport = new NetHttpTransport.Builder()
          .trustCertificates(TrustAnchors.systemPlusStore(config.caFile())).build();
      return () -> transport;
    } catch (GeneralSecurityException e) {
      throw new IOException("credentials.ca_file: " + config.caFile() + ": " + e.getMessage(), e);
    }
  }
}
