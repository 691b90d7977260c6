package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.testing.Examples;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The documented Python examples ({@code examples/python}): the SDKs (google-genai, google-cloud-aiplatform) cannot be
 * installed here, so each file is compiled with {@code python3 -m py_compile}, and the part that is ours alone, reading
 * the job token's expiry, runs in python3 on tokens of every base64 padding length.
 */
class PythonExamplesTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /**
   * Runs each example's job_token_credentials alone, with a recorder standing in for google-auth's Credentials, on
   * each token of {@code VERTEX_PROXY_TOKENS}; prints one line per example and token.
   */
  private static final String RUN_EXPIRY_CODE = String.join("\n",
      "import ast, base64, datetime, json, os, sys",
      "for path in sys.argv[1:]:",
      "    tree = ast.parse(open(path).read())",
      "    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == 'job_token_credentials')",
      "    ns = {'base64': base64, 'datetime': datetime, 'json': json, 'Credentials': lambda **kw: kw}",
      "    exec(compile(ast.Module(body=[fn], type_ignores=[]), path, 'exec'), ns)",
      "    for token in os.environ['VERTEX_PROXY_TOKENS'].split():",
      "        kw = ns['job_token_credentials'](token)",
      "        print(path, kw['token'] == token, kw['expiry'].isoformat(), kw['expiry'].tzinfo)");

  @TempDir
  static Path pycache;

  @BeforeAll
  static void python() {
    Examples.requireTool("python3", "compile the documented Python examples");
  }

  static List<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(Examples.dir("python"))) {
      return files.filter(f -> f.toString().endsWith(".py")).sorted().toList();
    }
  }

  static String[] command(List<String> head, List<Path> files) {
    return Stream.concat(head.stream(), files.stream().map(f -> f.getFileName().toString())).toArray(String[]::new);
  }

  @Test
  void everyExampleCompiles() throws IOException {
    List<Path> examples = examples();
    assertThat(examples).extracting(p -> p.getFileName().toString())
        .contains("genai_through_proxy.py", "vertexai_through_proxy.py");
    // the byte code goes to a temporary directory, not into examples/python/__pycache__
    Examples.Result r = Examples.run(Examples.dir("python"), Map.of("PYTHONPYCACHEPREFIX", pycache.toString()), TIMEOUT,
        command(List.of("python3", "-m", "py_compile"), examples));
    assertThat(r.exitCode()).as(r.stderr()).isZero();
  }

  @Test
  void aBrokenExampleDoesNotCompile() throws IOException {
    Path broken = pycache.resolve("broken.py");
    Files.writeString(broken, "client = genai.Client(\n", StandardCharsets.UTF_8);
    Examples.Result r = Examples.run(pycache, Map.of("PYTHONPYCACHEPREFIX", pycache.toString()), TIMEOUT,
        "python3", "-m", "py_compile", broken.toString());
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stderr()).contains("broken.py");
  }

  @Test
  void theCredentialExpiresWhenTheJobTokenDoes() throws IOException {
    long exp = Instant.now().plus(Duration.ofMinutes(55)).getEpochSecond();
    String expected = LocalDateTime.ofEpochSecond(exp, 0, ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
    List<String> tokens = new ArrayList<>();
    for (int pad = 0; pad < 3; pad++) { // claims of every length mod 3: unpadded base64url, as in JWTs
      String claims = "{\"sub\":\"project_path:acme/ml" + "x".repeat(pad) + "\",\"exp\":" + exp + "}";
      tokens.add(b64("{\"alg\":\"RS256\"}") + "." + b64(claims) + ".c2ln");
    }
    List<Path> examples = examples();
    Examples.Result r = Examples.run(Examples.dir("python"), Map.of("VERTEX_PROXY_TOKENS", String.join(" ", tokens)), TIMEOUT,
        command(List.of("python3", "-c", RUN_EXPIRY_CODE), examples));
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    List<String> lines = new ArrayList<>();
    for (Path example : examples) {
      for (int i = 0; i < tokens.size(); i++) {
        lines.add(example.getFileName() + " True " + expected + " None");
      }
    }
    assertThat(r.stdout().strip().lines().toList()).as("expiry naive UTC at the token's exp").isEqualTo(lines);
  }
  private static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
