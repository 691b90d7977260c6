package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;

/** The process entry points turn Netty's leak detection off unless the operator (or the test suite) asked for it. */
class ProcessDefaultsTest {
  private static final String LEVEL = "io.netty.leakDetection.level";

  @Test
  void leakDetectionIsOffUnlessAPropertyAsksForIt() {
    String asked = System.getProperty(LEVEL);
    ResourceLeakDetector.Level before = ResourceLeakDetector.getLevel();
    try {
      System.setProperty(LEVEL, "paranoid");
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
      Main.processDefaults();
      assertThat(ResourceLeakDetector.getLevel()).as("asked for: left as it is").isEqualTo(ResourceLeakDetector.Level.PARANOID);

      System.clearProperty(LEVEL);
      Main.processDefaults();
      assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
    } finally {
      if (asked == null) {
        System.clearProperty(LEVEL);
      } else {
        System.setProperty(LEVEL, asked);
      }
      ResourceLeakDetector.setLevel(before);
    }
  }
}
