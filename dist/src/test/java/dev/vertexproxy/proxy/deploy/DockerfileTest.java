package dev.vertexproxy.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.deploy.ParsedDockerfile.Instruction;
import dev.vertexproxy.proxy.deploy.ParsedDockerfile.Stage;
import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The image as the Dockerfile defines it, checked without a Docker engine: a multi-stage build on pinned bases, a
 * runtime stage that holds the jar and the example configuration and nothing else, a numeric non-root user, exec-form
 * entrypoint and health check, and ports, volumes and paths that agree with the configuration the image ships.
 * {@link EntrypointTest} runs what this file declares.
 */
class DockerfileTest {
  static final Pattern PINNED = Pattern.compile(
      "(?<name>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
          + ":(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]*)@sha256:(?:<digest>|[0-9a-f]{64})");
  static final String JAR = "/opt/vertex-proxy/vertex-proxy.jar";

  static Path root;
  static ParsedDockerfile dockerfile;
  static Stage runtime;
  static ProxyConfig shipped;

  @BeforeAll
  static void read() throws Exception {
    root = Examples.repoRoot();
    dockerfile = ParsedDockerfile.read(root.resolve("Dockerfile"));
    runtime = dockerfile.runtime();
    shipped = new ConfigLoader(name -> null).load(root.resolve("config/proxy.yaml"));
  }

  @Test
  void buildsInStagesAndTheRuntimeStageStartsFromAJre17() {
    assertThat(dockerfile.stages).hasSizeGreaterThanOrEqualTo(2);
    Stage build = dockerfile.stage("build");
    assertThat(build.base()).startsWith("maven:").contains("-eclipse-temurin-17@");
    assertThat(build.all("RUN")).anySatisfy(run -> assertThat(run.rest()).contains("mvn -B").contains("-DskipTests")
        .contains("package").contains("-pl dist -am"));
    assertThat(runtime.name()).isNull();
    assertThat(runtime.base()).matches("eclipse-temurin:17\\.[0-9.]+_[0-9]+-jre-[a-z]+@.*");
  }

  @Test
  void everyBaseImageIsPinnedByVersionAndDigestAndNamesNoRegistryHost() {
    for (Stage s : dockerfile.stages) {
      var m = PINNED.matcher(s.base());
      assertThat(m.matches()).as("FROM %s (line %d): name:version@sha256:digest", s.base(), s.from().line()).isTrue();
      String tag = m.group("tag");
      assertThat(tag).as("a version, not a moving tag").matches(".*[0-9]+\\.[0-9]+.*").doesNotContain("latest");
      String firstComponent = m.group("name").split("/")[0];
      assertThat(firstComponent).as("the default registry's short name").doesNotContain(".").isNotEqualTo("localhost");
    }
    // the placeholder comes with the way to fill it
    String text = readDockerfile();
    for (Stage s : dockerfile.stages) {
      if (s.base().endsWith("<digest>")) {
        String image = s.base().substring(0, s.base().indexOf('@'));
        assertThat(text).contains("imagetools inspect " + image);
      }
    }
  }

  @Test
  void nothingIsFetchedFromUrlsAndTheRuntimeStageInstallsNothing() {
    assertThat(dockerfile.instructions).noneMatch(i -> i.keyword().equals("ADD"));
    for (Instruction run : runtime.all("RUN")) {
      assertThat(run.rest()).doesNotContainPattern("\\b(apt-get|apt|apk|curl|wget|microdnf|yum)\\b");
    }
  }

  @Test
  void theRuntimeStageCopiesOnlyTheJarTheExampleConfigurationAndTheLicence() {
    List<String> copies = new ArrayList<>();
    for (Instruction c : runtime.all("COPY")) {
      List<String> w = c.words();
      String from = c.flags().getOrDefault("from", "context");
      for (String src : w.subList(0, w.size() - 1)) {
        copies.add(from + ":" + src + " -> " + w.get(w.size() - 1));
      }
      assertThat(c.flags()).as("files the runtime user could rewrite").doesNotContainKey("chown").doesNotContainKey("chmod");
    }
    assertThat(copies).containsExactlyInAnyOrder(
        "build:/vertex-proxy.jar -> " + JAR,
        "context:config/proxy.yaml -> /etc/vertex-proxy/",
        "context:config/policy.yaml -> /etc/vertex-proxy/",
        "context:LICENSE -> /opt/vertex-proxy/");
    // what the build stage hands over is the shaded jar the reactor builds
    assertThat(dockerfile.stage("build").all("RUN"))
        .anySatisfy(r -> assertThat(r.rest()).contains("cp dist/target/vertex-proxy.jar /vertex-proxy.jar"));
  }

  @Test
  void everyFileTheBuildCopiesFromTheContextExistsAndTheDockerignoreAdmitsIt() throws Exception {
    DockerIgnore ignore = DockerIgnore.read(root.resolve(".dockerignore"));
    for (Stage s : dockerfile.stages) {
      for (Instruction c : s.all("COPY")) {
        if (c.flags().containsKey("from")) {
          continue;
        }
        List<String> w = c.words();
        for (String src : w.subList(0, w.size() - 1)) {
          String path = src.endsWith("/") ? src.substring(0, src.length() - 1) : src;
          assertThat(root.resolve(path)).as("COPY %s (line %d)", src, c.line()).exists();
          assertThat(ignore.excluded(path)).as(".dockerignore admits %s", path).isFalse();
        }
      }
    }
    // local state, build output and VCS data never reach the builder
    for (String p : List.of(".vertex-proxy-dev/audit/audit-1.jsonl", ".vertex-proxy-dev/google-credentials.json",
        "dist/target/vertex-proxy.jar", "proxy/target/classes/x.class", ".git/config", "examples/node/node_modules/x",
        "docs/security.md", "Dockerfile")) {
      assertThat(ignore.excluded(p)).as(".dockerignore excludes %s", p).isTrue();
    }
  }

  @Test
  void theRuntimeUserIsNumericAndNotRoot() {
    Instruction user = runtime.last("USER").orElseThrow();
    assertThat(user.rest()).matches("[0-9]+:[0-9]+");
    assertThat(Arrays.stream(user.rest().split(":")).mapToInt(Integer::parseInt)).allMatch(id -> id > 0);
    int userAt = runtime.instructions().indexOf(user);
    Instruction entrypoint = runtime.last("ENTRYPOINT").orElseThrow();
    assertThat(runtime.instructions().indexOf(entrypoint)).isGreaterThan(userAt);
    assertThat(runtime.instructions().subList(userAt, runtime.instructions().size()))
        .as("nothing runs as root after USER").noneMatch(i -> i.keyword().equals("RUN"));
  }

  @Test
  void theEntrypointRunsTheJarWithTheReadOnlyFlagsAndTheCommandServesTheShippedConfig() {
    List<String> entrypoint = runtime.last("ENTRYPOINT").orElseThrow().json();
    assertThat(entrypoint.get(0)).isEqualTo("java");
    assertThat(entrypoint).contains("-XX:-UsePerfData", "-Djava.io.tmpdir=/tmp");
    assertThat(entrypoint.subList(entrypoint.size() - 2, entrypoint.size())).containsExactly("-jar", JAR);
    // memory tunables stay out of the entrypoint, where JAVA_TOOL_OPTIONS and JDK_JAVA_OPTIONS could not override them
    assertThat(entrypoint).noneMatch(a -> a.contains("RAMPercentage") || a.startsWith("-Xm"));

    List<String> cmd = runtime.last("CMD").orElseThrow().json();
    assertThat(cmd).containsExactly("serve", "--config", "/etc/vertex-proxy/proxy.yaml");
  }

  @Test
  void theJvmIsContainerAwareByDefaultAndOverridable() {
    String options = runtime.env().get("JAVA_TOOL_OPTIONS");
    assertThat(options).isNotNull();
    List<String> flags = List.of(options.split(" +"));
    assertThat(flags).anyMatch(f -> f.matches("-XX:MaxRAMPercentage=[0-9]+(\\.[0-9]+)?"))
        .contains("-XX:+ExitOnOutOfMemoryError")
        .as("a fixed heap ignores the container's memory limit").noneMatch(f -> f.startsWith("-Xmx") || f.startsWith("-Xms"))
        .noneMatch(f -> f.equals("-XX:-UseContainerSupport"));
    double percent = flags.stream().filter(f -> f.startsWith("-XX:MaxRAMPercentage="))
        .mapToDouble(f -> Double.parseDouble(f.substring(f.indexOf('=') + 1))).findFirst().orElseThrow();
    assertThat(percent).as("room for direct buffers, metaspace and threads beside the heap").isBetween(25.0, 75.0);
  }

  @Test
  void theHealthCheckProbesTheShippedAdminListenerThroughTheJarWithinItsOwnTimeout() {
    Instruction hc = runtime.last("HEALTHCHECK").orElseThrow();
    assertThat(hc.rest()).startsWith("CMD [");
    List<String> cmd = new Instruction("CMD", hc.flags(), hc.rest().substring("CMD".length()).strip(), hc.line()).json();
    assertThat(cmd.get(0)).isEqualTo("java");
    assertThat(cmd).contains("-XX:-UsePerfData", "-Djava.io.tmpdir=/tmp");
    int jar = cmd.indexOf("-jar");
    assertThat(cmd.subList(jar, cmd.size() - 1)).containsExactly("-jar", JAR, "healthcheck");
    URI url = URI.create(cmd.get(cmd.size() - 1));
    assertThat(url.getScheme()).isEqualTo("http");
    assertThat(url.getHost()).isEqualTo("127.0.0.1");
    assertThat(url.getPort()).isEqualTo(shipped.admin().address().getPort());
    assertThat(url.getPath()).isIn("/readyz", "/healthz");
    Duration timeout = Duration.parse("PT" + hc.flags().get("timeout").toUpperCase());
    assertThat(timeout).as("longer than the command's own 3 s connect/read timeout plus a JVM start")
        .isGreaterThan(Duration.ofSeconds(3));
    assertThat(hc.flags()).containsKeys("interval", "start-period", "retries");
  }

  @Test
  void exposedPortsAreTheShippedConfigsListenAndAdminPorts() {
    Set<Integer> exposed = new TreeSet<>();
    for (Instruction e : runtime.all("EXPOSE")) {
      for (String p : e.words()) {
        exposed.add(Integer.parseInt(p.replace("/tcp", "")));
      }
    }
    assertThat(exposed).containsExactlyInAnyOrder(shipped.listen().address().getPort(), shipped.admin().address().getPort());
  }

  @Test
  void volumesHoldTheConfigurationWithItsPolicyAndTlsFilesAndTheAuditTrail() {
    List<String> volumes = new ArrayList<>();
    for (Instruction v : runtime.all("VOLUME")) {
      volumes.addAll(v.words());
    }
    Path config = Path.of("/etc/vertex-proxy");
    assertThat(volumes).contains(config.toString());
    // the shipped config's relative policy path resolves inside the config volume; its TLS files live there too
    Path policyInImage = config.resolve(root.resolve("config").relativize(shipped.policy().file()));
    assertThat(policyInImage.normalize().startsWith(config)).as(policyInImage.toString()).isTrue();
    assertThat(shipped.listen().tls().cert().startsWith(config)).as(shipped.listen().tls().cert().toString()).isTrue();
    assertThat(shipped.listen().tls().key().startsWith(config)).as(shipped.listen().tls().key().toString()).isTrue();
    assertThat(volumes).as("a volume holding " + shipped.audit().dir())
        .anyMatch(v -> shipped.audit().dir().startsWith(Path.of(v)) && !shipped.audit().dir().equals(Path.of(v)));
    // the audit volume's mount point is created for the runtime user, and is the only thing the image makes writable
    String user = runtime.last("USER").orElseThrow().rest();
    String[] ids = user.split(":");
    assertThat(runtime.all("RUN")).singleElement().satisfies(r -> assertThat(r.rest())
        .isEqualTo("install -d -o " + ids[0] + " -g " + ids[1] + " -m 0750 " + shipped.audit().dir().getParent()));
    assertThat(runtime.last("WORKDIR").orElseThrow().rest()).as("a working directory the proxy cannot write")
        .isEqualTo("/opt/vertex-proxy");
  }

  @Test
  void theImageCarriesOciLabels() {
    Map<String, String> labels = new LinkedHashMap<>();
    for (Instruction l : runtime.all("LABEL")) {
      labels.putAll(ParsedDockerfile.pairs(l));
    }
    assertThat(labels).containsKeys("org.opencontainers.image.title", "org.opencontainers.image.version",
        "org.opencontainers.image.revision", "org.opencontainers.image.licenses", "org.opencontainers.image.description");
    assertThat(labels.get("org.opencontainers.image.title")).isEqualTo("vertex-proxy");
  }

  private static String readDockerfile() {
    try {
      return Files.readString(root.resolve("Dockerfile"));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
