package dev.vertexproxy.proxy.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The test-side Dockerfile and .dockerignore readers, on the constructs the real files use and a few they must refuse. */
class ParsedDockerfileTest {
  @Test
  void continuationLinesJoinAndCommentsInsideThemAreDropped() {
    ParsedDockerfile d = ParsedDockerfile.parse("""
        # syntax=docker/dockerfile:1
        # a comment
        FROM a:1.0@sha256:<digest> AS build
        RUN --mount=type=cache,target=/root/.m2 \\
            mvn -B \\
        # dropped, as the builder drops it
            package
        FROM b:2.0@sha256:<digest>
        ENV A="x y" B=z\\ w
        ENV LEGACY some value
        HEALTHCHECK --interval=30s --timeout=10s \\
          CMD ["java", "-jar", "/x.jar"]
        ENTRYPOINT ["java", "-Dq=\\"1\\""]
        CMD serve --config "/etc/a b.yaml"
        """);
    assertThat(d.stages).hasSize(2);
    assertThat(d.stage("build").base()).isEqualTo("a:1.0@sha256:<digest>");
    ParsedDockerfile.Instruction run = d.stage("build").all("RUN").get(0);
    assertThat(run.flags()).containsEntry("mount", "type=cache,target=/root/.m2");
    assertThat(run.rest()).isEqualTo("mvn -B      package");
    assertThat(run.line()).isEqualTo(4);
    assertThat(d.runtime().env()).containsExactly(Map.entry("A", "x y"), Map.entry("B", "z w"),
        Map.entry("LEGACY", "some value"));
    ParsedDockerfile.Instruction hc = d.runtime().last("HEALTHCHECK").orElseThrow();
    assertThat(hc.flags()).containsEntry("interval", "30s").containsEntry("timeout", "10s");
    assertThat(hc.rest()).isEqualTo("CMD [\"java\", \"-jar\", \"/x.jar\"]");
    assertThat(d.runtime().last("ENTRYPOINT").orElseThrow().json()).containsExactly("java", "-Dq=\"1\"");
    ParsedDockerfile.Instruction cmd = d.runtime().last("CMD").orElseThrow();
    assertThat(cmd.execForm()).isFalse();
    assertThat(cmd.words()).containsExactly("serve", "--config", "/etc/a b.yaml");
    assertThatThrownBy(cmd::json).hasMessageContaining("shell form");
  }

  @Test
  void whatItCannotReadIsRefusedNotGuessed() {
    assertThatThrownBy(() -> ParsedDockerfile.parse("# escape=`\nFROM a:1\n")).hasMessageContaining("escape");
    assertThatThrownBy(() -> ParsedDockerfile.parse("FROM a:1\nRUN <<EOF\necho\nEOF\n")).hasMessageContaining("heredoc");
    assertThatThrownBy(() -> ParsedDockerfile.parse("FROM a:1\nRUN echo \\\n")).hasMessageContaining("continuation");
    assertThatThrownBy(() -> ParsedDockerfile.parse("USER 1\nFROM a:1\n")).hasMessageContaining("before the first FROM");
    assertThatThrownBy(() -> ParsedDockerfile.parse("FROM a:1\nENTRYPOINT [\"java\",\n")
        .runtime().last("ENTRYPOINT").orElseThrow().json()).hasMessageContaining("JSON array");
  }

  @Test
  void dockerignoreLastMatchWinsAndDirectoriesCoverTheirContents() {
    DockerIgnore ignore = DockerIgnore.parse("""
        *
        !proxy/src/
        !pom.xml
        **/target/
        # comment
        !keep/**/*.txt
        """);
    assertThat(ignore.excluded("pom.xml")).isFalse();
    assertThat(ignore.excluded("proxy/pom.xml")).isTrue();
    assertThat(ignore.excluded("proxy/src/main/A.java")).isFalse();
    assertThat(ignore.excluded("proxy/src/target/A.class")).isTrue();
    assertThat(ignore.excluded("target/x")).isTrue();
    assertThat(ignore.excluded("keep/a/b/c.txt")).isFalse();
    assertThat(ignore.excluded("keep/c.txt")).isFalse();
    assertThat(ignore.excluded("keep/c.bin")).isTrue();
    assertThat(ignore.excluded(".git/HEAD")).isTrue();
    assertThat(List.of("README.md", "docs/x.md")).allMatch(ignore::excluded);
  }
}
