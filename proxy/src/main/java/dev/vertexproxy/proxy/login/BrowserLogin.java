package dev.vertexproxy.proxy.login;

import dev.vertexproxy.proxy.config.IssuerConfig;
import dev.vertexproxy.proxy.identity.TokenVerifier;
import dev.vertexproxy.proxy.login.page.Html;
import dev.vertexproxy.proxy.reason.Reason;
import dev.vertexproxy.proxy.reserved.ReservedEndpoint;
import dev.vertexproxy.proxy.reserved.ReservedRequest;
import dev.vertexproxy.proxy.reserved.ReservedResponse;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;

/**
 * The browser login, {@code GET /_proxy/login}: OpenID Connect's authorization-code flow with PKCE (S256) against the
 * IdP of an issuer that has {@code login:} settings, found through its discovery document. This half starts an
 * attempt — fresh {@code state}, {@code nonce} and {@code code_verifier}, sealed into a ten-minute cookie
 * ({@link LoginStateCookie}) — and sends the browser to the IdP; {@link BrowserLoginCallback} finishes it.
 *
 * <p>{@code ?issuer=NAME} picks the IdP when several issuers have {@code login:} (one: no choice; several and none
 * named: a page to choose). {@code ?next=} is where the browser lands afterwards: only a path under {@code /_proxy/}
 * is honoured, anything else lands on {@code /_proxy/}, so the login cannot be turned into an open redirect. Never
 * blocks: the discovery document is fetched on the blocking executor and cached. Thread-safe.
 */
public final class BrowserLogin implements ReservedEndpoint {
  /** Where a browser login starts. */
  public static final String LOGIN_PATH = "/_proxy/login";
  /** Where the page's logout form posts. */
  public static final String LOGOUT_PATH = "/_proxy/logout";
  /** The path of the login's own callback, under the proxy's issuer URL: the {@code redirect_uri} sent to every IdP. */
  public static final String CALLBACK_PATH = "/_proxy/callback";
  /** Where a login lands when {@code next} is absent or refused. */
  public static final String HOME = "/_proxy/";
  static final String AUDIT_METHOD = "proxy.login";

  final SessionIssuer issuer;
  final TokenVerifier verifier;
  final Map<String, IssuerConfig> issuers;
  final ProviderMetadata.Source metadata;
  final LoginStateCookie stateCookie;
  final LoginStateReplays replays;
  final HttpClient http;
  final Executor blocking;

  /**
   * @param loginIssuers the configured issuers that have {@code login:} settings, in file order
   * @param http the client for the IdPs' discovery documents and token endpoints; {@code blocking} runs every call
   */
  public BrowserLogin(SessionIssuer issuer, TokenVerifier verifier, List<IssuerConfig> loginIssuers, HttpClient http,
      Executor blocking, Clock clock) {
    this.issuer = issuer;
    this.verifier = verifier;
    Map<String, IssuerConfig> byName = new LinkedHashMap<>();
    for (IssuerConfig c : loginIssuers) {
      if (c.login() == null) {
        throw new IllegalArgumentException("issuer '" + c.name() + "' has no login settings");
      }
      byName.put(c.name(), c);
    }
    this.issuers = Map.copyOf(byName);
    this.metadata = new ProviderMetadata.Source(http, blocking, clock);
    this.stateCookie = new LoginStateCookie(issuer.secret("login-state"), issuer.url().startsWith("https://"));
    this.replays = new LoginStateReplays(100_000);
    this.http = http;
    this.blocking = blocking;
  }

  /**
   * The login for the proxy of {@code ctx}: every configured issuer with {@code login:} settings, and one HTTP client
   * (HTTP/1.1, no redirects followed, its work on the blocking executor) for their discovery documents and token
   * endpoints.
   */
  public static BrowserLogin create(LoginContext ctx) {
    List<IssuerConfig> withLogin = ctx.config().identity().issuers().stream().filter(i -> i.login() != null).toList();
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(IDP_TIMEOUT).executor(ctx.blocking()).build();
    return new BrowserLogin(ctx.issuer(), ctx.verifier(), withLogin, http, ctx.blocking(), ctx.clock());
  }

  /** The client timeout for every call to an IdP. */
  static final Duration IDP_TIMEOUT = Duration.ofSeconds(10);

  /** The {@code redirect_uri} every IdP must have registered for the proxy's client. */
  public String redirectUri() {
    return issuer.url() + CALLBACK_PATH;
  }

  /** The callback endpoint that finishes what this one starts. */
  public ReservedEndpoint callback() {
    return new BrowserLoginCallback(this);
  }

  @Override
  public CompletionStage<ReservedResponse> handle(ReservedRequest request) {
    String next = safeNext(ReservedRequest.first(request.query(), "next").orElse(null));
    Optional<String> named = ReservedRequest.first(request.query(), "issuer");
    IssuerConfig chosen;
    if (named.isPresent()) {
      chosen = issuers.get(named.get());
      if (chosen == null) {
        return done(page(request, 400, Reason.REQUEST_MALFORMED, "Unknown login issuer",
            "No issuer with login settings is named '" + named.get() + "'."));
      }
    } else if (issuers.size() == 1) {
      chosen = issuers.values().iterator().next();
    } else if (issuers.isEmpty()) {
      return done(page(request, 404, Reason.ROUTE_NOT_FOUND, "No login here",
          "No issuer of this proxy has login settings."));
    } else {
      return done(chooser(next));
    }
    IssuerConfig target = chosen;
    return metadata.get(target.issuer()).handle((m, err) -> {
      if (err != null) {
        return page(request, 503, Reason.LOGIN_UNAVAILABLE, "Login unavailable",
            "The identity provider of '" + target.name() + "' could not be reached. Try again in a moment.");
      }
      LoginState attempt = LoginState.start(target.name(), next, request.now().plus(LoginStateCookie.LIFETIME));
      return ReservedResponse.redirect(authorizationUrl(m, target, attempt))
          .header("Set-Cookie", stateCookie.setCookie(attempt, request.now()))
          .reason(Reason.SERVED).auditMethod(AUDIT_METHOD);
    });
  }

  String authorizationUrl(ProviderMetadata m, IssuerConfig target, LoginState attempt) {
    Map<String, String> q = new LinkedHashMap<>();
    q.put("response_type", "code");
    q.put("client_id", target.login().clientId());
    q.put("redirect_uri", redirectUri());
    q.put("scope", String.join(" ", ProviderMetadata.scopes(target.login().scopes())));
    q.put("state", attempt.state());
    q.put("nonce", attempt.nonce());
    q.put("code_challenge", attempt.codeChallenge());
    q.put("code_challenge_method", "S256");
    String base = m.authorizationEndpoint().toString();
    return base + (base.contains("?") ? "&" : "?") + form(q);
  }

  private ReservedResponse chooser(String next) {
    StringBuilder b = new StringBuilder("<section id=\"choose\"><h1>Log in with</h1><ul>");
    for (IssuerConfig c : issuers.values()) {
      b.append("<li><a href=\"/_proxy/login?issuer=").append(Html.text(URLEncoder.encode(c.name(), StandardCharsets.UTF_8)))
          .append("&amp;next=").append(Html.text(URLEncoder.encode(next, StandardCharsets.UTF_8))).append("\">")
          .append(Html.text(c.name())).append("</a> <span class=\"meta\">").append(Html.text(c.issuer()))
          .append("</span></li>");
    }
    b.append("</ul></section>");
    return htmlPage(ReservedResponse.status(200), Html.page("Log in", b.toString(), false))
        .reason(Reason.SERVED).auditMethod(AUDIT_METHOD);
  }

  /**
   * {@code next} when it is a plain path under {@code /_proxy/}, optionally with a simple query (a device approval
   * page's {@code ?user_code=…}); {@link #HOME} otherwise. Refused: absolute and scheme-relative URLs, backslashes
   * (browsers read {@code /\evil} as {@code //evil}), control characters, dot segments, fragments, and any character
   * beyond letters, digits and {@code -_.~} in the path (plus {@code =&%+} in the query).
   */
  public static String safeNext(String next) {
    if (next == null || !next.startsWith(HOME) || next.length() > 512) {
      return HOME;
    }
    int q = next.indexOf('?');
    String path = q < 0 ? next : next.substring(0, q);
    String query = q < 0 ? "" : next.substring(q + 1);
    if (!only(path, "/-_.~") || !only(query, "-_.~=&%+")) {
      return HOME;
    }
    if (path.contains("//") || path.contains("/./") || path.contains("/../") || path.endsWith("/..")
        || path.endsWith("/.")) {
      return HOME;
    }
    return next;
  }

  private static boolean only(String s, String punctuation) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || punctuation.indexOf(c) >= 0;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** An HTML error or notice page with the given status and audit reason. */
  static ReservedResponse page(ReservedRequest request, int status, Reason reason, String heading, String message) {
    return htmlPage(ReservedResponse.status(status), Html.errorPage(heading, message, reason.code(), request.requestId()))
        .reason(reason).auditMethod(AUDIT_METHOD);
  }

  /** {@code html} with the pages' CSP, which lets the proxy's own stylesheet and script load. */
  public static ReservedResponse htmlPage(ReservedResponse response, String html) {
    return response.header("Content-Security-Policy", Html.CSP).html(html);
  }

  static CompletionStage<ReservedResponse> done(ReservedResponse response) {
    return CompletableFuture.completedFuture(response);
  }

  static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
            + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }
}
