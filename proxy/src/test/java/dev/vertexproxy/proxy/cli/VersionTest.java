package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.BuildInfo;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class VersionTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void versionNamesTheProjectVersionAndTheCommitItWasBuiltFrom() throws Exception {
    StringWriter out = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), "--version");

    assertThat(code).isZero();
    Matcher m = Pattern.compile("vertex-proxy (\\S+) \\(commit ([0-9a-f]{12})(-dirty)?, (\\S+)\\)").matcher(out.toString());
    assertThat(m.find()).as(out.toString()).isTrue();
    assertThat(m.group(1)).isEqualTo(pomVersion());
    assertThat(m.group(4)).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    // the build read the commit from this checkout: it is HEAD (or HEAD was committed after the build, never before)
    assertThat(git("rev-parse", "HEAD")).startsWith(m.group(2));
    assertThat(out.toString()).contains("Java " + Runtime.version());
  }

  @Test
  void aBuildWithoutGitHistorySaysUnknownRatherThanAPlaceholder() {
    Properties p = new Properties();
    p.setProperty("version", "1.2.3");
    p.setProperty("commit", "${git.commit.id.abbrev}");
    p.setProperty("commit_time", "${git.commit.time}");
    p.setProperty("dirty", "${git.dirty}");

    assertThat(BuildInfo.parse(p).describe()).isEqualTo("1.2.3 (commit unknown)");
    assertThat(BuildInfo.parse(new Properties()).version()).isEqualTo("unknown");
  }

  @Test
  void aDirtyTreeIsSaid() {
    Properties p = new Properties();
    p.setProperty("version", "1.2.3");
    p.setProperty("commit", "0123456789ab");
    p.setProperty("commit_time", "2026-12-01T00:00:00Z");
    p.setProperty("dirty", "true");

    assertThat(BuildInfo.parse(p).describe()).isEqualTo("1.2.3 (commit 0123456789ab-dirty, 2026-12-01T00:00:00Z)");
  }

  private static String pomVersion() throws Exception {
    String pom = Files.readString(ROOT.resolve("pom.xml"), StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("<artifactId>vertex-proxy-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private static String git(String... args) throws Exception {
    String[] cmd = new String[args.length + 3];
    cmd[0] = "git";
    cmd[1] = "-C";
    cmd[2] = ROOT.toString();
    System.arraycopy(args, 0, cmd, 3, args.length);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(text).isZero();
    return text;
  }
}
