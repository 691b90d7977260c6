package dev.vertexproxy.proxy.login.page;

import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /_proxy/static/page.css} and {@code page.js}: the pages' only stylesheet and script, read from the jar
 * once at start, so serving them touches no file. No external asset exists: the CSP allows only these. Immutable.
 */
public final class StaticAssets implements ReservedEndpoint {
  /** The paths served, for the one place that registers reserved routes. */
  public static final String CSS_PATH = "/_proxy/static/page.css";
  /** The script's path. */
  public static final String JS_PATH = "/_proxy/static/page.js";

  private final String contentType;
  private final String body;

  private StaticAssets(String contentType, String resource) {
    this.contentType = contentType;
    try (InputStream in = StaticAssets.class.getResourceAsStream("/dev/vertexproxy/proxy/login/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("the jar has no " + resource);
      }
      this.body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The stylesheet. */
  public static StaticAssets css() {
    return new StaticAssets("text/css; charset=utf-8", "page.css");
  }

  /** The copy-button script. */
  public static StaticAssets js() {
    return new StaticAssets("text/javascript; charset=utf-8", "page.js");
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    return CompletableFuture.completedFuture(ReservedResponse.status(200).body(contentType, body)
        .reason(Reason.SERVED).auditMethod("proxy.static"));
  }
}
