package dev.vertexproxy.proxy.audit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real file channel whose writes and fsyncs a test can count, hold back or make fail — the disk faults (full disk,
 * I/O error, slow fsync) that running as root on a healthy tmpfs cannot produce.
 */
final class ControlledChannel extends FileChannel {

  /** Shared by every channel one opener hands out, so a fault outlives the log's switch to a new file. */
  static final class Control {
    final AtomicInteger forces = new AtomicInteger();
    final AtomicInteger opens = new AtomicInteger();
    final CountDownLatch writeEntered = new CountDownLatch(1);
    volatile CountDownLatch writeGate;
    volatile boolean failWrites;
    volatile boolean writeHalfThenFail;
    volatile boolean failForce;
    volatile boolean failTruncate;

    AuditLog.FileOpener opener() {
      return path -> {
        opens.incrementAndGet();
        return new ControlledChannel(
            FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE), this);
      };
    }
  }

  private final FileChannel delegate;
  private final Control control;

  private ControlledChannel(FileChannel delegate, Control control) {
    this.delegate = delegate;
    this.control = control;
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    control.writeEntered.countDown();
    CountDownLatch gate = control.writeGate;
    if (gate != null) {
      try {
        if (!gate.await(30, TimeUnit.SECONDS)) {
          throw new IOException("test gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    if (control.failWrites) {
      throw new IOException("injected write failure (No space left on device)");
    }
    if (control.writeHalfThenFail && src.remaining() > 1) {
      ByteBuffer half = src.duplicate();
      half.limit(src.position() + src.remaining() / 2);
      int written = delegate.write(half);
      src.position(src.position() + written);
      throw new IOException("injected failure after a partial write");
    }
    return delegate.write(src);
  }

  @Override
  public void force(boolean metaData) throws IOException {
    control.forces.incrementAndGet();
    if (control.failForce) {
      throw new IOException("injected fsync failure (Input/output error)");
    }
    delegate.force(metaData);
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
    throw new UnsupportedOperationException("the audit log writes one buffer at a time");
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
    if (control.failTruncate) {
      throw new IOException("injected truncate failure (Input/output error)");
    }
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
    throw new UnsupportedOperationException("the audit log appends");
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
