package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One audit record as a Cloud Logging structured log line ({@code audit.stdout: cloud_logging}): the logging agent of
 * GKE or Cloud Run turns it into a log entry whose {@code severity}, {@code httpRequest}, labels, trace and insert id
 * come from the record, with the whole record, as it is in the chain, under {@value #PAYLOAD}. A log sink can then
 * route these entries to BigQuery (docs/audit.md, "Shipping"). The record is already redacted, and nothing is added
 * to it but copies of its own fields, so the line holds no token either. Stateless and thread-safe.
 */
public final class CloudLoggingLine {
  public static final String PAYLOAD = "vertex_proxy_audit";
  private static final String[] LABELS = {"chain_id", "request_id", "rule", "decision", "outcome", "method"};

  private CloudLoggingLine() {
  }

  /**
   * The line (without newline) for a chained record.
   *
   * @param traceProject {@code logging.trace_project}: with it, {@code logging.googleapis.com/trace} links the entry to
   *                     the request's trace; null: no trace field
   */
  public static String of(ObjectNode record, String traceProject) {
    ObjectNode line = JsonNodeFactory.instance.objectNode();
    String type = record.path("type").asText(AuditEvent.EXCHANGE);
    line.put("severity", severity(record, type));
    line.put("message", message(record, type));
    if (record.has("time")) {
      line.set("time", record.get("time"));
    }
    if (record.has("http_method")) {
      ObjectNode http = line.putObject("httpRequest");
      copy(record, "http_method", http, "requestMethod");
      copy(record, "path", http, "requestUrl");
      copy(record, "status", http, "status");
      if (record.has("bytes_in")) {
        http.put("requestSize", record.get("bytes_in").asText());
      }
      if (record.has("bytes_out")) {
        http.put("responseSize", record.get("bytes_out").asText());
      }
      copy(record, "source_ip", http, "remoteIp");
      copy(record, "user_agent", http, "userAgent");
      if (record.has("duration_ms")) {
        http.put("latency", String.format(Locale.ROOT, "%.3fs", record.get("duration_ms").asLong() / 1000.0));
      }
    }
    ObjectNode labels = line.putObject("logging.googleapis.com/labels");
    for (String label : LABELS) {
      if (record.path(label).isTextual()) {
        labels.put(label, record.get(label).asText());
      }
    }
    labels.put("type", type);
    String requestId = record.path("request_id").asText(null);
    if (traceProject != null && requestId != null) {
      line.put("logging.googleapis.com/trace", "projects/" + traceProject + "/traces/" + requestId);
    }
    line.put("logging.googleapis.com/insertId", record.path("chain_id").asText() + "-" + record.path("seq").asLong());
    line.set(PAYLOAD, record);
    return AuditRecords.utf8(AuditRecords.canonical(line));
  }

  /** WARNING for what went wrong (an unavailable or failed exchange, a seal), NOTICE for a denial, else INFO. */
  static String severity(JsonNode record, String type) {
    String outcome = record.path("outcome").asText("");
    if (Seal.TYPE.equals(type) || "unavailable".equals(outcome) || "failed".equals(outcome)) {
      return "WARNING";
    }
    return "deny".equals(record.path("decision").asText()) ? "NOTICE" : "INFO";
  }

  private static String message(JsonNode record, String type) {
    List<String> parts = new ArrayList<>();
    switch (type) {
      case CheckpointSigner.TYPE -> {
        JsonNode cp = record.path("checkpoint");
        parts.add("checkpoint " + cp.path("reason").asText() + " of seq " + cp.path("seq").asLong());
      }
      case Seal.TYPE -> {
        JsonNode seal = record.path("seal");
        parts.add("seal of " + seal.path("bytes").asLong() + " partial bytes in " + seal.path("file").asText()
            + " (" + seal.path("cause").asText() + ")");
      }
      case Retention.TYPE -> parts.add("retention deleted " + record.path("retention").path("deleted").size()
          + " file(s) (" + record.path("retention").path("reason").asText() + ")");
      default -> {
        for (String key : new String[] {"decision", "method", "resource", "status", "reason"}) {
          if (record.has(key)) {
            parts.add(record.get(key).asText());
          }
        }
      }
    }
    return String.join(" ", parts);
  }

  private static void copy(JsonNode from, String key, ObjectNode to, String as) {
    if (from.has(key)) {
      to.set(as, from.get(key));
    }
  }
}
