package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Checks one {@code checkpoint} record (docs/audit.md, "Checkpoints"): its {@code checkpoint} object names the record
 * before it ({@code seq} = this record's seq − 1, {@code hash} = its {@code prev_hash}), carries this record's
 * {@code time}, and is signed; with keys given, the signature verifies with the key its {@code key_id} names.
 * Used for the trail's own checkpoints and for the lines of an external checkpoints file. Thread-safe (immutable).
 */
final class CheckpointCheck {
  static final long DEFAULT_INTERVAL_S = 300;

  /** A checkpoint's signed statement. */
  record Signed(long seq, String hash, String time, String reason, long intervalS, String keyId, String signature) {
  }

  private final Map<String, PublicKey> keys = new LinkedHashMap<>();

  CheckpointCheck(List<PublicKey> keys) {
    keys.forEach(key -> this.keys.put(Checkpoints.keyId(key), key));
  }

  boolean hasKeys() {
    return !keys.isEmpty();
  }

  /** The given keys' ids, for messages. */
  String keyIds() {
    return String.join(", ", keys.keySet());
  }

  /** The statement of a checkpoint record, or null (reported) if it is malformed. */
  static Signed statement(ObjectNode record, String where, Consumer<String> problems) {
    JsonNode cp = record.get("checkpoint");
    if (cp == null || !cp.isObject()) {
      problems.accept(where + ": a checkpoint record without its checkpoint object — the record was forged");
      return null;
    }
    JsonNode seq = cp.get("seq");
    JsonNode hash = cp.get("hash");
    JsonNode time = cp.get("time");
    if (seq == null || !seq.canConvertToExactIntegral() || hash == null || !hash.isTextual() || time == null
        || !time.isTextual()) {
      problems.accept(where + ": the checkpoint has no valid seq, hash or time — the record was forged");
      return null;
    }
    JsonNode interval = cp.get("interval_s");
    long intervalS = interval != null && interval.canConvertToExactIntegral() && interval.asLong() > 0
        ? interval.asLong() : DEFAULT_INTERVAL_S;
    return new Signed(seq.asLong(), hash.asText(), time.asText(), cp.path("reason").asText(""), intervalS,
        cp.path("key_id").isTextual() ? cp.get("key_id").asText() : null,
        cp.path("signature").isTextual() ? cp.get("signature").asText() : null);
  }

  /**
   * Checks that the statement describes the record it sits in and, with keys, that it is signed by one of them.
   *
   * @return true if the signature verified with a given key
   */
  boolean check(ObjectNode record, Signed signed, String chainId, String where, Consumer<String> problems) {
    long seq = record.path("seq").asLong();
    String prevHash = record.path("prev_hash").asText();
    if (signed.seq() != seq - 1 || !signed.hash().equals(prevHash)) {
      problems.accept(where + ": the checkpoint signs seq " + signed.seq() + " hash " + abbreviate(signed.hash())
          + ", but the record before it is seq " + (seq - 1) + " hash " + abbreviate(prevHash)
          + " — the checkpoint does not match its records (moved or forged)");
      return false;
    }
    if (!signed.time().equals(record.path("time").asText())) {
      problems.accept(where + ": the checkpoint signs time " + signed.time() + " but the record says "
          + record.path("time").asText() + " — the record was forged");
      return false;
    }
    if (signed.signature() == null) {
      problems.accept(where + ": the checkpoint has no signature — an unsigned checkpoint proves nothing (forged, or"
          + " written by a tool other than the proxy)");
      return false;
    }
    if (keys.isEmpty()) {
      return false;
    }
    PublicKey key = signed.keyId() == null ? null : keys.get(signed.keyId());
    if (key == null) {
      problems.accept(where + ": the checkpoint is signed by key " + (signed.keyId() == null ? "(no key_id)"
          : signed.keyId()) + ", none of the given keys (" + keyIds() + ") — signed by another key: the trail was"
          + " rewritten and re-signed, or the wrong --key was given");
      return false;
    }
    byte[] payload = Checkpoints.payload(chainId, signed.seq(), signed.hash(), signed.time());
    if (!Checkpoints.verify(key, payload, signed.signature())) {
      problems.accept(where + ": the checkpoint's signature does not verify with key " + signed.keyId()
          + " — the checkpoint (or its seq, hash, time or chain id) was changed");
      return false;
    }
    return true;
  }

  static String abbreviate(String hash) {
    return hash.length() > 12 ? hash.substring(0, 12) + "…" : hash;
  }
}
