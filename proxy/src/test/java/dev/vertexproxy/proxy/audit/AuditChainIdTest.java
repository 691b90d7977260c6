package dev.vertexproxy.proxy.audit;

import static dev.vertexproxy.proxy.audit.TestEvents.T0;
import static dev.vertexproxy.proxy.audit.TestEvents.allowed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditChainIdTest {
  @TempDir
  Path tmp;

  private Path dir() {
    return tmp.resolve("audit");
  }

  private AuditConfig config() {
    return new AuditConfig(dir(), Durability.NONE, null);
  }

  @Test
  void theFirstStartCreatesAnOwnerOnlyChainIdThatEveryRecordCarriesAndThatSurvivesReopening() throws Exception {
    String first;
    try (AuditLog log = AuditLog.open(config(), new DrivenClock(T0))) {
      first = log.chainId();
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    assertThat(first).matches("[a-z0-9.-]{1,55}-[0-9a-f]{8}");
    Path file = dir().resolve(ChainId.FILE_NAME);
    assertThat(Files.readString(file)).isEqualTo(first + "\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    try (AuditLog log = AuditLog.open(config(), new DrivenClock(T0.plusSeconds(5)))) {
      assertThat(log.chainId()).isEqualTo(first);
      log.append(allowed(1)).get(10, TimeUnit.SECONDS);
    }
    assertThat(Trail.records(dir())).hasSize(2).allSatisfy(r -> assertThat(r.get("chain_id").asText()).isEqualTo(first));
    // a second directory gets a chain of its own
    try (AuditLog other = AuditLog.open(new AuditConfig(tmp.resolve("b"), Durability.NONE, null), new DrivenClock(T0))) {
      assertThat(other.chainId()).isNotEqualTo(first);
    }
  }

  @Test
  void aConfiguredIdNamesANewChainAndMustMatchAnExistingOne() throws Exception {
    try (AuditLog log = AuditLog.open(config().withChainId("replica-a"), new DrivenClock(T0))) {
      assertThat(log.chainId()).isEqualTo("replica-a");
    }
    try (AuditLog log = AuditLog.open(config(), new DrivenClock(T0.plusSeconds(1)))) { // left out: the file's
      assertThat(log.chainId()).isEqualTo("replica-a");
    }
    assertThatThrownBy(() -> AuditLog.open(config().withChainId("replica-b"), new DrivenClock(T0)))
        .hasMessageContaining("audit dir " + dir() + " belongs to chain replica-a");
    assertThatThrownBy(() -> AuditLog.open(config().withChainId("../etc"), new DrivenClock(T0)))
        .hasMessageContaining("not a valid chain id");
    // refused opens released the directory
    AuditLog.open(config(), new DrivenClock(T0.plusSeconds(2))).close();
  }

  @Test
  void aMalformedChainIdFileOrARecordOfAnotherChainIsRefused() throws Exception {
    Files.createDirectories(dir());
    Files.writeString(dir().resolve(ChainId.FILE_NAME), "two words\n");
    assertThatThrownBy(() -> AuditLog.open(config(), new DrivenClock(T0))).hasMessageContaining("valid chain id");

    Files.writeString(dir().resolve(ChainId.FILE_NAME), "chain-a\n");
    try (AuditLog log = AuditLog.open(config(), new DrivenClock(T0))) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    Files.writeString(dir().resolve(ChainId.FILE_NAME), "chain-b\n"); // replaced, e.g. restored from elsewhere
    assertThatThrownBy(() -> AuditLog.open(config(), new DrivenClock(T0.plusSeconds(1))))
        .hasMessageContaining("belongs to chain chain-b").hasMessageContaining("is of chain chain-a");
  }

  @Test
  void aFreshIdIsCutFromAnyHostName() {
    assertThat(ChainId.fresh("Proxy_1.Example.COM")).matches("proxy-1\\.example\\.com-[0-9a-f]{8}");
    assertThat(ChainId.fresh("x".repeat(200))).matches("x{55}-[0-9a-f]{8}");
    assertThat(ChainId.fresh("..")).matches("chain-[0-9a-f]{8}");
    assertThat(ChainId.fresh(null)).matches(ChainId.VALID.pattern());
  }

  @Test
  void legacyRecordsWithoutAChainIdDoNotStopAResume() throws Exception {
    try (AuditLog log = AuditLog.open(config(), new DrivenClock(T0))) {
      log.append(allowed(0)).get(10, TimeUnit.SECONDS);
    }
    Path file = AuditFiles.list(dir()).get(0);
    ObjectNode record = Trail.lines(file).get(0);
    record.remove("chain_id");
    record.remove("hash");
    record.put("hash", AuditRecords.hash(record));
    Files.write(file, (AuditRecords.utf8(AuditRecords.canonical(record)) + "\n").getBytes());
    Files.delete(dir().resolve(ChainId.FILE_NAME)); // a directory from before chain ids
    try (AuditLog log = AuditLog.open(config(), new DrivenClock(T0.plusSeconds(1)))) {
      assertThat(log.append(allowed(1)).get(10, TimeUnit.SECONDS).seq()).isEqualTo(2);
    }
  }
}
