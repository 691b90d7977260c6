package dev.vertexproxy.bench.sidebyside;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Waiting for a started server to announce or accept, with a deadline. */
final class Upstream {
  private static final Pattern PORT = Pattern.compile("\\{\"port\":(\\d+)}");

  private Upstream() {
  }

  /** The port a child printed as {@code {"port":N}} on its first lines. */
  static int announcedPort(Child child, Duration limit) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(child.log())) {
        Matcher m = PORT.matcher(Files.readString(child.log(), StandardCharsets.UTF_8));
        if (m.find()) {
          return Integer.parseInt(m.group(1));
        }
      }
      if (!child.alive()) {
        throw new IOException(child.name() + " ended before it announced its port:\n" + child.output());
      }
      Thread.sleep(50);
    }
    throw new IOException(child.name() + " announced no port within " + limit + ":\n" + child.output());
  }

  /** Waits until something accepts TCP connections on the port. */
  static void awaitListening(Child child, int port, Duration limit) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        if (child != null && !child.alive()) {
          throw new IOException(child.name() + " ended before it listened:\n" + child.output());
        }
        Thread.sleep(50);
      }
    }
    throw new IOException("nothing listens on " + port + " after " + limit
        + (child == null ? "" : ":\n" + child.output()));
  }

  /** A free loopback port (closed again at once; the caller binds it next). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static Path write(Path file, String text) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, text, StandardCharsets.UTF_8);
    return file;
  }

  static List<String> java(Path jar, String mainClass, List<String> jvm, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvm);
    cmd.add("-cp");
    cmd.add(jar.toString());
    cmd.add(mainClass);
    cmd.addAll(args);
    return cmd;
  }
}
