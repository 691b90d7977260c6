package dev.vertexproxy.bench.sidebyside;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Closed-loop throughput with wrk: a fixed number of keep-alive connections, each sending its next request as soon as
 * the last answer is in. The request (method, headers, body) comes from a Lua script written per run; wrk itself is
 * pinned to the load generator's CPU.
 */
final class Wrk {
  private static final Pattern REQUESTS = Pattern.compile("(\\d+) requests in ([0-9.]+)(ms|s|m|h)\\b");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
  private static final Pattern SOCKET_ERRORS =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
  private static final Pattern LATENCY = Pattern.compile("^\\s+(50|90|99)%\\s+([0-9.]+)(us|ms|s)\\s*$", Pattern.MULTILINE);

  /** One wrk run: requests completed, over how long, how many failed, and wrk's own (closed-loop) latency. */
  record Result(long requests, double seconds, long errors, double p50Micros, double p99Micros) {
    double rate() {
      return requests / seconds;
    }
  }

  private final int cpu;
  private final int connections;
  private final Path dir;

  Wrk(int cpu, int connections, Path dir) {
    this.cpu = cpu;
    this.connections = connections;
    this.dir = dir;
  }

  /** Writes the Lua script for a POST of {@code body} with {@code headers}. */
  Path script(String name, Map<String, String> headers, String body) throws IOException {
    StringBuilder lua = new StringBuilder("wrk.method = \"POST\"\n");
    lua.append("wrk.body = ").append(luaString(body)).append('\n');
    headers.forEach((k, v) -> lua.append("wrk.headers[").append(luaString(k)).append("] = ").append(luaString(v))
        .append('\n'));
    Files.createDirectories(dir);
    Path file = dir.resolve(name + ".lua");
    Files.writeString(file, lua, StandardCharsets.UTF_8);
    return file;
  }

  Result run(String label, String url, Path script, Duration duration) throws IOException, InterruptedException {
    long seconds = Math.max(1, duration.toSeconds());
    List<String> cmd = new ArrayList<>(List.of("wrk", "-t1", "-c" + connections, "-d" + seconds + "s", "--timeout", "5s",
        "--latency", "-s", script.toString(), url));
    try (Child wrk = Child.start("wrk-" + label, cpu, cmd, dir.resolve("wrk-" + label + ".log"))) {
      int code = wrk.await(duration.plusSeconds(30));
      String out = wrk.output();
      if (code != 0) {
        throw new IOException("wrk exited with " + code + ":\n" + out);
      }
      return parse(out);
    }
  }

  static Result parse(String out) throws IOException {
    Matcher m = REQUESTS.matcher(out);
    if (!m.find()) {
      throw new IOException("wrk printed no request count:\n" + out);
    }
    long requests = Long.parseLong(m.group(1));
    double seconds = Double.parseDouble(m.group(2)) * switch (m.group(3)) {
      case "ms" -> 0.001;
      case "m" -> 60;
      case "h" -> 3600;
      default -> 1;
    };
    long errors = 0;
    Matcher n = NON_2XX.matcher(out);
    if (n.find()) {
      errors += Long.parseLong(n.group(1));
    }
    Matcher s = SOCKET_ERRORS.matcher(out);
    if (s.find()) {
      for (int i = 1; i <= 4; i++) {
        errors += Long.parseLong(s.group(i));
      }
    }
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    Matcher l = LATENCY.matcher(out);
    while (l.find()) {
      double v = Double.parseDouble(l.group(2)) * switch (l.group(3)) {
        case "us" -> 1;
        case "ms" -> 1000;
        default -> 1_000_000;
      };
      if (l.group(1).equals("50")) {
        p50 = v;
      } else if (l.group(1).equals("99")) {
        p99 = v;
      }
    }
    return new Result(requests, seconds, errors, p50, p99);
  }

  private static String luaString(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\%03d", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
