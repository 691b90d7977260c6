package dev.vertexproxy.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code vertex-proxy adc --login} run from the shaded jar, as people run it: the executable command it writes for
 * google-auth is this very jar under this very JVM, and that command, split on spaces the way google-auth splits it,
 * starts and says nothing on stderr (which google-auth merges into the JSON it parses). Runs after {@code package}, in
 * the shaded-jar execution ({@code vertex.dist.jar}); at {@code test} it has no jar and is skipped.
 */
class AdcFromTheJarTest {
  @TempDir
  Path dir;

  private record Ran(int exit, String out, String err) {
  }

  private Ran run(List<String> command) throws Exception {
    File out = dir.resolve("out-" + System.nanoTime()).toFile();
    File err = dir.resolve("err-" + System.nanoTime()).toFile();
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out).redirectError(err);
    pb.environment().remove("JAVA_TOOL_OPTIONS"); // the JVM would announce it on stderr
    Process p = pb.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("did not finish: " + command);
    }
    return new Ran(p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
  }

  @Test
  void theWrittenCommandRunsThisJarSilently() throws Exception {
    String jarProperty = System.getProperty("vertex.dist.jar");
    assumeTrue(jarProperty != null && Files.isRegularFile(Path.of(jarProperty)),
        "runs after the shaded jar is built: mvn -B -o -pl dist -am verify");
    Path jar = Path.of(jarProperty).toAbsolutePath();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Path file = dir.resolve("adc.json");
    Ran adc = run(List.of(java, "-jar", jar.toString(), "adc", "--proxy", "https://vertex-proxy.example.com", "--login",
        "--audience", "https://vertex-proxy.example.com", "--output", file.toString()));
    assertThat(adc.exit()).as(adc.err()).isZero();

    String command = new ObjectMapper().readTree(Files.readString(file)).at("/credential_source/executable/command")
        .asText();
    assertThat(command).isEqualTo(java + " -jar " + jar
        + " token --proxy https://vertex-proxy.example.com --format google-executable");

    List<String> program = new ArrayList<>(Arrays.asList(command.split(" "))).subList(0, 3);
    List<String> probe = new ArrayList<>(program);
    probe.add("--version");
    Ran version = run(probe);
    assertThat(version.exit()).as(version.err()).isZero();
    assertThat(version.out()).contains("vertex-proxy");
    assertThat(version.err()).as("google-auth parses stdout and stderr together").isEmpty();
  }
}
