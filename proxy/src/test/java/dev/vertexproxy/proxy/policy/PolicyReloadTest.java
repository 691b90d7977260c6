package dev.vertexproxy.proxy.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.Rule;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The policy in force and its watcher on real files in a real directory: each way a file gets replaced (rename over
 * it, a Kubernetes ConfigMap's symlink swap, a write in place) is picked up by the directory watch, a broken file is
 * refused visibly and the last good policy stays, unchanged content is no reload. The periodic check is set to an hour
 * in the watch tests so that only the watch can be what applied the change.
 */
class PolicyReloadTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration DEADLINE = Duration.ofSeconds(2);
  private static final PolicyInForce.Loader LOADER = (text, source) -> Policy.parse(text, source, MethodCatalog.bundled(),
      Set.of("dev"));

  @TempDir
  Path tmp;

  private final List<ILoggingEvent> logged = Collections.synchronizedList(new ArrayList<>());
  private AppenderBase<ILoggingEvent> capture;
  private PolicyWatcher watcher;

  @BeforeEach
  void captureLogs() {
    capture = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        logged.add(e);
      }
    };
    capture.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    capture.start();
    logger().addAppender(capture);
  }

  @AfterEach
  void stop() {
    logger().detachAppender(capture);
    if (watcher != null) {
      watcher.close();
    }
  }

  static String policy(String ruleName) {
    return "version: 1\nrules:\n"
        + "  - name: " + ruleName + "\n"
        + "    effect: allow\n"
        + "    identity:\n"
        + "      issuer: dev\n"
        + "      claims: { project_path: acme/app }\n"
        + "    methods: [publishers.models.generateContent]\n"
        + "    resources: { projects: [p1], locations: [us-central1] }\n"
        + "    service_account: sa@p1.iam.gserviceaccount.com\n";
  }

  static final String BROKEN = "version: 1\nrules:\n"
      + "  - name: broken\n"
      + "    effect: allow\n"
      + "    identity: { issuer: nobody }\n"
      + "    methods: [publishers.models.generateContentt]\n";

  @Test
  void aFileRenamedOverThePolicyIsPickedUp() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    PolicyInForce p = watched(file);
    Path next = write(tmp.resolve(".policy.yaml.swp"), policy("renamed"));
    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    awaitRule(p, "renamed");
    assertThat(p.lastAttempt().trigger()).isEqualTo(PolicyInForce.Trigger.WATCH);
    assertThat(p.lastAttempt().result()).isEqualTo(PolicyInForce.Result.RELOADED);
  }

  @Test
  void aConfigMapSymlinkSwapIsPickedUp() throws Exception {
    // the layout kubelet writes: policy.yaml -> ..data/policy.yaml, ..data -> ..<timestamp>, swapped by rename
    Path mount = Files.createDirectories(tmp.resolve("mount"));
    Path first = Files.createDirectories(mount.resolve("..2026_12_02_10_00_00.000000001"));
    write(first.resolve("policy.yaml"), policy("first"));
    Files.createSymbolicLink(mount.resolve("..data"), first.getFileName());
    Path file = Files.createSymbolicLink(mount.resolve("policy.yaml"), Path.of("..data", "policy.yaml"));
    PolicyInForce p = watched(file);
    assertThat(p.get().rules()).extracting(Rule::name).containsExactly("first");

    Path second = Files.createDirectories(mount.resolve("..2026_12_02_10_05_00.000000002"));
    write(second.resolve("policy.yaml"), policy("swapped"));
    Path tmpLink = Files.createSymbolicLink(mount.resolve("..data_tmp"), second.getFileName());
    Files.move(tmpLink, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    awaitRule(p, "swapped");
    assertThat(p.file()).isEqualTo(file);
  }

  @Test
  void aWriteInPlaceIsPickedUp() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    PolicyInForce p = watched(file);
    write(file, policy("edited"));
    awaitRule(p, "edited");
  }

  @Test
  void aBrokenFileIsRefusedVisiblyTheOldPolicyStaysAndTheNextGoodOneApplies() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    PolicyInForce p = watched(file);
    String good = p.get().version();
    write(file, BROKEN);
    await(() -> p.lastFailure() != null, "the broken file judged");
    assertThat(p.get().version()).isEqualTo(good);
    assertThat(p.get().rules()).extracting(Rule::name).containsExactly("first");

    // one WARN with every problem, each with its line
    List<String> warnings = logged.stream().filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(warnings).singleElement().satisfies(w -> assertThat(w)
        .contains("refused", good, "stays in force", "generateContentt", "nobody")
        .contains(file + ":6:").contains(file + ":5:"));

    JsonNode status = JSON.readTree(p.statusJson());
    assertThat(status.get("version").asText()).isEqualTo(good);
    assertThat(status.get("rules").asInt()).isEqualTo(1);
    assertThat(status.get("last_attempt").get("result").asText()).isEqualTo("refused");
    assertThat(status.get("last_failure").get("trigger").asText()).isEqualTo("watch");
    JsonNode problems = status.get("last_failure").get("problems");
    assertThat(problems.size()).isGreaterThanOrEqualTo(2);
    for (JsonNode pr : problems) {
      assertThat(pr.get("file").asText()).isEqualTo(file.toString());
      assertThat(pr.get("line").asInt()).isBetween(3, 6);
      assertThat(pr.get("column").asInt()).isPositive();
      assertThat(pr.has("path") && pr.has("message")).isTrue();
    }
    assertThat(status.get("reloads").get("refused").asInt()).isEqualTo(1);

    write(file, policy("fixed"));
    awaitRule(p, "fixed");
    JsonNode after = JSON.readTree(p.statusJson());
    assertThat(after.get("last_attempt").get("result").asText()).isEqualTo("reloaded");
    assertThat(after.get("last_failure").get("problems").size()).as("the last failure stays visible").isPositive();
  }

  @Test
  void unchangedContentIsNoReloadForThePollButTheOperatorsReloadSaysUnchanged() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    PolicyInForce p = PolicyInForce.load(file, LOADER, Clock.systemUTC(), PolicyEvents.NONE);
    assertThat(p.reloadIfChanged(PolicyInForce.Trigger.POLL)).isFalse();
    assertThat(p.lastAttempt()).isNull();
    assertThat(p.reload(PolicyInForce.Trigger.ADMIN)).isEqualTo(p.get().version());
    assertThat(p.lastAttempt().result()).isEqualTo(PolicyInForce.Result.UNCHANGED);

    // a refused file is judged once by the poll, not again every interval; the operator's reload judges it again
    write(file, BROKEN);
    assertThat(p.reloadIfChanged(PolicyInForce.Trigger.POLL)).isTrue();
    assertThat(p.reloadIfChanged(PolicyInForce.Trigger.POLL)).isFalse();
    assertThatThrownBy(() -> p.reload(PolicyInForce.Trigger.SIGNAL)).isInstanceOf(PolicyException.class)
        .hasMessageContaining("generateContentt");
    assertThat(JSON.readTree(p.statusJson()).get("reloads").get("refused").asInt()).isEqualTo(2);

    // back to the content in force: judged, and unchanged
    write(file, policy("first"));
    assertThat(p.reloadIfChanged(PolicyInForce.Trigger.POLL)).isTrue();
    assertThat(p.lastAttempt().result()).isEqualTo(PolicyInForce.Result.UNCHANGED);
  }

  @Test
  void aDeletedFileIsRefusedAndTheLastGoodPolicyStays() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    PolicyInForce p = PolicyInForce.load(file, LOADER, Clock.systemUTC(), PolicyEvents.NONE);
    Files.delete(file);
    assertThat(p.reloadIfChanged(PolicyInForce.Trigger.POLL)).isTrue();
    assertThat(p.reloadIfChanged(PolicyInForce.Trigger.POLL)).isFalse();
    assertThat(p.lastFailure().problems()).singleElement().satisfies(pr -> assertThat(pr.message()).contains("cannot read"));
    assertThat(p.get().rules()).extracting(Rule::name).containsExactly("first");
  }

  @Test
  void thePeriodicCheckAppliesAChangeWithoutTheWatch() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    PolicyInForce p = PolicyInForce.load(file, LOADER, Clock.systemUTC(), PolicyEvents.NONE);
    watcher = PolicyWatcher.start(p, false, Duration.ofMillis(100));
    write(file, policy("polled"));
    awaitRule(p, "polled");
    assertThat(p.lastAttempt().trigger()).isEqualTo(PolicyInForce.Trigger.POLL);
  }

  @Test
  void aBrokenFileAtStartUpIsAnError() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), BROKEN);
    assertThatThrownBy(() -> PolicyInForce.load(file, LOADER, Clock.systemUTC(), PolicyEvents.NONE))
        .isInstanceOf(PolicyException.class).hasMessageContaining(file + ":6:");
  }

  @Test
  void theStatusBeforeAnyReloadNamesTheFileAndLoadTime() throws Exception {
    Path file = write(tmp.resolve("policy.yaml"), policy("first"));
    Instant before = Instant.now();
    PolicyInForce p = PolicyInForce.load(file, LOADER, Clock.systemUTC(), PolicyEvents.NONE);
    JsonNode status = JSON.readTree(p.statusJson());
    assertThat(status.get("file").asText()).isEqualTo(file.toString());
    assertThat(Instant.parse(status.get("loaded_at").asText())).isAfterOrEqualTo(before);
    assertThat(status.get("last_attempt").isNull()).isTrue();
    assertThat(status.get("last_failure").isNull()).isTrue();
    assertThat(status.get("version").asText()).startsWith("sha256:").hasSize(19);
  }

  private PolicyInForce watched(Path file) throws PolicyException {
    PolicyInForce p = PolicyInForce.load(file, LOADER, Clock.systemUTC(), PolicyEvents.NONE);
    watcher = PolicyWatcher.start(p, true, Duration.ofHours(1));
    return p;
  }

  private static Path write(Path file, String text) throws Exception {
    return Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  private static void awaitRule(PolicyInForce p, String name) throws InterruptedException {
    await(() -> p.get().rules().stream().anyMatch(r -> r.name().equals(name)), "rule " + name + " in force");
  }

  private static void await(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + DEADLINE + ": " + what);
      }
      Thread.sleep(10);
    }
  }

  private static Logger logger() {
    return ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(PolicyInForce.class);
  }
}
