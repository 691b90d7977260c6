package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The checkpoints of one chain from the external files ({@code audit.checkpoint.external.file}, given to {@code audit
 * verify --checkpoints}): copies of the trail's own checkpoint lines, kept where the proxy's host cannot write. The trail
 * must hold each of them verbatim at its seq; one beyond the trail's end means the tail was cut.
 *
 * <p>Lines of other chains are passed over, so one file may serve several replicas. A line whose hash does not recompute,
 * or (with keys) whose signature does not verify, is a problem and is not trusted. Memory: one small entry per
 * checkpoint of this chain (about 100 bytes; a checkpoint every 5 minutes is about 10 MB a year). Single-threaded.
 */
final class ExternalCheckpoints {
  /** One anchored checkpoint: the record's own seq and hash, its time and where it was read. */
  record Anchor(long seq, String hash, String time, String where) {
  }

  private final NavigableMap<Long, Anchor> anchors = new TreeMap<>();

  private ExternalCheckpoints() {
  }

  static ExternalCheckpoints read(List<Path> files, String chainId, CheckpointCheck check, Findings findings) {
    ExternalCheckpoints external = new ExternalCheckpoints();
    for (Path file : files) {
      String name = file.toString();
      try (TrailLines lines = new TrailLines(file)) {
        long number = 0;
        TrailLines.Line line;
        while ((line = lines.next()) != null) {
          number++;
          external.accept(line, name + ":" + number, chainId, check, findings);
        }
      } catch (IOException e) {
        findings.problem(name + ": cannot read the external checkpoints: " + e.getMessage(), null);
      }
    }
    return external;
  }

  private void accept(TrailLines.Line line, String where, String chainId, CheckpointCheck check, Findings findings) {
    if (line.bytes() == null || line.length() == 0) {
      return;
    }
    ObjectNode record;
    try {
      record = AuditRecords.parse(line.bytes());
    } catch (IOException e) {
      findings.warning(where + ": not a checkpoint line (not JSON) — ignored");
      return;
    }
    if (!chainId.equals(record.path("chain_id").asText(""))) {
      return;
    }
    if (!"checkpoint".equals(record.path("type").asText())) {
      findings.warning(where + ": not a checkpoint record — ignored");
      return;
    }
    JsonNode seq = record.get("seq");
    String at = where + (seq != null && seq.canConvertToExactIntegral() ? " (seq " + seq.asText() + ")" : "");
    ObjectNode withoutHash = record.deepCopy();
    JsonNode hash = withoutHash.remove("hash");
    if (hash == null || !hash.isTextual() || !AuditRecords.hash(withoutHash).equals(hash.asText())
        || seq == null || !seq.canConvertToExactIntegral()) {
      findings.problem(at + ": external checkpoint's hash mismatch — the anchor file was changed; it is not trusted",
          null);
      return;
    }
    CheckpointCheck.Signed signed = CheckpointCheck.statement(record, at, text -> findings.problem(text, null));
    if (signed == null) {
      return;
    }
    boolean[] bad = {false};
    boolean verified = check.check(record, signed, chainId, at + " (external)", text -> {
      bad[0] = true;
      findings.problem(text, null);
    });
    if (bad[0] || check.hasKeys() && !verified) {
      return;
    }
    anchors.put(seq.asLong(), new Anchor(seq.asLong(), hash.asText(), record.path("time").asText(), at));
  }

  /** The anchored checkpoint at this seq, or null. */
  Anchor at(long seq) {
    return anchors.get(seq);
  }

  /** The anchored checkpoint with the highest seq, or null. */
  Anchor newest() {
    return anchors.isEmpty() ? null : anchors.lastEntry().getValue();
  }

  int size() {
    return anchors.size();
  }
}
