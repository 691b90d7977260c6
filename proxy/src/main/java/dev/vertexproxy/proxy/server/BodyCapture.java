package dev.vertexproxy.proxy.server;

import dev.vertexproxy.policy.catalog.VertexMethod;
import dev.vertexproxy.proxy.config.AuditConfig;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@code audit.capture} keeps of one forwarded request body, taken chunk by chunk as the chunks leave for Vertex —
 * never by holding the body back: its SHA-256 ({@code body_sha256}) and, for the methods named, its first
 * {@code max_bytes} bytes ({@code request_body}, flagged {@code request_body_truncated} when cut), with secrets blanked
 * ({@link CapturedText}). Both are known only once the whole body went; a body cut short records neither. Confined to
 * the exchange's event loop.
 */
final class BodyCapture {
  private final MessageDigest digest;
  private final int keepBytes;
  private final ByteArrayOutputStream kept;
  private boolean truncated;
  private boolean complete;
  private String sha256Hex;

  private BodyCapture(boolean sha256, int keepBytes) {
    this.digest = sha256 ? sha256() : null;
    this.keepBytes = keepBytes;
    this.kept = keepBytes < 0 ? null : new ByteArrayOutputStream(Math.min(keepBytes, 4096));
  }

  /** Which bodies are captured, and how much of them; from {@code audit.capture}. Immutable and thread-safe. */
  record Plan(boolean sha256, List<Pattern> methods, int maxBytes) {
    static final Plan NONE = new Plan(false, List.of(), 0);

    static Plan of(AuditConfig.Capture capture) {
      List<Pattern> methods = capture.bodyMethods().stream().map(Plan::methodGlob).toList();
      return new Plan(capture.bodySha256(), methods, (int) Math.min(capture.bodyMaxBytes(), Integer.MAX_VALUE - 8));
    }

    /** What to capture of a body of {@code method}; {@code null} when nothing is. */
    BodyCapture start(VertexMethod method) {
      boolean keep = keeps(method);
      return sha256 || keep ? new BodyCapture(sha256, keep ? maxBytes : -1) : null;
    }

    private boolean keeps(VertexMethod method) {
      for (Pattern p : methods) {
        if (p.matcher(method.name()).matches() || p.matcher(method.id()).matches()
            || p.matcher(method.id().substring(method.id().indexOf('.') + 1)).matches()) {
          return true;
        }
      }
      return false;
    }

    /** A method glob as the policy writes them: {@code *} within one dotted part, {@code **} across, {@code ?} one. */
    static Pattern methodGlob(String glob) {
      StringBuilder re = new StringBuilder();
      for (int i = 0; i < glob.length(); i++) {
        char c = glob.charAt(i);
        if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
          re.append(".*");
          i++;
        } else if (c == '*') {
          re.append("[^.]*");
        } else if (c == '?') {
          re.append("[^.]");
        } else {
          re.append(Pattern.quote(String.valueOf(c)));
        }
      }
      return Pattern.compile(re.toString(), Pattern.DOTALL);
    }
  }

  /** A chunk of the body as it is sent on; {@code last} when it ends the body. Reads {@code bytes} without consuming. */
  void add(ByteBuf bytes, boolean last) {
    if (complete) {
      return;
    }
    if (digest != null) {
      for (ByteBuffer b : bytes.nioBuffers()) {
        digest.update(b);
      }
    }
    if (kept != null && bytes.isReadable()) {
      int room = keepBytes - kept.size();
      int n = Math.min(room, bytes.readableBytes());
      if (n > 0) {
        byte[] part = new byte[n];
        bytes.getBytes(bytes.readerIndex(), part);
        kept.writeBytes(part);
      }
      truncated |= bytes.readableBytes() > n;
    }
    complete = last;
    if (complete && digest != null) {
      sha256Hex = HexFormat.of().formatHex(digest.digest());
    }
  }

  /** The hex SHA-256 of the whole body as forwarded; {@code null} unless asked for and the whole body went. */
  String sha256Hex() {
    return sha256Hex;
  }

  /** The recorded part of the body, secrets blanked; {@code null} unless asked for and the whole body went. */
  String text() {
    if (!complete || kept == null) {
      return null;
    }
    String text = new String(kept.toByteArray(), StandardCharsets.UTF_8); // malformed or cut sequences become U+FFFD
    return CapturedText.redact(text, !truncated);
  }

  /** Whether {@link #text} is only the first {@code max_bytes} of the body. */
  boolean truncated() {
    return complete && kept != null && truncated;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }
}
