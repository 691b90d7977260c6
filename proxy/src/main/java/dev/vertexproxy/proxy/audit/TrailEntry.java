package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

/** One line of a {@link TrailWriter} batch: an appended event or one of the writer's own records. */
interface TrailEntry {
  /** Appends the chained line, with {@code seq} and {@code prevHash}, to {@code out}; returns the record's hash. */
  String append(ByteArrayOutputStream out, long seq, String prevHash);

  /** The record's {@code type}. */
  String type();

  /** The chained record as a tree (after {@link #append}), for stdout and the checkpoint export. */
  ObjectNode tree(byte[] batch) throws IOException;

  /** A writer's own record, made once its predecessor's seq and hash are known (a checkpoint signs them). */
  interface Maker {
    ObjectNode record(long prevSeq, String prevHash);
  }

  /** One of the writer's own records: a tree, chained and serialised as a whole (a few per file, not per request). */
  final class Tree implements TrailEntry {
    private final String chainId;
    private final Maker maker;
    private ObjectNode record;

    Tree(String chainId, Maker maker) {
      this.chainId = chainId;
      this.maker = maker;
    }

    @Override
    public String append(ByteArrayOutputStream out, long seq, String prevHash) {
      record = maker.record(seq - 1, prevHash);
      record.put("chain_id", chainId);
      record.put("seq", seq);
      record.put("prev_hash", prevHash);
      String hash = AuditRecords.hash(record);
      record.put("hash", hash);
      out.writeBytes(AuditRecords.canonical(record));
      out.write('\n');
      return hash;
    }

    @Override
    public String type() {
      return record.path("type").asText();
    }

    @Override
    public ObjectNode tree(byte[] batch) {
      return record;
    }
  }

  /** An appended event, serialised once ({@link EventLines}); a tree is parsed back from its line only if asked. */
  final class Event implements TrailEntry {
    private final EventLines lines;
    private final EventLines.Prepared prepared;
    private int start;
    private int end;

    Event(EventLines lines, EventLines.Prepared prepared) {
      this.lines = lines;
      this.prepared = prepared;
    }

    @Override
    public String append(ByteArrayOutputStream out, long seq, String prevHash) {
      start = out.size();
      String hash = lines.chain(out, prepared, seq, prevHash);
      end = out.size() - 1; // without the newline
      return hash;
    }

    @Override
    public String type() {
      return prepared.type();
    }

    @Override
    public ObjectNode tree(byte[] batch) throws IOException {
      return AuditRecords.parse(Arrays.copyOfRange(batch, start, end));
    }
  }
}
