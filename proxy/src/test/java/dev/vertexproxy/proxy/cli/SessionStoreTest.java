package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The person's session file: private, replaced whole, one entry per proxy, and never overwritten when it is foreign. */
class SessionStoreTest {
  private static final Instant T = Instant.parse("2026-03-01T10:00:00Z");

  @TempDir
  Path dir;

  private static StoredSession session(String proxy, String token) throws CliException {
    return new StoredSession(ProxyUrl.parse(proxy), token, T.plus(Duration.ofHours(8)), T, "device", null);
  }

  @Test
  void theFileIsMode0600AndItsDirectory0700() throws Exception {
    SessionStore store = new SessionStore(dir.resolve("cfg/vertex-proxy/sessions.json"));
    store.put(session("https://proxy.example.com", "tok-1"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file()))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file().getParent())))
        .isEqualTo("rwx------");
  }

  @Test
  void aWorldReadableFileAndDirectoryAreReplacedByPrivateOnes() throws Exception {
    Path vp = Files.createDirectories(dir.resolve("vertex-proxy"));
    Files.setPosixFilePermissions(vp, PosixFilePermissions.fromString("rwxr-xr-x"));
    SessionStore store = new SessionStore(vp.resolve("sessions.json"));
    store.put(session("https://a.example.com", "tok-a"));
    Files.setPosixFilePermissions(store.file(), PosixFilePermissions.fromString("rw-r--r--"));
    store.put(session("https://b.example.com", "tok-b"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file()))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(vp))).isEqualTo("rwx------");
  }

  @Test
  void eachWriteReplacesTheFileByRenameAndLeavesNoTemporaryFile() throws Exception {
    SessionStore store = new SessionStore(dir.resolve("sessions.json"));
    store.put(session("https://a.example.com", "tok-a"));
    Object before = Files.getAttribute(store.file(), "unix:ino");
    store.put(session("https://a.example.com", "tok-a2"));
    Object after = Files.getAttribute(store.file(), "unix:ino");
    assertThat(after).as("a new file renamed over the old one, not the old one rewritten in place").isNotEqualTo(before);
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("sessions.json", "sessions.json.lock");
    }
    assertThat(store.get(ProxyUrl.parse("https://a.example.com")).orElseThrow().accessToken()).isEqualTo("tok-a2");
  }

  @Test
  void severalProxiesAreKeptApartAndKeyedByTheirNormalizedUrl() throws Exception {
    SessionStore store = new SessionStore(dir.resolve("sessions.json"));
    store.put(session("https://a.example.com", "tok-a"));
    store.put(session("HTTPS://B.example.com:443/", "tok-b"));
    store.put(session("http://127.0.0.1:8080", "tok-dev"));
    assertThat(store.all().keySet()).extracting(ProxyUrl::value)
        .containsExactly("http://127.0.0.1:8080", "https://a.example.com", "https://b.example.com");
    assertThat(store.remove(ProxyUrl.parse("https://a.example.com/"))).isTrue();
    assertThat(store.remove(ProxyUrl.parse("https://a.example.com"))).isFalse();
    assertThat(store.get(ProxyUrl.parse("https://b.example.com")).orElseThrow().accessToken()).isEqualTo("tok-b");
    assertThat(store.get(ProxyUrl.parse("http://127.0.0.1:8080")).orElseThrow().accessToken()).isEqualTo("tok-dev");
    assertThat(store.get(ProxyUrl.parse("https://a.example.com"))).isEmpty();
  }

  @Test
  void everyFieldSurvivesTheRoundTrip() throws Exception {
    SessionStore store = new SessionStore(dir.resolve("sessions.json"));
    StoredSession s = new StoredSession(ProxyUrl.parse("https://a.example.com"), "tok", T.plusSeconds(60), T,
        "loopback", "/etc/ca.pem");
    store.put(s);
    assertThat(new SessionStore(store.file()).get(s.proxy())).contains(s);
  }

  @Test
  void aFileItDidNotWriteIsAnErrorAndIsLeftAsItWas() throws Exception {
    Path file = dir.resolve("sessions.json");
    for (String foreign : new String[] {"not json", "[]", "{\"version\":2,\"sessions\":{}}",
        "{\"version\":1,\"sessions\":{\"ftp://x\":{}}}",
        "{\"version\":1,\"sessions\":{\"https://a.example.com\":{\"access_token\":\"t\"}}}"}) {
      Files.writeString(file, foreign);
      SessionStore store = new SessionStore(file);
      assertThatThrownBy(store::all).as(foreign).isInstanceOf(CliException.class)
          .hasMessageContaining(file.toString()).hasMessageContaining("log in again");
      assertThatThrownBy(() -> store.put(session("https://b.example.com", "tok-b"))).as(foreign)
          .isInstanceOf(CliException.class);
      assertThat(Files.readString(file)).as(foreign).isEqualTo(foreign);
    }
  }

  @Test
  void theUsualPlaceIsXdgConfigHomeWhenAbsoluteElseDotConfig() {
    Path home = dir.resolve("home");
    assertThat(SessionStore.forUser(Map.of("XDG_CONFIG_HOME", "/xdg"), home).file())
        .isEqualTo(Path.of("/xdg/vertex-proxy/sessions.json"));
    assertThat(SessionStore.forUser(Map.of("XDG_CONFIG_HOME", "relative/dir"), home).file())
        .isEqualTo(home.resolve(".config/vertex-proxy/sessions.json"));
    assertThat(SessionStore.forUser(Map.of(), home).file()).isEqualTo(home.resolve(".config/vertex-proxy/sessions.json"));
  }

  @Test
  void aSessionNeverPrintsItsToken() throws Exception {
    StoredSession s = session("https://a.example.com", "secret-token-value");
    assertThat(s.toString()).doesNotContain("secret-token-value").contains("https://a.example.com");
  }

  @Test
  void validityKeepsAMarginBeforeExpiry() throws Exception {
    StoredSession s = session("https://a.example.com", "t");
    assertThat(s.validAt(s.expiresAt().minus(Duration.ofMinutes(6)), Duration.ofMinutes(5))).isTrue();
    assertThat(s.validAt(s.expiresAt().minus(Duration.ofMinutes(5)), Duration.ofMinutes(5))).isFalse();
    assertThat(s.validAt(s.expiresAt().plusSeconds(1), Duration.ZERO)).isFalse();
  }

  @Test
  void theWrittenFileIsReadableJsonWithoutSurprises() throws IOException, CliException {
    SessionStore store = new SessionStore(dir.resolve("sessions.json"));
    store.put(session("https://a.example.com", "tok-a"));
    String text = new String(Files.readAllBytes(store.file()), StandardCharsets.UTF_8);
    assertThat(text).contains("\"version\" : 1").contains("\"https://a.example.com\"").contains("\"access_token\"");
  }
}
