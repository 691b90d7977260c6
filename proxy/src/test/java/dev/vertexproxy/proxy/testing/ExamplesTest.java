package dev.vertexproxy.proxy.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** The examples' tests can skip only off CI: a missing tool fails the build where CI=true. */
class ExamplesTest {
  private static final String MISSING = "vertex-proxy-test-no-such-tool";

  @Test
  void aMissingToolFailsUnderCi() {
    assertThat(catchThrowable(() -> Examples.requireTool(MISSING, "run an example", true)))
        .isInstanceOf(AssertionFailedError.class)
        .hasMessageContaining(MISSING + " is not installed")
        .hasMessageContaining("CI must run this test");
  }

  @Test
  void aMissingToolSkipsElsewhereAndSaysSo() {
    assertThat(catchThrowable(() -> Examples.requireTool(MISSING, "run an example", false)))
        .isInstanceOf(TestAbortedException.class)
        .hasMessageContaining(MISSING + " is not installed")
        .hasMessageContaining("needed to run an example");
  }

  @Test
  void aPresentToolPasses() {
    Examples.requireTool("java", "run a JVM", true);
  }
}
