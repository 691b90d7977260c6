package dev.vertexproxy.emulators;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * What the emulated Vertex API answers to one request, before the Netty handler turns it into bytes on the wire.
 * Immutable once built (the JSON trees are not shared with anything that mutates them).
 */
sealed interface VertexEmulatorReply {

  /** A complete JSON body with its status code. */
  record Json(int status, JsonNode body) implements VertexEmulatorReply {
  }

  /** An opaque body echoed back with the given content type ({@code rawPredict}). */
  record Raw(String contentType, byte[] body) implements VertexEmulatorReply {
  }

  /**
   * A streamed answer: one chunk per pacing interval, framed as server-sent events ({@code alt=sse}) or as the
   * elements of one JSON array.
   */
  record Stream(boolean sse, List<ObjectNode> chunks) implements VertexEmulatorReply {
    public Stream {
      if (chunks.isEmpty()) {
        throw new IllegalArgumentException("a stream needs at least one chunk");
      }
      chunks = List.copyOf(chunks);
    }
  }

  /** Google's error shape: {@code {"error":{"code":404,"message":"...","status":"NOT_FOUND"}}}. */
  static Json error(int code, String status, String message) {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    ObjectNode error = root.putObject("error");
    error.put("code", code);
    error.put("message", message);
    error.put("status", status);
    return new Json(code, root);
  }
}
