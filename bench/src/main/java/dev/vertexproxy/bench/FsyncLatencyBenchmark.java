package dev.vertexproxy.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The disk under the audit directory, without the proxy: one record-sized append followed by
 * {@code FileChannel.force(false)} (fdatasync), the unit {@code sync} pays per record and {@code group_commit} per batch.
 * Sampled, so the report has the percentiles. Same directory choice as {@link AuditDurabilityBenchmark}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@Threads(1)
@State(Scope.Benchmark)
public class FsyncLatencyBenchmark {
  private Path file;
  private FileChannel channel;
  private final ByteBuffer line = ByteBuffer.wrap(lineBytes());

  @Setup(Level.Trial)
  public void open() throws IOException {
    Path parent = Path.of(System.getProperty("bench.audit.dir", System.getProperty("java.io.tmpdir")));
    file = Files.createTempFile(parent, "fsync-bench-", ".jsonl");
    channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    channel.close();
    Files.delete(file);
  }

  @Benchmark
  public void appendAndFdatasync() throws IOException {
    line.rewind();
    while (line.hasRemaining()) {
      channel.write(line);
    }
    channel.force(false);
  }

  private static byte[] lineBytes() {
    byte[] bytes = new byte[900];
    Arrays.fill(bytes, (byte) 'x');
    bytes[bytes.length - 1] = '\n';
    return bytes;
  }
}
