package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Seal records (docs/audit.md, "Seals"): the writer's account of bytes left at the end of an earlier file that are not
 * part of the chain — a line torn by a crash, or a failed batch it could not cut back. A seal names the file, the
 * offset where those bytes start, their length and SHA-256; the bytes stay in the old file untouched.
 *
 * <p>The writer puts seals first in the next file, so before reading a file the verifier reads the head of the next one
 * ({@link #head}); reaching a sealed offset it hashes the rest of the file and compares ({@link #compare}).
 * Stateless and thread-safe.
 */
final class SealCheck {
  /** A seal's statement, and where the seal record is. */
  record Seal(String file, long offset, long bytes, String sha256, String cause, String where) {
  }

  /**
   * The head of a file: the seal records before its first other record, and whether that first record was written by
   * a writer that seals (it has a {@code chain_id}; a legacy writer neither seals nor names its chain).
   */
  record Head(List<Seal> seals, boolean sealingWriter) {
    static final Head NONE = new Head(List.of(), false);

    /** The first seal naming {@code name}, or null. */
    Seal sealOf(String name) {
      for (Seal seal : seals) {
        if (seal.file().equals(name)) {
          return seal;
        }
      }
      return null;
    }
  }

  /** Seals have no more than this many predecessors at the head of a file. */
  private static final int MAX_HEAD_LINES = 64;

  private SealCheck() {
  }

  /** Reads the seals at the head of {@code file}; unreadable lines end the head (the verifier reports them later). */
  static Head head(Path file) {
    List<Seal> seals = new ArrayList<>();
    String name = file.getFileName().toString();
    try (TrailLines lines = new TrailLines(file)) {
      for (int number = 1; number <= MAX_HEAD_LINES; number++) {
        TrailLines.Line line = lines.next();
        if (line == null || line.torn() || line.bytes() == null) {
          break;
        }
        ObjectNode record;
        try {
          record = AuditRecords.parse(line.bytes());
        } catch (IOException e) {
          break;
        }
        if (!"seal".equals(record.path("type").asText())) {
          return new Head(seals, record.has("chain_id"));
        }
        Seal seal = statement(record, name + ":" + number + " (seq " + record.path("seq").asText() + ")");
        if (seal != null) {
          seals.add(seal);
        }
      }
    } catch (IOException e) {
      return new Head(seals, true);
    }
    return new Head(seals, !seals.isEmpty());
  }

  /** The statement of a seal record, or null if it is malformed. */
  static Seal statement(ObjectNode record, String where) {
    JsonNode seal = record.get("seal");
    if (seal == null || !seal.isObject() || !seal.path("file").isTextual()
        || !seal.path("offset").canConvertToExactIntegral() || !seal.path("bytes").canConvertToExactIntegral()
        || !seal.path("sha256").isTextual()) {
      return null;
    }
    return new Seal(seal.get("file").asText(), seal.get("offset").asLong(), seal.get("bytes").asLong(),
        seal.get("sha256").asText(), seal.path("cause").asText("?"), where);
  }

  /** Null if the rest of the file is exactly what the seal names; else the problem (after {@code file:line}). */
  static String compare(Seal seal, TrailLines.Rest rest) {
    if (rest.length() == seal.bytes() && rest.sha256().equals(seal.sha256())) {
      return null;
    }
    return ": the " + rest.length() + " bytes from offset " + seal.offset() + " to the end (SHA-256 "
        + CheckpointCheck.abbreviate(rest.sha256()) + ") are not what the seal at " + seal.where() + " names ("
        + seal.bytes() + " bytes, SHA-256 " + CheckpointCheck.abbreviate(seal.sha256())
        + ") — the sealed bytes or the seal were changed, or records were appended after the seal";
  }
}
