package dev.vertexproxy.proxy.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.docs.GoogleSetupDoc.Line;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the guide's shell is cut into lines, which the two guide tests rely on. */
class GoogleSetupDocTest {
  @Test
  void continuationsAndMultiLineQuotesMakeOneLineCommentsDoNot() {
    List<Line> lines = GoogleSetupDoc.lines(List.of(
        "prose with a `gcloud fake` mention",
        "```bash",
        "A=1   # the rule's account: an apostrophe in a comment opens no quote",
        "gcloud one \\",
        "  --flag=\"it's quoted\" \\",
        "  --other",
        "jq '.x",
        "  | .y' in.json > out.json",
        "",
        "gcloud two",
        "```",
        "```yaml",
        "gcloud: not shell",
        "```"));
    assertThat(lines).containsExactly(
        new Line(3, "A=1   # the rule's account: an apostrophe in a comment opens no quote"),
        new Line(4, "gcloud one --flag=\"it's quoted\" --other"),
        new Line(7, "jq '.x\n  | .y' in.json > out.json"),
        new Line(10, "gcloud two"));
    assertThat(GoogleSetupDoc.gcloud(lines)).extracting(Line::number).containsExactly(4, 10);
    assertThat(GoogleSetupDoc.assignments(lines)).startsWith("A=1 ");
  }

  @Test
  void theGuideHasItsVariablesFirstAndNoUnfinishedLine() throws Exception {
    List<Line> lines = GoogleSetupDoc.lines();
    assertThat(lines.get(0).text()).startsWith("PROJECT_ID=");
    assertThat(lines).noneMatch(l -> l.text().endsWith("\\"));
    assertThat(GoogleSetupDoc.assignments(lines)).contains("PROXY_SA=", "RULE_SA=", "NAMESPACE=vertex-proxy",
        "KSA=vertex-proxy");
  }
}
