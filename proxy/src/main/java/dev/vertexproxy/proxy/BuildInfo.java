package dev.vertexproxy.proxy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * What this build is: the project version and the commit it was built from, read from {@code version.properties},
 * which the build fills in (see {@code proxy/pom.xml}). A build from a tree without git history (a source archive)
 * has no commit and says {@code unknown}; a build from a tree with uncommitted changes says {@code dirty}, so a
 * version string never claims a commit the code is not.
 *
 * @param version the Maven project version, e.g. {@code 0.1.0-SNAPSHOT}
 * @param commit the abbreviated commit id, or {@code unknown}
 * @param commitTime when that commit was made (UTC, ISO-8601), or {@code unknown}
 * @param dirty whether the tree had uncommitted changes when it was built
 */
public record BuildInfo(String version, String commit, String commitTime, boolean dirty) {
  private static final String UNKNOWN = "unknown";
  private static final BuildInfo CURRENT = load();

  /** This build, read once. */
  public static BuildInfo current() {
    return CURRENT;
  }

  /** For logs and {@code --version}: {@code 0.1.0 (commit 1a2b3c4d5e6f, 2026-12-01T10:00:00Z)}. */
  public String describe() {
    if (commit.equals(UNKNOWN)) {
      return version + " (commit unknown)";
    }
    return version + " (commit " + commit + (dirty ? "-dirty" : "") + ", " + commitTime + ")";
  }

  /** A build's description from the properties {@code version.properties} holds. */
  public static BuildInfo parse(Properties p) {
    return new BuildInfo(value(p, "version"), value(p, "commit"), value(p, "commit_time"),
        "true".equals(p.getProperty("dirty")));
  }

  private static String value(Properties p, String key) {
    String v = p.getProperty(key, "").trim();
    // an unfilled placeholder means the build had no value for it (no git directory)
    return v.isEmpty() || v.startsWith("${") ? UNKNOWN : v;
  }

  private static BuildInfo load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/dev/vertexproxy/proxy/version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read version.properties", e);
    }
    return parse(p);
  }
}
