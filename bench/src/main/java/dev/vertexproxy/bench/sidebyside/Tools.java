package dev.vertexproxy.bench.sidebyside;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Java load tools of {@code dev.vertexproxy.bench.compare} (open-loop latency, SSE timing, many streams), each
 * started as its own JVM on the load generator's CPU; each prints one JSON object per line on stdout, the last one
 * its result.
 */
final class Tools {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> JVM = List.of("-Xms512m", "-Xmx512m", "-XX:-UsePerfData", "-XX:+UseSerialGC");

  private final Path jar;
  private final int cpu;
  private final Path dir;
  private int runs;

  Tools(Path jar, int cpu, Path dir) {
    this.jar = jar;
    this.cpu = cpu;
    this.dir = dir;
  }

  /** Runs a tool to its end (killed after {@code limit}) and returns its last JSON line. */
  JsonNode run(String tool, List<String> args, Duration limit) throws IOException, InterruptedException {
    try (Child c = start(tool, args)) {
      int code = c.await(limit);
      JsonNode last = lastJson(c);
      if (code != 0 || last == null) {
        throw new IOException(tool + " exited with " + code + ":\n" + c.output());
      }
      return last;
    }
  }

  Child start(String tool, List<String> args) throws IOException {
    String main = "dev.vertexproxy.bench.compare." + tool;
    return Child.start(tool, cpu, Upstream.java(jar, main, JVM, args), dir.resolve(tool + "-" + (++runs) + ".log"));
  }

  /** Waits until the tool prints a JSON line with {@code field}; returns it. */
  static JsonNode awaitLine(Child c, String field, Duration limit) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      for (JsonNode n : jsonLines(c)) {
        if (n.has(field)) {
          return n;
        }
      }
      if (!c.alive()) {
        throw new IOException(c.name() + " ended before it printed " + field + ":\n" + c.output());
      }
      Thread.sleep(100);
    }
    throw new IOException(c.name() + " printed no " + field + " within " + limit + ":\n" + c.output());
  }

  static void tell(Child c, String line) throws IOException {
    OutputStream in = c.process().getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  static JsonNode lastJson(Child c) {
    List<JsonNode> lines = jsonLines(c);
    return lines.isEmpty() ? null : lines.get(lines.size() - 1);
  }

  private static List<JsonNode> jsonLines(Child c) {
    List<JsonNode> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(c.log(), StandardCharsets.UTF_8)) {
        if (line.startsWith("{")) {
          try {
            out.add(JSON.readTree(line));
          } catch (IOException notJson) {
            // a diagnostic line that happens to start with a brace
          }
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  static List<String> headerArgs(Map<String, String> headers) {
    List<String> args = new ArrayList<>();
    headers.forEach((k, v) -> {
      args.add("--header");
      args.add(k + ": " + v);
    });
    return args;
  }
}
