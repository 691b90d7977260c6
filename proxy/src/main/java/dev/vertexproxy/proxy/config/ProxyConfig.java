package dev.vertexproxy.proxy.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The whole of proxy.yaml, validated. An immutable snapshot: reload builds a new one and swaps it in only when it is
 * valid. See {@link ConfigLoader} for the keys.
 */
public record ProxyConfig(
    Listen listen,
    Admin admin,
    Limits limits,
    Upstream upstream,
    IdentityConfig identity,
    PolicySource policy,
    CredentialsConfig credentials,
    AuditConfig audit,
    Logging logging,
    SessionsConfig sessions) {

  /** A config without the proxy as an issuer ({@code sessions} absent). */
  public ProxyConfig(Listen listen, Admin admin, Limits limits, Upstream upstream, IdentityConfig identity,
      PolicySource policy, CredentialsConfig credentials, AuditConfig audit, Logging logging) {
    this(listen, admin, limits, upstream, identity, policy, credentials, audit, logging, null);
  }

  /**
   * {@code listen}: where callers connect; TLS when {@code tls} is set.
   *
   * @param trustedProxies  {@code trusted_proxies}: peers whose forwarded header names the client (empty: nobody's)
   * @param forwardedHeader {@code forwarded_header}: which header those peers write
   */
  public record Listen(InetSocketAddress address, Tls tls, TrustedProxies trustedProxies, ForwardedHeader forwardedHeader) {
    public Listen(InetSocketAddress address, Tls tls) {
      this(address, tls, TrustedProxies.none(), ForwardedHeader.X_FORWARDED_FOR);
    }
  }

  /** {@code listen.forwarded_header}: {@code x-forwarded-for} (the default) or RFC 7239 {@code forwarded}. */
  public enum ForwardedHeader {
    X_FORWARDED_FOR, FORWARDED
  }

  /**
   * {@code logging}: the proxy's own log (not the audit trail).
   *
   * @param format       {@code format}: json, text, or auto (text on a terminal, JSON otherwise, e.g. in a container)
   * @param level        {@code level}: the least severe level written
   * @param accessLog    {@code access_log}: one line per exchange on the {@code vertex_proxy.access} logger
   * @param traceProject the project of {@code logging.googleapis.com/trace} ({@code trace_project}, else the
   *                     {@code GOOGLE_CLOUD_PROJECT} environment variable); {@code null}: no trace field
   */
  public record Logging(LogFormat format, LogLevel level, boolean accessLog, String traceProject) {
    public static Logging defaults() {
      return new Logging(LogFormat.AUTO, LogLevel.INFO, false, null);
    }
  }

  /** {@code logging.format}. */
  public enum LogFormat {
    JSON, TEXT, AUTO
  }

  /** {@code logging.level}. */
  public enum LogLevel {
    TRACE, DEBUG, INFO, WARN, ERROR
  }

  /**
   * {@code listen.tls}: PEM certificate chain and PKCS#8 (or PKCS#1) private key, re-read when their content changes.
   *
   * @param reloadInterval {@code reload_interval}: how often the files are checked; zero: never
   * @param address        {@code address}: a second listener for TLS, so that {@code listen.address} serves plain
   *                       HTTP beside it (dev mode: curl on one, SDKs that insist on https on the other); {@code null}:
   *                       TLS on {@code listen.address}
   */
  public record Tls(Path cert, Path key, Duration reloadInterval, InetSocketAddress address) {
    public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

    public Tls(Path cert, Path key) {
      this(cert, key, DEFAULT_RELOAD_INTERVAL);
    }

    public Tls(Path cert, Path key, Duration reloadInterval) {
      this(cert, key, reloadInterval, null);
    }
  }

  /** {@code admin}: /metrics, /healthz, /readyz; {@code null} address disables it. */
  public record Admin(InetSocketAddress address) {
  }

  /**
   * {@code limits}: bounds on what a caller may send and how long a connection may sit idle.
   *
   * @param maxInitialLineBytes request line (method + URI + version), {@code max_initial_line_bytes}
   * @param maxHeaderBytes      all request headers together, {@code max_header_bytes}
   * @param maxBodyBytes        request body, {@code max_body_bytes}
   * @param idleTimeout         a connection with no traffic either way is closed, {@code idle_timeout}
   * @param requestHeaderTimeout a request whose head has not fully arrived by then is refused, {@code request_header_timeout}
   * @param drainTimeout        on shutdown, in-flight exchanges get this long to finish, {@code drain_timeout}
   * @param maxConnections      concurrent caller connections, {@code max_connections}
   */
  public record Limits(
      int maxInitialLineBytes,
      int maxHeaderBytes,
      long maxBodyBytes,
      Duration idleTimeout,
      Duration requestHeaderTimeout,
      Duration drainTimeout,
      int maxConnections) {
    public static Limits defaults() {
      return new Limits(16 * 1024, 32 * 1024, 64L << 20,
          Duration.ofSeconds(120), Duration.ofSeconds(30), Duration.ofSeconds(30), 10_000);
    }
  }

  /**
   * {@code upstream}: where Vertex is.
   *
   * @param urlTemplate    {@code url_template}, with {@code {location}}; the default derives the host from the location
   *                       as Google does (regional, global, us/eu multi-regions)
   * @param connectTimeout {@code connect_timeout}
   * @param responseTimeout no response byte from Vertex for this long → 504, {@code response_timeout}
   * @param caFile         extra PEM trust anchors for the upstream ({@code ca_file}); system trust otherwise
   * @param maxIdlePerHost pooled idle keep-alive connections per host and event loop, {@code max_idle_per_host}
   */
  public record Upstream(String urlTemplate, Duration connectTimeout, Duration responseTimeout, Path caFile, int maxIdlePerHost) {
    public static final String DEFAULT_TEMPLATE = "https://{location}-aiplatform.googleapis.com";
  }

  /**
   * {@code policy}: the policy file and how it is kept current.
   *
   * @param file           {@code file}
   * @param watch          {@code watch}: reload when the file's directory changes (rename, symlink swap, write)
   * @param checkInterval  {@code check_interval}: how often the file's content hash is checked anyway (missed events)
   * @param explainDenials {@code explain_denials}: how much a 403 from the policy tells the caller
   */
  public record PolicySource(Path file, boolean watch, Duration checkInterval, ExplainDenials explainDenials) {
    public static final Duration DEFAULT_CHECK_INTERVAL = Duration.ofSeconds(10);

    /** A policy file watched and checked as by default, denials explained by reason. */
    public PolicySource(Path file) {
      this(file, true, DEFAULT_CHECK_INTERVAL, ExplainDenials.REASON);
    }
  }

  /**
   * {@code policy.explain_denials}: {@code full} names the closest rule and the claim that differed (a small oracle of
   * the policy for any authenticated caller of a shared issuer); {@code reason} gives the reason code and a fixed
   * sentence; {@code none} says only that the policy denied it. The audit record keeps the full explanation always.
   */
  public enum ExplainDenials {
    FULL, REASON, NONE
  }
}
