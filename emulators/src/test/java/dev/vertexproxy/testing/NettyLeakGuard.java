package dev.vertexproxy.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while it ran (surefire runs with
 * {@code io.netty.leakDetection.level=paranoid}). Registered for every test class through JUnit's extension
 * auto-detection, so a leak anywhere — proxy, relay, emulators — fails the build instead of scrolling past as a
 * {@code LEAK:} log line.
 */
public final class NettyLeakGuard implements AfterAllCallback {
  private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

  static {
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
      @SuppressWarnings("deprecation") // the abstract method every factory must implement
      @Override
      public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval, long maxActive) {
        return new ResourceLeakDetector<>(resource, samplingInterval) {
          @Override
          protected void reportTracedLeak(String resourceType, String records) {
            LEAKS.add(resourceType + records);
            super.reportTracedLeak(resourceType, records);
          }

          @Override
          protected void reportUntracedLeak(String resourceType) {
            LEAKS.add(resourceType);
            super.reportUntracedLeak(resourceType);
          }
        };
      }
    });
  }

  @Override
  public void afterAll(ExtensionContext context) throws InterruptedException {
    // Leaks are noticed when a collected buffer's tracker is polled, which happens on later allocations.
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(20);
      List<ByteBuf> probes = new ArrayList<>();
      for (int j = 0; j < 64; j++) {
        probes.add(PooledByteBufAllocator.DEFAULT.buffer(16));
        probes.add(UnpooledByteBufAllocator.DEFAULT.buffer(16));
      }
      probes.forEach(ByteBuf::release);
    }
    List<String> found = new ArrayList<>(LEAKS);
    LEAKS.clear();
    assertThat(found).as("Netty buffer leaks reported while %s ran", context.getDisplayName()).isEmpty();
  }
}
