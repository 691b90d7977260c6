package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.config.AuditConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An audit disk whose fsyncs a test outside this package can hold back or make fail, so it can see what a caller has
 * while a record is not durable yet. Real files; only {@code force} is steered.
 */
public final class GatedDisk {
  private final AtomicInteger forces = new AtomicInteger();
  private volatile CountDownLatch forceEntered = new CountDownLatch(1);
  private volatile CountDownLatch gate;
  private volatile boolean failForce;

  /** Opens a real audit log on this disk. */
  public AuditLog open(AuditConfig config, Clock clock) throws IOException {
    return AuditLog.open(config, clock, AuditLog.DEFAULT_MAX_FILE_BYTES, 1024,
        path -> new Channel(FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)));
  }

  /** From now on every fsync waits until {@link #release}. */
  public void hold() {
    forceEntered = new CountDownLatch(1);
    gate = new CountDownLatch(1);
  }

  /** Lets held and later fsyncs through. */
  public void release() {
    CountDownLatch g = gate;
    gate = null;
    if (g != null) {
      g.countDown();
    }
  }

  /** Makes every fsync fail (true) or succeed again (false). */
  public void failForce(boolean fail) {
    failForce = fail;
  }

  /** Waits (bounded) until the writer is inside an fsync that {@link #hold} holds; false if it never got there. */
  public boolean awaitForce() throws InterruptedException {
    return forceEntered.await(10, TimeUnit.SECONDS);
  }

  /** Fsyncs started so far. */
  public int forces() {
    return forces.get();
  }

  private final class Channel extends FileChannel {
    private final FileChannel delegate;

    Channel(FileChannel delegate) {
      this.delegate = delegate;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      forces.incrementAndGet();
      CountDownLatch g = gate;
      if (g != null) {
        forceEntered.countDown();
        try {
          if (!g.await(30, TimeUnit.SECONDS)) {
            throw new IOException("test gate never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
      if (failForce) {
        throw new IOException("injected fsync failure (Input/output error)");
      }
      delegate.force(metaData);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return delegate.write(src);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return delegate.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return delegate.read(dsts, offset, length);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      return delegate.write(srcs, offset, length);
    }

    @Override
    public long position() throws IOException {
      return delegate.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      delegate.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return delegate.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      delegate.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return delegate.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      return delegate.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return delegate.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      return delegate.write(src, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      return delegate.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return delegate.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return delegate.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      delegate.close();
    }
  }
}
