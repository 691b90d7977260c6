package dev.vertexproxy.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.deploy.ParsedDockerfile.Stage;
import dev.vertexproxy.proxy.server.ProxyServer;
import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * {@code config/k8s} as {@code kubectl kustomize} renders it, checked against itself, the configuration it ships and
 * the image: the rendered proxy.yaml and policy.yaml load with the real loaders, and every place where a manifest
 * repeats a fact of the configuration (ports, probe paths, mounted file paths, the audit directory, the drain timeout,
 * the runtime user) says the same thing. Also: what {@code config/k8s/proxy.yaml} must share with the reference
 * {@code config/proxy.yaml}.
 */
class KustomizeTest {
  @TempDir
  static Path tmp;
  static Path repo;
  static List<Map<String, Object>> docs;
  static ProxyConfig config;
  static Policy policy;
  static Map<String, Object> statefulSet;
  static Map<String, Object> pod;
  static Map<String, Object> container;
  static Stage image;

  @BeforeAll
  static void render() throws Exception {
    repo = Examples.repoRoot();
    Path out = tmp.resolve("rendered.yaml");
    Path err = tmp.resolve("kubectl.err");
    Process p = new ProcessBuilder("kubectl", "kustomize", repo.resolve("config/k8s").toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    p.getOutputStream().close();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("kubectl kustomize finishes").isTrue();
    assertThat(p.exitValue()).as(Files.readString(err)).isZero();
    docs = new ArrayList<>();
    for (Object d : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(Files.readString(out))) {
      docs.add(map(d));
    }

    // the ConfigMaps as the pod sees them: one directory, proxy.yaml beside policy.yaml (the projected volume)
    Path etc = Files.createDirectories(tmp.resolve("etc"));
    Files.writeString(etc.resolve("proxy.yaml"), configMapFile("vertex-proxy-config", "proxy.yaml"), StandardCharsets.UTF_8);
    Files.writeString(etc.resolve("policy.yaml"), configMapFile("vertex-proxy-policy", "policy.yaml"), StandardCharsets.UTF_8);
    config = new ConfigLoader(name -> null).load(etc.resolve("proxy.yaml"));
    policy = ProxyServer.loadPolicy(config);

    statefulSet = one("StatefulSet");
    pod = map(at(statefulSet, "spec.template.spec"));
    container = list(pod.get("containers")).get(0);
    image = ParsedDockerfile.read(repo.resolve("Dockerfile")).runtime();
  }

  @Test
  void rendersExactlyTheExpectedObjectsAndNoSecret() throws IOException {
    List<String> kinds = docs.stream().map(d -> (String) d.get("kind")).sorted().toList();
    assertThat(kinds).containsExactly("ConfigMap", "ConfigMap", "HorizontalPodAutoscaler", "Namespace", "NetworkPolicy",
        "PodDisruptionBudget", "Service", "Service", "ServiceAccount", "ServiceMonitor", "StatefulSet");
    assertThat(docs).allSatisfy(d -> {
      if (!"Namespace".equals(d.get("kind"))) {
        assertThat(at(d, "metadata.namespace")).as(d.get("kind") + " namespace").isEqualTo("vertex-proxy");
      }
    });
    assertThat(Files.readString(tmp.resolve("rendered.yaml"))).doesNotContain("PRIVATE KEY");
    assertThat(policy.rules()).isNotEmpty();
  }

  @Test
  void containerPortsAreTheConfiguredListenAndAdminPortsOnEveryInterface() {
    assertThat(containerPort("proxy")).isEqualTo(config.listen().address().getPort());
    assertThat(containerPort("admin")).isEqualTo(config.admin().address().getPort());
    // the kubelet probes the pod IP, so the admin listener cannot stay on loopback here
    assertThat(Set.of("0.0.0.0", "::").contains(config.admin().address().getHostString())).isTrue();
    assertThat(Set.of("0.0.0.0", "::").contains(config.listen().address().getHostString())).isTrue();
    assertThat(config.listen().tls()).as("TLS on the serving port").isNotNull();
  }

  @Test
  void probesAskTheAdminListenerForLivenessAndReadiness() {
    assertThat(probe("livenessProbe")).containsExactly("/healthz", config.admin().address().getPort());
    assertThat(probe("readinessProbe")).containsExactly("/readyz", config.admin().address().getPort());
    assertThat(probe("startupProbe")).containsExactly("/healthz", config.admin().address().getPort());
  }

  @Test
  void theMountedVolumesHoldEveryFileTheConfigurationNames() {
    // the image's CMD reads /etc/vertex-proxy/proxy.yaml; the config names the rest relative to it or absolutely
    List<String> cmd = image.last("CMD").orElseThrow().json();
    String configPath = cmd.get(cmd.indexOf("--config") + 1);
    assertThat(container).doesNotContainKeys("command", "args");
    assertThat(projected(configPath)).isEqualTo("configMap vertex-proxy-config/proxy.yaml");
    Path configDir = Path.of(configPath).getParent();
    Path policyInPod = configDir.resolve(tmp.resolve("etc").relativize(config.policy().file()));
    assertThat(projected(policyInPod.toString())).isEqualTo("configMap vertex-proxy-policy/policy.yaml");
    assertThat(projected(config.listen().tls().cert().toString())).isEqualTo("secret vertex-proxy-tls/tls.crt");
    assertThat(projected(config.listen().tls().key().toString())).isEqualTo("secret vertex-proxy-tls/tls.key");
    assertThat(mountFor(configPath).get("readOnly")).isEqualTo(true);
    // the TLS key among them: readable by the runtime user's group (fsGroup), by nobody else
    assertThat(at(volume((String) mountFor(configPath).get("name")), "projected.defaultMode")).isEqualTo(0440);
  }

  @Test
  void theAuditDirectoryIsInsideEachReplicasOwnPersistentVolumeWhichOutlivesAScaleDown() {
    Path audit = config.audit().dir();
    Map<String, Object> mount = mountFor(audit.toString());
    assertThat(audit).isNotEqualTo(Path.of((String) mount.get("mountPath")))
        .as("a subdirectory: a fresh file system's lost+found stays out of the trail");
    assertThat(mount.get("readOnly")).isNotEqualTo(true);
    List<Map<String, Object>> claims = list(at(statefulSet, "spec.volumeClaimTemplates"));
    assertThat(claims).extracting(c -> at(c, "metadata.name")).contains(mount.get("name"));
    Map<String, Object> claim = claims.stream().filter(c -> mount.get("name").equals(at(c, "metadata.name"))).findFirst()
        .orElseThrow();
    assertThat(strings(at(claim, "spec.accessModes"))).containsExactly("ReadWriteOnce");
    assertThat(at(statefulSet, "spec.persistentVolumeClaimRetentionPolicy"))
        .isEqualTo(Map.of("whenScaled", "Retain", "whenDeleted", "Retain"));
    assertThat(volume((String) mount.get("name"))).as("not an ordinary pod volume").isNull();
    // the read-only root file system's one scratch directory
    assertThat(volume((String) mountFor("/tmp").get("name"))).containsKey("emptyDir");
  }

  @Test
  void theGracePeriodCoversThePreStopPauseAndTheDrain() {
    long grace = ((Number) pod.get("terminationGracePeriodSeconds")).longValue();
    List<Object> preStop = strings(at(container, "lifecycle.preStop.exec.command"));
    assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
    long pause = Long.parseLong((String) preStop.get(1));
    Duration drain = config.limits().drainTimeout();
    assertThat(Duration.ofSeconds(grace)).as("grace > preStop + drain_timeout, with room for the audit flush")
        .isGreaterThanOrEqualTo(Duration.ofSeconds(pause).plus(drain).plusSeconds(5));
  }

  @Test
  void thePodRunsAsTheImagesNonRootUserWithNothingToEscalate() {
    String[] user = image.last("USER").orElseThrow().rest().split(":");
    Map<String, Object> psc = map(pod.get("securityContext"));
    Map<String, Object> csc = map(container.get("securityContext"));
    for (Map<String, Object> sc : List.of(psc, csc)) {
      assertThat(sc).containsEntry("runAsNonRoot", true)
          .containsEntry("runAsUser", Integer.parseInt(user[0])).containsEntry("runAsGroup", Integer.parseInt(user[1]));
      assertThat(at(sc, "seccompProfile.type")).isEqualTo("RuntimeDefault");
    }
    assertThat(psc).containsEntry("fsGroup", Integer.parseInt(user[1]));
    assertThat(csc).containsEntry("readOnlyRootFilesystem", true).containsEntry("allowPrivilegeEscalation", false);
    assertThat(strings(at(csc, "capabilities.drop"))).containsExactly("ALL");
    assertThat(csc).doesNotContainKey("privileged");
    assertThat(map(at(container, "resources.requests"))).containsKeys("cpu", "memory");
    assertThat(map(at(container, "resources.limits"))).containsKey("memory");
    assertThat(list(pod.get("topologySpreadConstraints"))).extracting(t -> t.get("topologyKey"))
        .contains("topology.kubernetes.io/zone", "kubernetes.io/hostname");
  }

  @Test
  void theImageIsTheOneTheDockerfileBuilds() throws IOException {
    Map<String, String> labels = new LinkedHashMap<>();
    image.all("LABEL").forEach(l -> labels.putAll(ParsedDockerfile.pairs(l)));
    String version = image.all("ARG").stream().map(a -> a.rest()).filter(a -> a.startsWith("VERSION="))
        .map(a -> a.substring("VERSION=".length())).findFirst().orElseThrow();
    assertThat(container.get("image")).isEqualTo(labels.get("org.opencontainers.image.title") + ":" + version);
    String pom = Files.readString(repo.resolve("pom.xml"));
    assertThat(pom).contains("<version>" + version + "</version>");
    // and the ports the image declares are the ones the pod opens
    Set<Integer> exposed = new TreeSet<>();
    image.all("EXPOSE").forEach(e -> e.words().forEach(w -> exposed.add(Integer.parseInt(w))));
    assertThat(exposed).containsExactlyInAnyOrder(containerPort("proxy"), containerPort("admin"));
  }

  @Test
  void servicesRouteCallersToTheProxyPortAndTheHeadlessOneGovernsTheStatefulSet() {
    Map<String, Object> callers = named("Service", "vertex-proxy");
    Map<String, Object> headless = named("Service", "vertex-proxy-headless");
    assertThat(at(headless, "spec.clusterIP")).isEqualTo("None");
    assertThat(at(statefulSet, "spec.serviceName")).isEqualTo("vertex-proxy-headless");
    List<Map<String, Object>> ports = list(at(callers, "spec.ports"));
    assertThat(ports).hasSize(1);
    assertThat(containerPort(ports.get(0).get("targetPort"))).isEqualTo(config.listen().address().getPort());
    Map<String, Object> podLabels = map(at(statefulSet, "spec.template.metadata.labels"));
    for (Map<String, Object> s : List.of(callers, headless)) {
      assertThat(podLabels).containsAllEntriesOf(map(at(s, "spec.selector")));
    }
    assertThat(podLabels).containsAllEntriesOf(map(at(statefulSet, "spec.selector.matchLabels")));
  }

  @Test
  void theServiceMonitorScrapesTheAdminMetricsThroughTheHeadlessService() {
    Map<String, Object> sm = one("ServiceMonitor");
    assertThat(sm.get("apiVersion")).isEqualTo("monitoring.coreos.com/v1");
    Map<String, Object> headless = named("Service", "vertex-proxy-headless");
    assertThat(map(at(headless, "metadata.labels"))).containsAllEntriesOf(map(at(sm, "spec.selector.matchLabels")));
    assertThat(map(at(named("Service", "vertex-proxy"), "metadata.labels")))
        .as("only the headless Service is scraped (else every pod twice)")
        .doesNotContainEntry("app.kubernetes.io/component", "metrics");
    List<Map<String, Object>> endpoints = list(at(sm, "spec.endpoints"));
    assertThat(endpoints).hasSize(1);
    assertThat(endpoints.get(0).get("path")).isEqualTo("/metrics");
    Map<String, Object> servicePort = list(at(headless, "spec.ports")).stream()
        .filter(p -> Objects.equals(p.get("name"), endpoints.get(0).get("port"))).findFirst().orElseThrow();
    assertThat(containerPort(servicePort.get("targetPort"))).isEqualTo(config.admin().address().getPort());
  }

  @Test
  void theNetworkPolicyAdmitsCallersToTheProxyPortAndOnlyMonitoringToTheAdminPort() {
    Map<String, Object> np = one("NetworkPolicy");
    assertThat(map(at(statefulSet, "spec.template.metadata.labels")))
        .containsAllEntriesOf(map(at(np, "spec.podSelector.matchLabels")));
    assertThat(strings(at(np, "spec.policyTypes"))).containsExactlyInAnyOrder("Ingress", "Egress");
    int proxyPort = config.listen().address().getPort();
    int adminPort = config.admin().address().getPort();
    List<Map<String, Object>> ingress = list(at(np, "spec.ingress"));
    for (Map<String, Object> rule : ingress) {
      Set<Integer> ports = new TreeSet<>();
      list(rule.get("ports")).forEach(p -> ports.add(containerPort(p.get("port"))));
      assertThat(ports).as("every ingress rule names its ports").isNotEmpty();
      if (ports.contains(adminPort)) {
        assertThat(ports).containsOnly(adminPort);
        assertThat(list(rule.get("from"))).singleElement().satisfies(f -> assertThat(f)
            .isEqualTo(Map.of("namespaceSelector", Map.of("matchLabels", Map.of("kubernetes.io/metadata.name", "monitoring")))));
      } else {
        assertThat(ports).containsOnly(proxyPort);
      }
    }
    assertThat(ingress).anySatisfy(r -> assertThat(r).doesNotContainKey("from")); // callers: from anywhere
    Set<String> egress = new TreeSet<>();
    for (Map<String, Object> rule : list(at(np, "spec.egress"))) {
      for (Map<String, Object> p : list(rule.get("ports"))) {
        String where = rule.containsKey("to") ? "metadata" : "any";
        egress.add(where + " " + p.get("protocol") + "/" + p.get("port"));
      }
      if (rule.containsKey("to")) {
        assertThat(list(rule.get("to"))).extracting(t -> at(t, "ipBlock.cidr"))
            .containsExactlyInAnyOrder("169.254.169.254/32", "169.254.169.252/32");
      }
    }
    assertThat(egress).containsExactlyInAnyOrder("any UDP/53", "any TCP/53", "any TCP/443", "metadata TCP/80",
        "metadata TCP/988");
  }

  @Test
  void scalingAndDisruptionsTargetTheStatefulSet() {
    Map<String, Object> hpa = one("HorizontalPodAutoscaler");
    assertThat(at(hpa, "spec.scaleTargetRef")).isEqualTo(Map.of("apiVersion", "apps/v1", "kind", "StatefulSet",
        "name", at(statefulSet, "metadata.name")));
    assertThat(((Number) at(hpa, "spec.minReplicas")).intValue()).isGreaterThanOrEqualTo(2);
    assertThat(map(at(statefulSet, "spec"))).as("the autoscaler owns the replica count").doesNotContainKey("replicas");
    Map<String, Object> pdb = one("PodDisruptionBudget");
    assertThat(map(at(statefulSet, "spec.template.metadata.labels")))
        .containsAllEntriesOf(map(at(pdb, "spec.selector.matchLabels")));
    assertThat(((Number) at(pdb, "spec.maxUnavailable")).intValue()).isEqualTo(1);
  }

  @Test
  void theServiceAccountIsMappedToAGoogleServiceAccountAndHoldsNoKey() {
    Map<String, Object> sa = one("ServiceAccount");
    assertThat(pod.get("serviceAccountName")).isEqualTo(at(sa, "metadata.name"));
    assertThat(map(at(sa, "metadata.annotations")))
        .containsEntry("iam.gke.io/gcp-service-account", "vertex-proxy@PROJECT.iam.gserviceaccount.com");
    assertThat(config.credentials().sourceCredentialsFile()).as("ambient credentials: Workload Identity").isNull();
  }

  @Test
  void theKubernetesConfigStaysInStepWithTheReferenceConfig() throws Exception {
    ProxyConfig reference = new ConfigLoader(name -> null).load(repo.resolve("config/proxy.yaml"));
    // the image, the Service and the probes are built around these: they must not drift apart
    assertThat(config.listen().address().getPort()).isEqualTo(reference.listen().address().getPort());
    assertThat(config.admin().address().getPort()).isEqualTo(reference.admin().address().getPort());
    assertThat(config.listen().tls()).isEqualTo(reference.listen().tls());
    assertThat(config.audit().dir()).isEqualTo(reference.audit().dir());
    assertThat(config.audit().onFailure()).isEqualTo(reference.audit().onFailure());
    assertThat(tmp.resolve("etc").relativize(config.policy().file()))
        .isEqualTo(repo.resolve("config").relativize(reference.policy().file()));
    assertThat(config.credentials().mode()).isEqualTo(reference.credentials().mode());
    assertThat(config.upstream()).isEqualTo(reference.upstream());
    // the cluster's log collector parses one JSON event per line, whatever the default would guess
    assertThat(config.logging().format()).isEqualTo(ProxyConfig.LogFormat.JSON);
    // what differs on purpose: the admin listener binds every interface, and the issuers are this deployment's
    assertThat(Set.of("127.0.0.1", "::1", "localhost").contains(reference.admin().address().getHostString())).isTrue();
  }

  // ---- helpers over the rendered documents ----

  private static String configMapFile(String generatedName, String key) {
    Map<String, Object> cm = docs.stream().filter(d -> "ConfigMap".equals(d.get("kind")))
        .filter(d -> ((String) at(d, "metadata.name")).startsWith(generatedName + "-")).findFirst().orElseThrow();
    return (String) map(cm.get("data")).get(key);
  }

  /** What serves {@code path} inside the container: "configMap NAME/KEY" or "secret NAME/KEY" of a projected volume. */
  private static String projected(String path) {
    Map<String, Object> mount = mountFor(path);
    String relative = Path.of((String) mount.get("mountPath")).relativize(Path.of(path)).toString();
    Map<String, Object> v = volume((String) mount.get("name"));
    assertThat(v).as("volume for " + path).containsKey("projected");
    for (Map<String, Object> source : list(at(v, "projected.sources"))) {
      for (String kind : List.of("configMap", "secret")) {
        if (!source.containsKey(kind)) {
          continue;
        }
        Map<String, Object> s = map(source.get(kind));
        for (Map<String, Object> item : list(s.get("items"))) {
          if (relative.equals(item.get("path"))) {
            String name = (String) s.get("name");
            if (kind.equals("configMap")) {
              // the generated name carries a content hash; it must be the ConfigMap that was rendered
              assertThat(docs).anySatisfy(d -> assertThat(at(d, "metadata.name")).isEqualTo(name));
              return kind + " " + name.substring(0, name.lastIndexOf('-')) + "/" + item.get("key");
            }
            return kind + " " + name + "/" + item.get("key");
          }
        }
      }
    }
    return "nothing at " + relative;
  }

  /** The container's mount whose path is the deepest one containing {@code path}. */
  private static Map<String, Object> mountFor(String path) {
    Map<String, Object> best = null;
    for (Map<String, Object> m : list(container.get("volumeMounts"))) {
      Path mp = Path.of((String) m.get("mountPath"));
      if (Path.of(path).startsWith(mp)
          && (best == null || mp.getNameCount() > Path.of((String) best.get("mountPath")).getNameCount())) {
        best = m;
      }
    }
    assertThat(best).as("a volume mount holding " + path).isNotNull();
    return best;
  }

  private static Map<String, Object> volume(String name) {
    return list(pod.get("volumes")).stream().filter(v -> name.equals(v.get("name"))).findFirst().orElse(null);
  }

  /** A container port, by number or by the name a Service, probe or NetworkPolicy uses. */
  private static int containerPort(Object nameOrNumber) {
    if (nameOrNumber instanceof Number n) {
      return n.intValue();
    }
    return list(container.get("ports")).stream().filter(p -> nameOrNumber.equals(p.get("name")))
        .map(p -> ((Number) p.get("containerPort")).intValue()).findFirst()
        .orElseThrow(() -> new AssertionError("no container port " + nameOrNumber));
  }

  private static List<Object> probe(String kind) {
    Map<String, Object> get = map(at(container, kind + ".httpGet"));
    return List.of(get.get("path"), containerPort(get.get("port")));
  }

  private static Map<String, Object> one(String kind) {
    List<Map<String, Object>> found = docs.stream().filter(d -> kind.equals(d.get("kind"))).toList();
    assertThat(found).as(kind).hasSize(1);
    return found.get(0);
  }

  private static Map<String, Object> named(String kind, String name) {
    return docs.stream().filter(d -> kind.equals(d.get("kind")) && name.equals(at(d, "metadata.name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  static Object at(Map<String, Object> m, String dotted) {
    Object o = m;
    for (String k : dotted.split("\\.")) {
      if (!(o instanceof Map<?, ?> mm)) {
        return null;
      }
      o = mm.get(k);
    }
    return o;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Object o) {
    return o == null ? Map.of() : (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Object> strings(Object o) {
    return o == null ? List.of() : (List<Object>) o;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Object o) {
    return o == null ? List.of() : (List<Map<String, Object>>) o;
  }
}
