package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A partial line an old file ends with, as a {@code seal} record names it: the file, where the partial line starts,
 * its length and the SHA-256 of its bytes. The bytes stay in the old file untouched; the seal puts on record, inside
 * the chain, that they were there and why ({@value #CRASH}: found at start after the process or machine died in a
 * write; {@value #WRITE_FAILED}: a failed batch could not be cut back).
 */
record Seal(String file, long offset, long bytes, String sha256, String cause) {
  static final String TYPE = "seal";
  static final String CRASH = "crash";
  static final String WRITE_FAILED = "write-failed";

  /** The record's {@code seal} member. */
  ObjectNode toJson() {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("file", file);
    node.put("offset", offset);
    node.put("bytes", bytes);
    node.put("sha256", sha256);
    node.put("cause", cause);
    return node;
  }
}
