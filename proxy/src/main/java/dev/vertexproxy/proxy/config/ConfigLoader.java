package dev.vertexproxy.proxy.config;

import dev.vertexproxy.policy.yaml.DeclaredKeys;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.policy.yaml.YamlMap;
import dev.vertexproxy.policy.yaml.YamlReader;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads proxy.yaml into a {@link ProxyConfig}: snake_case keys, {@code ${ENV}} and {@code ${ENV:-default}}
 * substitution in values, unknown keys are errors, and every problem is reported at once with file, line and key,
 * e.g. {@code proxy.yaml:3:12: listen.address: "0.0.0.0:70000" (expected: host:port with port 0..65535)}.
 * Relative paths resolve against the config file's directory.
 *
 * <p>Everything that can be known from the file alone is checked here, so {@code serve --check} finds it with a line
 * number: the components built from the config later ({@link CredentialsConfig}'s constructor, the token verifier)
 * keep their own checks only as assertions. What needs the world (a readable TLS key, a reachable issuer, a usable
 * credentials file) is checked when the proxy starts. The strictness itself (declared keys, no anchors or tags, no
 * empty values) is {@link YamlReader}'s, shared with the policy. Stateless and thread-safe.
 */
public final class ConfigLoader {
  static final Set<String> ASYMMETRIC_ALGORITHMS = Set.of(
      "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");

  /**
   * Every mapping of proxy.yaml and its keys: what the loader accepts and what {@code config/schema/proxy.schema.json}
   * must document, in the same order (ConfigSchemaTest compares them).
   */
  public static final DeclaredKeys KEYS = DeclaredKeys.builder()
      .mapping("", "listen", "admin", "limits", "upstream", "identity", "policy", "credentials", "audit",
          "logging", "sessions")
      .mapping("listen", "address", "tls", "trusted_proxies", "forwarded_header")
      .mapping("listen.tls", "cert", "key", "reload_interval", "address")
      .mapping("admin", "enabled", "address")
      .mapping("limits", "max_initial_line_bytes", "max_header_bytes", "max_body_bytes", "idle_timeout",
          "request_header_timeout", "drain_timeout", "max_connections")
      .mapping("upstream", "url_template", "connect_timeout", "response_timeout", "ca_file", "max_idle_per_host")
      .mapping("identity", "issuers", "clock_skew", "max_token_bytes", "jwks_refresh_min_interval", "jwks_cache_ttl",
          "verified_token_cache_size")
      .mapping("identity.issuers[]", "name", "issuer", "audiences", "algorithms", "jwks_uri", "shared",
          "max_token_lifetime", "login")
      .mapping("identity.issuers[].login", "client_id", "client_secret_file", "client_secret_env", "scopes")
      .mapping("policy", "file", "watch", "check_interval", "explain_denials")
      .mapping("credentials", "mode", "source_credentials", "iam_endpoint", "sts", "scopes", "lifetime",
          "refresh_before", "delegates", "ca_file", "fetch_timeout")
      .mapping("credentials.sts", "audience", "token_url")
      .mapping("audit", "dir", "chain_id", "durability", "on_failure", "rotate", "retention", "checkpoint", "capture",
          "stdout")
      .mapping("audit.rotate", "max_bytes", "max_age")
      .mapping("audit.retention", "max_age", "max_total_bytes")
      .mapping("audit.checkpoint", "key_file", "interval", "external")
      .mapping("audit.checkpoint.external", "file", "stdout")
      .mapping("audit.capture", "body_sha256", "bodies")
      .mapping("audit.capture.bodies", "methods", "max_bytes")
      .mapping("logging", "format", "level", "access_log", "trace_project")
      .mapping("sessions", "issuer", "lifetime", "access_token_lifetime", "signing_keys_dir", "signing_key_file",
          "algorithm", "rotation_interval", "claims", "revocations_file")
      .build();

  private static final Duration NO_LIMIT = ChronoUnit.FOREVER.getDuration();
  private static final Duration POSITIVE = Duration.ofMillis(1);

  private final Function<String, String> env;

  public ConfigLoader() {
    this(System::getenv);
  }

  public ConfigLoader(Function<String, String> env) {
    this.env = env;
  }

  public ProxyConfig load(Path file) throws ConfigException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(List.of(Problem.ofFile(file.toString(), "cannot read: " + e.getMessage())));
    }
    Path base = file.toAbsolutePath().getParent();
    return parse(text, file.getFileName().toString(), base);
  }

  public ProxyConfig parse(String yaml, String sourceName, Path baseDir) throws ConfigException {
    YamlReader reader = new YamlReader(sourceName, env);
    Node root = reader.read(yaml);
    YamlMap top = root == null ? null : reader.map(root, "", "", KEYS);
    if (top == null) {
      throw new ConfigException(reader.problems());
    }
    ProxyConfig.Listen listen = listen(top.map("listen"), top, baseDir, reader);
    ProxyConfig.Admin admin = admin(top.map("admin"));
    ProxyConfig.Limits limits = limits(top.map("limits"));
    ProxyConfig.Upstream upstream = upstream(top.map("upstream"), baseDir);
    IdentityConfig identity = identity(top.map("identity"), top, reader, baseDir);
    ProxyConfig.PolicySource policy = policy(top.map("policy"), top, baseDir);
    CredentialsConfig credentials = CredentialsConfigReader.credentials(top.map("credentials"), baseDir, reader);
    AuditConfig audit = AuditConfigReader.audit(top.map("audit"), top, baseDir);
    ProxyConfig.Logging logging = logging(top.map("logging"));
    SessionsConfig sessions = SessionsConfigReader.sessions(top.map("sessions"), baseDir,
        identity == null ? List.of() : identity.issuers(), top);
    if (!reader.problems().isEmpty()) {
      throw new ConfigException(reader.problems());
    }
    return new ProxyConfig(listen, admin, limits, upstream, identity, policy, credentials, audit, logging, sessions);
  }

  private static ProxyConfig.Listen listen(YamlMap n, YamlMap top, Path base, YamlReader reader) {
    if (n == null) {
      if (!top.has("listen")) {
        top.problem("listen", "required (e.g. listen: { address: 0.0.0.0:8443, tls: { cert: tls.crt, key: tls.key } })");
      }
      return null;
    }
    InetSocketAddress address = n.address("address", "0.0.0.0:8443");
    ProxyConfig.Tls tls = null;
    YamlMap t = n.map("tls");
    if (t != null) {
      tls = new ProxyConfig.Tls(t.requiredPath("cert", base), t.requiredPath("key", base),
          t.duration("reload_interval", ProxyConfig.Tls.DEFAULT_RELOAD_INTERVAL),
          t.has("address") ? t.address("address", null) : null);
      if (tls.address() != null && sameAddress(tls.address(), address)) {
        t.report("address", t.string("address", ""), "another port than listen.address (which then serves plain HTTP)");
      }
    }
    return new ProxyConfig.Listen(address, tls, trustedProxies(n, reader), forwardedHeader(n));
  }

  /** Two listeners cannot share a port: the same port on the same host, or on the wildcard, is one bind. */
  private static boolean sameAddress(InetSocketAddress a, InetSocketAddress b) {
    if (a == null || b == null || a.getPort() != b.getPort() || a.getPort() == 0) {
      return false;
    }
    Set<String> wildcard = Set.of("0.0.0.0", "::");
    return a.getHostString().equals(b.getHostString()) || wildcard.contains(a.getHostString())
        || wildcard.contains(b.getHostString());
  }

  /** Each entry a literal address or CIDR block, each bad one reported at its own line. */
  private static TrustedProxies trustedProxies(YamlMap n, YamlReader reader) {
    List<String> entries = n.strings("trusted_proxies");
    if (entries == null) {
      return TrustedProxies.none();
    }
    List<Node> items = listItems(n, "trusted_proxies");
    boolean ok = true;
    for (int i = 0; i < entries.size(); i++) {
      String problem = TrustedProxies.problem(entries.get(i));
      if (problem != null) {
        ok = false;
        Node at = i < items.size() ? items.get(i) : n.node();
        reader.problem(at, YamlReader.join(n.path(), "trusted_proxies") + "[" + i + "]",
            '"' + entries.get(i) + '"', problem);
      }
    }
    return ok ? TrustedProxies.of(entries) : TrustedProxies.none();
  }

  /** The item nodes of a sequence value, for line numbers; empty when the value is a single scalar. */
  private static List<Node> listItems(YamlMap n, String key) {
    if (n.node() instanceof MappingNode m) {
      for (NodeTuple t : m.getValue()) {
        if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals(key)
            && t.getValueNode() instanceof SequenceNode seq) {
          return seq.getValue();
        }
      }
    }
    return List.of();
  }

  private static ProxyConfig.ForwardedHeader forwardedHeader(YamlMap n) {
    String v = n.string("forwarded_header", "x-forwarded-for");
    return switch (v) {
      case "x-forwarded-for" -> ProxyConfig.ForwardedHeader.X_FORWARDED_FOR;
      case "forwarded" -> ProxyConfig.ForwardedHeader.FORWARDED;
      default -> {
        n.report("forwarded_header", v, "x-forwarded-for or forwarded (the header your load balancer writes)");
        yield ProxyConfig.ForwardedHeader.X_FORWARDED_FOR;
      }
    };
  }

  /**
   * {@code logging}: the defaults give a container (no terminal) JSON and a terminal text. The trace project falls back
   * to {@code GOOGLE_CLOUD_PROJECT}, as Google's own client libraries do.
   */
  private ProxyConfig.Logging logging(YamlMap n) {
    ProxyConfig.Logging d = ProxyConfig.Logging.defaults();
    String envProject = env.apply("GOOGLE_CLOUD_PROJECT");
    String project = envProject == null || envProject.isBlank() ? null : envProject.trim();
    if (n == null) {
      return new ProxyConfig.Logging(d.format(), d.level(), d.accessLog(), validProject(project) ? project : null);
    }
    String configured = n.string("trace_project", null);
    if (configured != null && !validProject(configured)) {
      n.report("trace_project", configured, "a Google Cloud project id, e.g. acme-ml-prod");
      configured = null;
    }
    return new ProxyConfig.Logging(
        n.enumValue("format", ProxyConfig.LogFormat.class, d.format()),
        n.enumValue("level", ProxyConfig.LogLevel.class, d.level()),
        n.bool("access_log", d.accessLog()),
        configured != null ? configured : validProject(project) ? project : null);
  }

  /** Project ids (and the older domain-scoped {@code example.com:project} form); nothing that could break a field. */
  private static boolean validProject(String p) {
    return p != null && p.matches("([a-z0-9.-]{1,63}:)?[a-z][a-z0-9-]{4,61}[a-z0-9]");
  }

  private static ProxyConfig.Admin admin(YamlMap n) {
    if (n == null) {
      return new ProxyConfig.Admin(InetSocketAddress.createUnresolved("127.0.0.1", 9090)); // as n.address gives it
    }
    boolean enabled = n.bool("enabled", true);
    InetSocketAddress address = n.address("address", "127.0.0.1:9090");
    return new ProxyConfig.Admin(enabled ? address : null);
  }

  private static ProxyConfig.Limits limits(YamlMap n) {
    ProxyConfig.Limits d = ProxyConfig.Limits.defaults();
    if (n == null) {
      return d;
    }
    return new ProxyConfig.Limits(
        (int) n.bytes("max_initial_line_bytes", d.maxInitialLineBytes(), 1, Integer.MAX_VALUE),
        (int) n.bytes("max_header_bytes", d.maxHeaderBytes(), 1, Integer.MAX_VALUE),
        n.bytes("max_body_bytes", d.maxBodyBytes(), 0, Long.MAX_VALUE),
        positive(n, "idle_timeout", d.idleTimeout()),
        positive(n, "request_header_timeout", d.requestHeaderTimeout()),
        n.duration("drain_timeout", d.drainTimeout()),
        n.integer("max_connections", d.maxConnections(), 1, 1_000_000));
  }

  private static ProxyConfig.Upstream upstream(YamlMap n, Path base) {
    if (n == null) {
      return new ProxyConfig.Upstream(ProxyConfig.Upstream.DEFAULT_TEMPLATE, Duration.ofSeconds(10),
          Duration.ofSeconds(300), null, 16);
    }
    String template = n.string("url_template", ProxyConfig.Upstream.DEFAULT_TEMPLATE);
    try {
      URI u = URI.create(template.replace("{location}", "loc"));
      if (u.getHost() == null || !("https".equals(u.getScheme()) || "http".equals(u.getScheme()))
          || (u.getPath() != null && !u.getPath().isEmpty())) {
        n.report("url_template", template, "an http(s) origin without a path, with an optional {location}, e.g."
            + " https://{location}-aiplatform.googleapis.com");
      }
    } catch (IllegalArgumentException e) {
      n.report("url_template", template, "an http(s) origin, e.g. https://{location}-aiplatform.googleapis.com");
    }
    return new ProxyConfig.Upstream(template,
        positive(n, "connect_timeout", Duration.ofSeconds(10)),
        positive(n, "response_timeout", Duration.ofSeconds(300)),
        n.path("ca_file", base),
        n.integer("max_idle_per_host", 16, 0, 10_000));
  }

  private static IdentityConfig identity(YamlMap n, YamlMap top, YamlReader reader, Path base) {
    if (n == null) {
      if (!top.has("identity")) {
        top.problem("identity", "required: at least one issuer under identity.issuers");
      }
      return null;
    }
    List<IssuerConfig> issuers = new ArrayList<>();
    int before = reader.problems().size();
    List<YamlMap> list = n.mapList("issuers");
    if (list.isEmpty() && reader.problems().size() == before) {
      n.problem("issuers", "required: at least one issuer");
    }
    Set<String> names = new HashSet<>();
    Map<String, String> urls = new HashMap<>();
    for (YamlMap i : list) {
      issuers.add(issuer(i, names, urls, base));
    }
    IdentityConfig d = IdentityConfig.of(List.of());
    return new IdentityConfig(issuers,
        n.duration("clock_skew", d.clockSkew(), Duration.ZERO, Duration.ofMinutes(5), "at most 5m"),
        n.integer("max_token_bytes", d.maxTokenBytes(), 256, 1 << 20),
        n.duration("jwks_refresh_min_interval", d.jwksRefreshMinInterval()),
        positive(n, "jwks_cache_ttl", d.jwksCacheTtl()),
        n.integer("verified_token_cache_size", d.verifiedTokenCacheSize(), 0, 10_000_000));
  }

  private static IssuerConfig issuer(YamlMap i, Set<String> names, Map<String, String> urls, Path base) {
    String name = i.required("name");
    if (name != null && !names.add(name)) {
      i.report("name", name, "a name not used by another issuer");
    }
    if (name != null && !name.matches("[a-z0-9][a-z0-9_.-]*")) {
      i.report("name", name, "lower-case letters, digits, '.', '_' or '-'");
    }
    URI issuer = i.missing("issuer") ? null : i.uri("issuer", true);
    if (i.missing("issuer")) {
      i.problem("issuer", "required");
    } else if (issuer != null && urls.putIfAbsent(issuer.toString(), i.path()) != null) {
      i.report("issuer", issuer.toString(), "each issuer configured once (also in " + urls.get(issuer.toString()) + ")");
    }
    List<String> audiences = i.strings("audiences");
    IssuerConfig.Login login = SessionsConfigReader.login(i.map("login"), base);
    if (i.missing("audiences") && !i.has("login")) {
      i.problem("audiences", "required: at least one audience (the proxy's URL is a good choice)");
    }
    List<String> algorithms = i.missing("algorithms") ? List.of("RS256") : i.strings("algorithms");
    for (String a : algorithms == null ? List.<String>of() : algorithms) {
      if (!ASYMMETRIC_ALGORITHMS.contains(a)) {
        i.report("algorithms", a, "asymmetric JWS algorithms only: " + String.join(", ", new TreeSet<>(ASYMMETRIC_ALGORITHMS)));
      }
    }
    URI jwks = i.uri("jwks_uri", true);
    boolean shared = i.bool("shared", IssuerConfig.sharedByDefault(issuer));
    Duration maxLifetime = i.duration("max_token_lifetime", IssuerConfig.DEFAULT_MAX_TOKEN_LIFETIME,
        Duration.ofSeconds(1), IssuerConfig.MAX_MAX_TOKEN_LIFETIME,
        "a duration from 1s to 720h (30 days; GitLab jobs cannot run longer), e.g. 24h");
    return new IssuerConfig(name, issuer, audiences == null ? List.of() : audiences,
        algorithms == null ? List.of() : algorithms, jwks, shared, maxLifetime, login);
  }

  private static ProxyConfig.PolicySource policy(YamlMap n, YamlMap top, Path base) {
    if (n == null) {
      if (!top.has("policy")) {
        top.problem("policy", "required (policy: { file: policy.yaml })");
      }
      return null;
    }
    return new ProxyConfig.PolicySource(n.requiredPath("file", base), n.bool("watch", true),
        n.duration("check_interval", ProxyConfig.PolicySource.DEFAULT_CHECK_INTERVAL, Duration.ofSeconds(1),
            Duration.ofHours(1), "a duration from 1s to 1h, e.g. 10s"),
        n.enumValue("explain_denials", ProxyConfig.ExplainDenials.class, ProxyConfig.ExplainDenials.REASON));
  }

  /** A duration that must be more than zero: a zero timeout would switch the bound off, not tighten it. */
  private static Duration positive(YamlMap n, String key, Duration dflt) {
    return n.duration(key, dflt, POSITIVE, NO_LIMIT, "more than 0, e.g. " + dflt.toSeconds() + "s");
  }
}
