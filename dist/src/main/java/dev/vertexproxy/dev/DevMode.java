package dev.vertexproxy.dev;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vertexproxy.emulators.DevCertificates;
import dev.vertexproxy.emulators.DevIssuer;
import dev.vertexproxy.emulators.GoogleEmulator;
import dev.vertexproxy.emulators.VertexEmulator;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.yaml.Problem;
import dev.vertexproxy.proxy.config.ConfigException;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTransports;
import dev.vertexproxy.proxy.lock.DirectoryLock;
import dev.vertexproxy.proxy.server.ProxyServer;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * A complete local setup on loopback: a dev OIDC issuer (GitLab-like tokens, a mint endpoint), a Google STS + IAM
 * emulator, a Vertex AI emulator that accepts only tokens the Google emulator issued, and the proxy in front — wired the
 * way production is: the proxy's own identity is a workload-identity-federation ({@code external_account}) credential
 * whose subject token comes from the dev issuer, exchanged at the STS emulator and used to impersonate each rule's
 * service account at the IAM emulator, through google-auth-library's real code paths.
 *
 * <p>Everything it writes goes to the state directory: {@code proxy.yaml}, {@code policy.yaml} (unless one is given),
 * {@code google-credentials.json}, {@code google-emulator-ca.pem}, {@code audit/} and {@code dev.json}. The end-to-end
 * tests start exactly this.
 * A run holds the state directory's {@link DirectoryLock} from before it writes anything there until it is closed, so
 * a second run on the same directory refuses to start instead of overwriting the first one's files.
 */
public final class DevMode implements AutoCloseable {
  public static final String ISSUER_NAME = "gitlab";
  /** The name of the dev identity provider for people (the dev issuer's {@code /people} face) in proxy.yaml and policy. */
  public static final String PEOPLE_ISSUER_NAME = "humans";
  /** The proxy's client id at the dev identity provider for people: a public client, PKCE only. */
  public static final String PEOPLE_CLIENT_ID = "vertex-proxy-dev";
  public static final String AUDIENCE = "https://vertex-proxy.dev.local";
  public static final String PROJECT = "dev-project";
  public static final String LOCATION = "us-central1";
  public static final String SERVICE_ACCOUNT = "vertex-caller@dev-project.iam.gserviceaccount.com";
  public static final String EXAMPLE_MODEL = "gemini-2.0-flash";
  /** Where the proxy serves its STS-shaped token exchange (the {@code token_url} of {@code vertex-proxy adc}). */
  public static final String TOKEN_EXCHANGE_PATH = "/_proxy/sts/v1/token";
  /**
   * The dev workload identity provider: it trusts the dev issuer, for the proxy's own identity (tokens whose audience
   * is this name) and, in {@code sts} mode, for CI callers (tokens whose audience is {@link #AUDIENCE}).
   */
  public static final String WIF_AUDIENCE = "//iam.googleapis.com/projects/123456789012/locations/global/"
      + "workloadIdentityPools/vertex-proxy-dev/providers/dev-issuer";

  /**
   * Options of one dev run; ports 0 pick free ones.
   *
   * @param port    the plain HTTP port (curl, the examples)
   * @param tlsPort the HTTPS port, with the dev CA's certificate: for clients that insist on https (google-auth's
   *                {@code token_url}, hence {@code token_exchange_url})
   */
  public record Options(Path stateDir, String host, int port, int adminPort, Path policyFile, Path extraConfig,
      int tlsPort, Clock clock) {
    public Options(Path stateDir, String host, int port, int adminPort, Path policyFile, Path extraConfig, int tlsPort) {
      this(stateDir, host, port, adminPort, policyFile, extraConfig, tlsPort, null);
    }

    public Options(Path stateDir, String host, int port, int adminPort, Path policyFile, Path extraConfig) {
      this(stateDir, host, port, adminPort, policyFile, extraConfig, 0);
    }

    /** The same run on {@code clock} (the proxy's and the emulators'), so tests move time instead of sleeping. */
    public Options withClock(Clock clock) {
      return new Options(stateDir, host, port, adminPort, policyFile, extraConfig, tlsPort, clock);
    }

    public static Options forTests(Path stateDir) {
      return new Options(stateDir, "127.0.0.1", 0, 0, null, null);
    }
  }

  private final DevIssuer issuer;
  private final GoogleEmulator google;
  private final VertexEmulator vertex;
  private final ProxyServer proxy;
  private final Map<String, Object> info;
  private final DirectoryLock stateLock;

  private DevMode(DevIssuer issuer, GoogleEmulator google, VertexEmulator vertex, ProxyServer proxy, Map<String, Object> info,
      DirectoryLock stateLock) {
    this.stateLock = stateLock;
    this.issuer = issuer;
    this.google = google;
    this.vertex = vertex;
    this.proxy = proxy;
    this.info = info;
  }

  public static DevMode start(Options o) throws IOException, ConfigException, PolicyException, InterruptedException {
    Path state = o.stateDir().toAbsolutePath();
    Files.createDirectories(state);
    DirectoryLock stateLock = DirectoryLock.acquire(state, "dev state directory",
        "Another `vertex-proxy dev` runs on it: stop that one first (Ctrl-C in its terminal), or start this one with"
            + " --state-dir pointing at another directory.");
    Clock clock = o.clock() == null ? Clock.systemUTC() : o.clock();
    DevIssuer issuer = null;
    GoogleEmulator google = null;
    VertexEmulator vertex = null;
    ProxyServer proxy = null;
    try {
      issuer = DevIssuer.start(new InetSocketAddress("127.0.0.1", 0), AUDIENCE);
      google = GoogleEmulator.start(new InetSocketAddress("127.0.0.1", 0), clock);
      google.trustIssuer(issuer.issuer(), issuer.jwksUri());
      google.registerProvider(WIF_AUDIENCE, Set.of(WIF_AUDIENCE, AUDIENCE), Map.of());
      Path googleCa = state.resolve("google-emulator-ca.pem");
      google.writeCertificatePem(googleCa); // credentials.ca_file: what the proxy, `doctor` and others trust for STS/IAM
      // Vertex is only reachable over TLS, so the emulator is too: every dev request exercises the proxy's upstream
      // trust, SNI and hostname verification, with the emulator's certificate as the one extra trust anchor.
      DevCertificates vertexTls =
          DevCertificates.selfSigned("vertex-proxy Vertex AI emulator", clock, new String[] {"localhost"});
      Path vertexCa = state.resolve("vertex-emulator-ca.pem");
      vertexTls.writeCertificatePem(vertexCa);
      vertex = VertexEmulator.start(new InetSocketAddress("127.0.0.1", 0), google, clock,
          SslContextBuilder.forServer(vertexTls.key(), vertexTls.certificate()).build());

      Path credentials = state.resolve("google-credentials.json");
      Files.writeString(credentials, externalAccountJson(google, issuer), StandardCharsets.UTF_8);
      Path policy = o.policyFile() != null ? o.policyFile().toAbsolutePath() : state.resolve("policy.yaml");
      if (o.policyFile() == null) {
        try (InputStream in = DevMode.class.getResourceAsStream("dev-policy.yaml")) {
          Files.write(policy, in.readAllBytes());
        }
      }
      Path audit = state.resolve("audit");
      Path caFile = state.resolve("ca.pem");
      Map<String, Object> tls = listenerTls(o, state, caFile, clock);
      Path devCert = Path.of((String) tls.get("cert")); // before --config may replace it
      Map<String, Object> cfg = devConfig(o, issuer, google, vertex, vertexCa, policy, credentials, audit);
      asMap(cfg.get("credentials")).put("ca_file", googleCa.toString());
      asMap(cfg.get("audit")).put("checkpoint", DevCheckpointKey.section(state)); // signed, as in production
      asMap(cfg.get("listen")).put("tls", tls);
      if (o.extraConfig() != null) {
        Object extra = yaml().load(Files.readString(o.extraConfig(), StandardCharsets.UTF_8));
        if (!(extra instanceof Map<?, ?>)) {
          throw new ConfigException(List.of(Problem.ofFile(o.extraConfig().toString(), "expected a mapping")));
        }
        if (extra instanceof Map<?, ?> m && m.get("listen") instanceof Map<?, ?> l && l.containsKey("tls")) {
          asMap(cfg.get("listen")).remove("tls"); // a listen.tls of its own replaces the dev listener's, not merges
        }
        merge(cfg, asMap(extra));
      }
      sessions(cfg, state);
      Path configFile = state.resolve("proxy.yaml");
      Files.writeString(configFile, "# Written by `vertex-proxy dev`; regenerated on every start.\n" + yaml().dump(cfg),
          StandardCharsets.UTF_8);
      ProxyConfig config = new ConfigLoader().load(configFile);
      // The Google emulator speaks HTTPS (google-auth insists on an https token_url): credentials.ca_file trusts it,
      // exactly as `serve` would with this proxy.yaml
      proxy = ProxyServer.start(config, clock, GoogleTransports.forConfig(config.credentials()));

      ProxyConfig.Tls served = config.listen().tls();
      String proxyUrl = (served == null || served.address() != null ? "http://" : "https://") + o.host() + ":"
          + proxy.address().getPort();
      String tlsUrl = proxy.tlsAddress() == null ? null : "https://" + o.host() + ":" + proxy.tlsAddress().getPort();
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("proxy_url", proxyUrl);
      info.put("proxy_tls_url", tlsUrl);
      info.put("proxy_issuer", config.sessions() == null ? null : config.sessions().issuerUrl());
      info.put("token_exchange_url", tlsUrl == null ? null : tlsUrl + TOKEN_EXCHANGE_PATH);
      // the dev CA vouches only for the certificate dev mode wrote; a --config that brings its own has its own CA
      info.put("ca_file", served != null && served.cert().equals(devCert) ? caFile.toString() : null);
      info.put("admin_url", proxy.adminAddress() == null ? null : "http://" + o.host() + ":" + proxy.adminAddress().getPort());
      info.put("issuer", issuer.issuer().toString());
      info.put("issuer_name", ISSUER_NAME);
      info.put("people_issuer", issuer.peopleIssuer().toString());
      info.put("people_url", config.sessions() == null ? null : proxyUrl + "/_proxy/");
      info.put("audience", AUDIENCE);
      info.put("mint_url", issuer.mintUri().toString());
      info.put("audit_dir", audit.toString());
      info.put("checkpoint_public_key", DevCheckpointKey.publicKey(state).toString());
      info.put("policy_file", policy.toString());
      info.put("config_file", configFile.toString());
      info.put("example_path", "/v1/projects/" + PROJECT + "/locations/" + LOCATION
          + "/publishers/google/models/" + EXAMPLE_MODEL + ":generateContent");
      info.put("project", PROJECT);
      info.put("location", LOCATION);
      info.put("service_account", SERVICE_ACCOUNT);
      info.put("vertex_emulator_url", vertex.baseUri().toString());
      info.put("google_emulator_url", google.baseUri().toString());
      Files.writeString(state.resolve("dev.json"),
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(info) + "\n", StandardCharsets.UTF_8);
      return new DevMode(issuer, google, vertex, proxy, info, stateLock);
    } catch (IOException | ConfigException | PolicyException | InterruptedException | RuntimeException e) {
      if (proxy != null) {
        proxy.close();
      }
      if (vertex != null) {
        vertex.close();
      }
      if (google != null) {
        google.close();
      }
      if (issuer != null) {
        issuer.close();
      }
      stateLock.close();
      throw e;
    }
  }

  /**
   * The proxy as an issuer of its own tokens (people's sessions, the token exchange's access tokens), unless
   * {@code --config} configured it: keys in the state directory, and as issuer URL the serving port's own, since login
   * redirects come back to it. A port 0 is resolved first (a free port, probed and released: the one moment another
   * process could take it), because the issuer must be known before the proxy starts.
   */
  private static void sessions(Map<String, Object> cfg, Path state) throws IOException {
    Map<String, Object> sessions = cfg.get("sessions") instanceof Map<?, ?> m ? asMap(m) : new LinkedHashMap<>();
    cfg.put("sessions", sessions);
    if (!sessions.containsKey("signing_keys_dir") && !sessions.containsKey("signing_key_file")) {
      sessions.put("signing_keys_dir", state.resolve("keys").toString());
    }
    if (sessions.containsKey("issuer")) {
      return;
    }
    Map<String, Object> listen = asMap(cfg.get("listen"));
    String address = String.valueOf(listen.get("address"));
    int colon = address.lastIndexOf(':');
    String host = address.substring(0, colon);
    int port = Integer.parseInt(address.substring(colon + 1));
    if (port == 0) {
      try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(host))) {
        port = probe.getLocalPort();
      }
      listen.put("address", host + ":" + port);
    }
    boolean tlsHere = listen.get("tls") instanceof Map<?, ?> t && !t.containsKey("address");
    sessions.put("issuer", (tlsHere ? "https://" : "http://") + host + ":" + port);
  }

  /**
   * The HTTPS listener's identity: a fresh CA written to {@code ca.pem} (what clients trust) and a certificate it
   * issued for localhost, 127.0.0.1 and the dev host, served on its own port beside the plain one.
   */
  private static Map<String, Object> listenerTls(Options o, Path state, Path caFile, Clock clock) throws IOException {
    DevCertificates ca = DevCertificates.authority("vertex-proxy dev CA", clock);
    boolean literal = o.host().matches("[0-9.]+") || o.host().contains(":");
    List<InetAddress> addresses = new ArrayList<>(List.of(InetAddress.getByName("127.0.0.1")));
    if (literal && !addresses.contains(InetAddress.getByName(o.host()))) {
      addresses.add(InetAddress.getByName(o.host())); // a literal: no lookup happens
    }
    String[] names = literal || o.host().equals("localhost") ? new String[] {"localhost"} : new String[] {"localhost", o.host()};
    DevCertificates leaf = ca.issue("vertex-proxy dev", clock, names, addresses.toArray(new InetAddress[0]));
    ca.writeCertificatePem(caFile);
    Path cert = state.resolve("tls.crt");
    Path key = state.resolve("tls.key");
    leaf.writeCertificatePem(cert);
    String chain = Files.readString(cert, StandardCharsets.US_ASCII) + Files.readString(caFile, StandardCharsets.US_ASCII);
    Files.writeString(cert, chain, StandardCharsets.US_ASCII); // the chain, leaf first
    leaf.writeKeyPem(key);
    Map<String, Object> tls = new LinkedHashMap<>();
    tls.put("cert", cert.toString());
    tls.put("key", key.toString());
    tls.put("address", o.host() + ":" + o.tlsPort());
    return tls;
  }

  private static Map<String, Object> devConfig(Options o, DevIssuer issuer, GoogleEmulator google, VertexEmulator vertex,
      Path vertexCa, Path policy, Path credentials, Path audit) {
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("listen", map("address", o.host() + ":" + o.port()));
    cfg.put("admin", map("address", o.host() + ":" + o.adminPort()));
    Map<String, Object> up = new LinkedHashMap<>();
    up.put("url_template", vertex.baseUri().toString());
    up.put("ca_file", vertexCa.toString());
    cfg.put("upstream", up);
    Map<String, Object> iss = new LinkedHashMap<>();
    iss.put("name", ISSUER_NAME);
    iss.put("issuer", issuer.issuer().toString());
    iss.put("audiences", List.of(AUDIENCE));
    iss.put("algorithms", List.of("RS256"));
    // people log in through the dev issuer's /people face: its ID tokens count only through the proxy's login
    Map<String, Object> people = new LinkedHashMap<>();
    people.put("name", PEOPLE_ISSUER_NAME);
    people.put("issuer", issuer.peopleIssuer().toString());
    people.put("algorithms", List.of("RS256"));
    people.put("login", map("client_id", PEOPLE_CLIENT_ID));
    cfg.put("identity", map("issuers", new ArrayList<>(List.of(iss, people))));
    cfg.put("policy", map("file", policy.toString()));
    Map<String, Object> cred = new LinkedHashMap<>();
    cred.put("mode", "impersonate");
    cred.put("source_credentials", credentials.toString());
    cred.put("iam_endpoint", google.iamBaseUri().toString());
    // sts mode is one line away: `credentials: { mode: sts }` in a --config file federates CI callers at the emulator
    Map<String, Object> sts = new LinkedHashMap<>();
    sts.put("audience", WIF_AUDIENCE);
    sts.put("token_url", google.stsTokenUri().toString());
    cred.put("sts", sts);
    cfg.put("credentials", cred);
    Map<String, Object> au = new LinkedHashMap<>();
    au.put("dir", audit.toString());
    au.put("durability", "group_commit");
    au.put("on_failure", "reject");
    cfg.put("audit", au);
    return cfg;
  }

  /** The proxy's own Google identity in dev: workload identity federation, exactly as on a GitLab runner or GKE. */
  private static String externalAccountJson(GoogleEmulator google, DevIssuer issuer) throws IOException {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("url", issuer.issuer() + "/workload-token?audience=" + URLEncoder.encode(WIF_AUDIENCE, StandardCharsets.UTF_8));
    source.put("format", map("type", "text"));
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("type", "external_account");
    json.put("audience", WIF_AUDIENCE);
    json.put("subject_token_type", "urn:ietf:params:oauth:token-type:jwt");
    json.put("token_url", google.stsTokenUri().toString());
    json.put("credential_source", source);
    return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json);
  }

  private static Map<String, Object> map(String k, Object v) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(k, v);
    return m;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o) {
    return (Map<String, Object>) o;
  }

  /**
   * Deep merge: mappings merge key by key; lists of named mappings ({@code identity.issuers}) merge by {@code name}, so
   * an extra issuer joins the dev issuer and one of the same name replaces it; anything else in {@code over} replaces.
   */
  static void merge(Map<String, Object> base, Map<String, Object> over) {
    for (Map.Entry<String, Object> e : over.entrySet()) {
      Object b = base.get(e.getKey());
      if (b instanceof Map<?, ?> && e.getValue() instanceof Map<?, ?>) {
        merge(asMap(b), asMap(e.getValue()));
      } else if (b instanceof List<?> bl && e.getValue() instanceof List<?> ol && named(bl) && named(ol)) {
        List<Object> merged = new ArrayList<>(bl);
        for (Object o : ol) {
          merged.removeIf(x -> ((Map<?, ?>) x).get("name").equals(((Map<?, ?>) o).get("name")));
          merged.add(o);
        }
        base.put(e.getKey(), merged);
      } else {
        base.put(e.getKey(), e.getValue());
      }
    }
  }

  private static boolean named(List<?> list) {
    return !list.isEmpty() && list.stream().allMatch(x -> x instanceof Map<?, ?> m && m.get("name") != null);
  }

  private static Yaml yaml() {
    DumperOptions d = new DumperOptions();
    d.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    LoaderOptions l = new LoaderOptions();
    l.setAllowDuplicateKeys(false);
    return new Yaml(new SafeConstructor(l), new Representer(d), d, l);
  }

  /** What {@code dev.json} holds. */
  public Map<String, Object> info() {
    return info;
  }

  public String proxyUrl() {
    return (String) info.get("proxy_url");
  }

  public DevIssuer issuer() {
    return issuer;
  }

  public GoogleEmulator google() {
    return google;
  }

  public VertexEmulator vertex() {
    return vertex;
  }

  public ProxyServer proxy() {
    return proxy;
  }

  @Override
  public void close() {
    proxy.close();
    vertex.close();
    google.close();
    issuer.close();
    stateLock.close();
  }
}
