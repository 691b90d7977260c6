package dev.vertexproxy.proxy.config;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads proxy.yaml into a {@link ProxyConfig}: snake_case keys, {@code ${ENV}} and {@code ${ENV:-default}}
 * substitution in values, unknown keys are errors, and every problem is reported at once with file, line and key,
 * e.g. {@code proxy.yaml:3:12: listen.address: "0.0.0.0:70000" (expected: host:port with port 0..65535)}.
 * Relative paths resolve against the config file's directory. Stateless and thread-safe.
 */
public final class ConfigLoader {
  static final Set<String> ASYMMETRIC_ALGORITHMS = Set.of(
      "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512");

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
      throw new ConfigException(List.of(file + ": cannot read: " + e.getMessage()));
    }
    Path base = file.toAbsolutePath().getParent();
    return parse(text, file.getFileName().toString(), base);
  }

  public ProxyConfig parse(String yaml, String sourceName, Path baseDir) throws ConfigException {
    ConfigNode.Problems problems = new ConfigNode.Problems(sourceName);
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      options.setMaxAliasesForCollections(0);
      options.setCodePointLimit(1 << 20);
      root = new Yaml(new SafeConstructor(options), new org.yaml.snakeyaml.representer.Representer(new org.yaml.snakeyaml.DumperOptions()),
          new org.yaml.snakeyaml.DumperOptions(), options).compose(new java.io.StringReader(yaml));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      throw new ConfigException(List.of(sourceName + ":" + line + ": not valid YAML: " + e.getProblem()));
    } catch (RuntimeException e) {
      throw new ConfigException(List.of(sourceName + ": not valid YAML: " + e.getMessage()));
    }
    if (!(root instanceof MappingNode rootMap)) {
      throw new ConfigException(List.of(sourceName + ": expected a mapping at the top level"));
    }
    ConfigNode top = new ConfigNode("", rootMap, problems, env);
    ProxyConfig.Listen listen = listen(top.map("listen"), top, baseDir);
    ProxyConfig.Admin admin = admin(top.map("admin"));
    ProxyConfig.Limits limits = limits(top.map("limits"));
    ProxyConfig.Upstream upstream = upstream(top.map("upstream"), baseDir);
    IdentityConfig identity = identity(top.map("identity"), top);
    ProxyConfig.PolicySource policy = policy(top.map("policy"), top, baseDir);
    CredentialsConfig credentials = credentials(top.map("credentials"), baseDir);
    AuditConfig audit = audit(top.map("audit"), top, baseDir);
    top.finish();
    if (!problems.list().isEmpty()) {
      throw new ConfigException(problems.list());
    }
    return new ProxyConfig(listen, admin, limits, upstream, identity, policy, credentials, audit);
  }

  private ProxyConfig.Listen listen(ConfigNode n, ConfigNode top, Path base) {
    if (n == null) {
      top.problem("listen", "required (e.g. listen: { address: 0.0.0.0:8443, tls: { cert: tls.crt, key: tls.key } })");
      return null;
    }
    InetSocketAddress address = address(n, "address", "0.0.0.0:8443");
    ProxyConfig.Tls tls = null;
    ConfigNode t = n.map("tls");
    if (t != null) {
      Path cert = t.path("cert", base);
      Path key = t.path("key", base);
      if (cert == null) {
        t.problem("cert", "required");
      }
      if (key == null) {
        t.problem("key", "required");
      }
      t.finish();
      tls = new ProxyConfig.Tls(cert, key);
    }
    n.finish();
    return new ProxyConfig.Listen(address, tls);
  }

  private ProxyConfig.Admin admin(ConfigNode n) {
    if (n == null) {
      return new ProxyConfig.Admin(new InetSocketAddress("127.0.0.1", 9090));
    }
    boolean enabled = !"false".equals(n.string("enabled", "true"));
    InetSocketAddress address = address(n, "address", "127.0.0.1:9090");
    n.finish();
    return new ProxyConfig.Admin(enabled ? address : null);
  }

  private ProxyConfig.Limits limits(ConfigNode n) {
    ProxyConfig.Limits d = ProxyConfig.Limits.defaults();
    if (n == null) {
      return d;
    }
    ProxyConfig.Limits l = new ProxyConfig.Limits(
        (int) Math.min(Integer.MAX_VALUE, n.bytes("max_initial_line_bytes", d.maxInitialLineBytes())),
        (int) Math.min(Integer.MAX_VALUE, n.bytes("max_header_bytes", d.maxHeaderBytes())),
        n.bytes("max_body_bytes", d.maxBodyBytes()),
        n.duration("idle_timeout", d.idleTimeout()),
        n.duration("request_header_timeout", d.requestHeaderTimeout()),
        n.duration("drain_timeout", d.drainTimeout()),
        n.integer("max_connections", d.maxConnections(), 1, 1_000_000));
    n.finish();
    return l;
  }

  private ProxyConfig.Upstream upstream(ConfigNode n, Path base) {
    if (n == null) {
      return new ProxyConfig.Upstream(ProxyConfig.Upstream.DEFAULT_TEMPLATE, Duration.ofSeconds(10), Duration.ofSeconds(300), null, 16);
    }
    String template = n.string("url_template", ProxyConfig.Upstream.DEFAULT_TEMPLATE);
    try {
      URI u = URI.create(template.replace("{location}", "loc"));
      if (u.getHost() == null || !("https".equals(u.getScheme()) || "http".equals(u.getScheme())) || (u.getPath() != null && !u.getPath().isEmpty())) {
        n.report("url_template", template, "an http(s) origin without a path, with an optional {location}, e.g. https://{location}-aiplatform.googleapis.com");
      }
    } catch (IllegalArgumentException e) {
      n.report("url_template", template, "an http(s) origin, e.g. https://{location}-aiplatform.googleapis.com");
    }
    ProxyConfig.Upstream u = new ProxyConfig.Upstream(template,
        n.duration("connect_timeout", Duration.ofSeconds(10)),
        n.duration("response_timeout", Duration.ofSeconds(300)),
        n.path("ca_file", base),
        n.integer("max_idle_per_host", 16, 0, 10_000));
    n.finish();
    return u;
  }

  private IdentityConfig identity(ConfigNode n, ConfigNode top) {
    if (n == null) {
      top.problem("identity", "required: at least one issuer under identity.issuers");
      return null;
    }
    List<IssuerConfig> issuers = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<ConfigNode> list = n.mapList("issuers");
    if (list.isEmpty()) {
      n.problem("issuers", "required: at least one issuer");
    }
    for (ConfigNode i : list) {
      String name = i.required("name");
      if (name != null && !names.add(name)) {
        i.report("name", name, "a name not used by another issuer");
      }
      if (name != null && !name.matches("[a-z0-9][a-z0-9_.-]*")) {
        i.report("name", name, "lower-case letters, digits, '.', '_' or '-'");
      }
      URI issuer = i.uri("issuer", true);
      if (issuer == null && !i.has("issuer")) {
        i.problem("issuer", "required");
      }
      List<String> audiences = i.strings("audiences");
      if (audiences == null || audiences.isEmpty()) {
        i.problem("audiences", "required: at least one audience (the proxy's URL is a good choice)");
        audiences = List.of();
      }
      List<String> algorithms = i.strings("algorithms");
      if (algorithms == null) {
        algorithms = List.of("RS256");
      }
      for (String a : algorithms) {
        if (!ASYMMETRIC_ALGORITHMS.contains(a)) {
          i.report("algorithms", a, "asymmetric JWS algorithms only: " + String.join(", ", new java.util.TreeSet<>(ASYMMETRIC_ALGORITHMS)));
        }
      }
      URI jwks = i.uri("jwks_uri", true);
      boolean shared = i.bool("shared", IssuerConfig.sharedByDefault(issuer));
      Duration maxLifetime = i.duration("max_token_lifetime", IssuerConfig.DEFAULT_MAX_TOKEN_LIFETIME,
          Duration.ofSeconds(1), IssuerConfig.MAX_MAX_TOKEN_LIFETIME,
          "a duration from 1s to 720h (30 days; GitLab jobs cannot run longer), e.g. 24h");
      i.finish();
      issuers.add(new IssuerConfig(name, issuer, audiences, algorithms, jwks, shared, maxLifetime));
    }
    IdentityConfig d = IdentityConfig.of(List.of());
    IdentityConfig c = new IdentityConfig(issuers,
        n.duration("clock_skew", d.clockSkew()),
        n.integer("max_token_bytes", d.maxTokenBytes(), 256, 1 << 20),
        n.duration("jwks_refresh_min_interval", d.jwksRefreshMinInterval()),
        n.duration("jwks_cache_ttl", d.jwksCacheTtl()),
        n.integer("verified_token_cache_size", d.verifiedTokenCacheSize(), 0, 10_000_000));
    if (c.clockSkew().compareTo(Duration.ofMinutes(5)) > 0) {
      n.report("clock_skew", c.clockSkew().toString(), "at most 5m");
    }
    n.finish();
    return c;
  }

  private ProxyConfig.PolicySource policy(ConfigNode n, ConfigNode top, Path base) {
    if (n == null) {
      top.problem("policy", "required (policy: { file: policy.yaml })");
      return null;
    }
    Path file = n.path("file", base);
    if (file == null) {
      n.problem("file", "required");
    }
    n.finish();
    return new ProxyConfig.PolicySource(file);
  }

  private CredentialsConfig credentials(ConfigNode n, Path base) {
    CredentialsConfig.Mode mode = CredentialsConfig.Mode.IMPERSONATE;
    Path source = null;
    URI iam = null;
    String stsAudience = null;
    List<String> scopes = List.of("https://www.googleapis.com/auth/cloud-platform");
    Duration lifetime = Duration.ofHours(1);
    Duration refreshBefore = Duration.ofMinutes(5);
    if (n != null) {
      mode = n.enumValue("mode", CredentialsConfig.Mode.class, mode);
      source = n.path("source_credentials", base);
      iam = n.uri("iam_endpoint", true);
      ConfigNode sts = n.map("sts");
      if (sts != null) {
        stsAudience = sts.string("audience", null);
        sts.finish();
      }
      List<String> s = n.strings("scopes");
      if (s != null && !s.isEmpty()) {
        scopes = s;
      }
      lifetime = n.duration("lifetime", lifetime);
      refreshBefore = n.duration("refresh_before", refreshBefore);
      if (lifetime.compareTo(Duration.ofHours(12)) > 0 || lifetime.compareTo(Duration.ofMinutes(5)) < 0) {
        n.report("lifetime", lifetime.toString(), "5m..12h (Google caps impersonated tokens at 1h unless the org policy extends it)");
      }
      if (refreshBefore.compareTo(lifetime) >= 0) {
        n.report("refresh_before", refreshBefore.toString(), "shorter than lifetime");
      }
      if (mode == CredentialsConfig.Mode.STS) {
        n.problem("mode", "\"sts\" is not implemented yet (expected: impersonate)");
      }
      n.finish();
    }
    try {
      return new CredentialsConfig(mode, source, iam, stsAudience, scopes, lifetime, refreshBefore);
    } catch (IllegalArgumentException e) {
      if (n != null) {
        n.problem("mode", e.getMessage());
      }
      return null;
    }
  }

  private AuditConfig audit(ConfigNode n, ConfigNode top, Path base) {
    if (n == null) {
      top.problem("audit", "required (audit: { dir: audit/ })");
      return null;
    }
    Path dir = n.path("dir", base);
    if (dir == null) {
      n.problem("dir", "required");
    }
    AuditConfig.Durability durability = n.enumValue("durability", AuditConfig.Durability.class, AuditConfig.Durability.GROUP_COMMIT);
    AuditConfig.OnFailure onFailure = n.enumValue("on_failure", AuditConfig.OnFailure.class, AuditConfig.OnFailure.REJECT);
    n.finish();
    return new AuditConfig(dir, durability, onFailure);
  }

  private static InetSocketAddress address(ConfigNode n, String key, String dflt) {
    String v = n.string(key, dflt);
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      n.report(key, v, "host:port");
      return null;
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      int port = Integer.parseInt(v.substring(colon + 1));
      if (port < 0 || port > 65535) {
        n.report(key, v, "host:port with port 0..65535");
        return null;
      }
      return InetSocketAddress.createUnresolved(host, port);
    } catch (NumberFormatException e) {
      n.report(key, v, "host:port with port 0..65535");
      return null;
    }
  }
}
