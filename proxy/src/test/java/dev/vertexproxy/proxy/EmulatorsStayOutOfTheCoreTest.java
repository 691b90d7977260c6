package dev.vertexproxy.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The core never reaches the emulators: they mint tokens and answer as Google, which a production proxy must not be
 * able to do, and they bring Bouncy Castle. The tests here use them (test scope), so the test classpath cannot tell;
 * the sources and the pom can. Maven keeps them off the compile classpath; this keeps it that way when someone adds
 * the dependency back "just for one class".
 */
class EmulatorsStayOutOfTheCoreTest {
  private static final Path MAIN_SOURCES = Path.of("src", "main", "java");
  private static final List<String> FORBIDDEN = List.of("dev.vertexproxy.emulators.", "org.bouncycastle.");

  @Test
  void noMainSourceNamesTheEmulatorsOrBouncyCastle() throws IOException {
    assertThat(MAIN_SOURCES).as("run from the proxy module's directory").isDirectory();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(MAIN_SOURCES)) {
      sources = files.filter(f -> f.toString().endsWith(".java")).toList();
    }
    assertThat(sources).hasSizeGreaterThan(20);
    List<String> found = new ArrayList<>();
    for (Path source : sources) {
      List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).strip();
        if (line.startsWith("*") || line.startsWith("/*") || line.startsWith("//")) {
          continue; // prose may name them; code may not (imports and fully-qualified names alike)
        }
        for (String forbidden : FORBIDDEN) {
          if (line.contains(forbidden)) {
            found.add(source + ":" + (i + 1) + ": " + line);
          }
        }
      }
    }
    assertThat(found).as("core sources naming the emulators or Bouncy Castle (they belong in emulators/ or dist/)")
        .isEmpty();
  }

  @Test
  void thePomHasTheEmulatorsAtTestScopeOnlyAndNoBouncyCastle() throws Exception {
    Element project = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile())
        .getDocumentElement();
    NodeList dependencies = project.getElementsByTagName("dependency");
    List<String> emulatorScopes = new ArrayList<>();
    for (int i = 0; i < dependencies.getLength(); i++) {
      Element dependency = (Element) dependencies.item(i);
      String groupId = text(dependency, "groupId");
      String artifactId = text(dependency, "artifactId");
      assertThat(groupId).as("proxy/pom.xml depends on Bouncy Castle (%s)", artifactId).isNotEqualTo("org.bouncycastle");
      if (artifactId.equals("vertex-proxy-emulators")) {
        emulatorScopes.add(text(dependency, "scope"));
      }
    }
    assertThat(emulatorScopes).as("scopes of proxy/pom.xml's dependencies on the emulators")
        .allMatch("test"::equals, "test");
  }

  private static String text(Element parent, String tag) {
    NodeList children = parent.getElementsByTagName(tag);
    return children.getLength() == 0 ? "" : children.item(0).getTextContent().strip();
  }
}
