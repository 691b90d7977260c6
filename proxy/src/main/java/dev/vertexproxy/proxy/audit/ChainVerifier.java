package dev.vertexproxy.proxy.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.proxy.audit.SealCheck.Head;
import dev.vertexproxy.proxy.audit.SealCheck.Seal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One verification of one audit directory: reads every file in chain order, line by line, and hands each record to
 * {@link ChainLinks} (seq and prev_hash), {@link CheckpointCheck} (signatures), {@link SealCheck} (torn lines) and the
 * external checkpoints, then judges the tail ({@link TailCheck}). Everything found is collected, not only the first
 * problem. Constant memory for any length of trail. Single-use, single-threaded.
 */
final class ChainVerifier {
  static final Pattern CHAIN_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  static final String CHAIN_ID_FILE = "chain-id";

  private final Path dir;
  private final VerifyOptions options;
  private final CheckpointCheck check;
  private final Findings findings = new Findings();
  private final ChainLinks links = new ChainLinks(findings);
  private final TailCheck tail;
  private String chainId = "";
  private ExternalCheckpoints external;
  private final Set<String> names = new HashSet<>();
  private int files;
  private boolean started;
  private boolean startAwaitsCheckpoint;
  private long startSeq;
  private long namedFirstSeq;
  private boolean sawChainId;
  private boolean warnedLegacy;
  private long sealed;

  ChainVerifier(Path dir, VerifyOptions options) {
    this.dir = dir;
    this.options = options;
    this.check = new CheckpointCheck(options.keys());
    this.tail = new TailCheck(findings, links, options);
  }

  ChainReport run() {
    List<Path> trail;
    try {
      trail = TrailFiles.list(dir);
    } catch (NoSuchFileException e) {
      findings.problem(dir + ": no such directory", null);
      return report();
    } catch (IOException e) {
      findings.problem(dir + ": cannot list the directory: " + e, null);
      return report();
    }
    trail.forEach(file -> names.add(TrailFiles.sealName(file)));
    chainId = chainIdOf(trail);
    external = ExternalCheckpoints.read(options.externalCheckpoints(), chainId, check, findings);
    Path previous = null;
    for (int i = 0; i < trail.size(); i++) {
      Path file = trail.get(i);
      if (!TrailFiles.wellNamed(file)) {
        findings.problem(file.getFileName() + ": not an audit file name (expected audit-<yyyyMMdd'T'HHmmss'Z'>-<seq>"
            + ".jsonl) — a file was added or renamed", links.verified());
        continue;
      }
      Head next = i + 1 < trail.size() && TrailFiles.wellNamed(trail.get(i + 1)) ? SealCheck.head(trail.get(i + 1))
          : null;
      read(file, previous, next);
      previous = file;
    }
    if (startAwaitsCheckpoint) {
      findings.problem("the trail starts at seq " + startSeq + " with seals and no checkpoint after them — records 1.."
          + (startSeq - 1) + " were removed (or moved)", links.verified());
    }
    if (check.hasKeys() && tail.checkpoints() == 0) {
      findings.problem(dir + ": no checkpoint in the trail — nothing in it is signed, so --key cannot vouch for it"
          + " (is audit.checkpoint configured?)", links.verified());
    }
    tail.finish(external, dir);
    return report();
  }

  /** The {@code chain-id} file's id; without one, the id most files start with (a mixed-in file is the odd one). */
  private String chainIdOf(List<Path> trail) {
    Path file = dir.resolve(CHAIN_ID_FILE);
    if (Files.isRegularFile(file)) {
      try {
        String id = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (CHAIN_ID.matcher(id).matches()) {
          return id;
        }
        findings.problem(CHAIN_ID_FILE + ": not a chain id (expected [A-Za-z0-9._-]{1,64}) — the file was changed",
            null);
      } catch (IOException e) {
        findings.problem(CHAIN_ID_FILE + ": cannot read: " + e.getMessage(), null);
      }
    }
    Map<String, Integer> votes = new HashMap<>();
    String best = "";
    for (Path candidate : trail) {
      String id = firstChainId(candidate);
      if (id != null && votes.merge(id, 1, Integer::sum) > votes.getOrDefault(best, 0)) {
        best = id;
      }
    }
    return best;
  }

  private static String firstChainId(Path file) {
    try (TrailLines lines = new TrailLines(file)) {
      TrailLines.Line line = lines.next();
      if (line == null || line.bytes() == null || line.torn()) {
        return null;
      }
      JsonNode id = AuditRecords.parse(line.bytes()).get("chain_id");
      return id != null && id.isTextual() ? id.asText() : null;
    } catch (IOException e) {
      return null;
    }
  }

  private void read(Path file, Path previous, Head next) {
    files++;
    namedFirstSeq = TrailFiles.firstSeqOf(file);
    String name = file.getFileName().toString();
    Seal seal = next == null ? null : next.sealOf(TrailFiles.sealName(file));
    String boundary = previous == null ? null : "between " + previous.getFileName() + " and " + name;
    try (TrailLines lines = new TrailLines(file)) {
      long number = 0;
      boolean first = true;
      while (true) {
        if (seal != null && lines.offset() == seal.offset()) {
          number++;
          String problem = SealCheck.compare(seal, lines.rest());
          if (problem == null) {
            sealed++;
            findings.note(name + ":" + number + ": " + seal.bytes() + " bytes at offset " + seal.offset()
                + " (a torn line, not part of the chain) are sealed by " + seal.where() + ", cause " + seal.cause());
          } else {
            findings.problem(name + ":" + number + problem, links.verified());
          }
          seal = null;
          break;
        }
        TrailLines.Line line = lines.next();
        if (line == null) {
          break;
        }
        number++;
        if (seal != null && line.offset() < seal.offset() && lines.offset() > seal.offset()) {
          findings.problem(name + ":" + number + ": the seal at " + seal.where() + " names offset " + seal.offset()
              + ", inside this line — the seal or the file was changed", links.verified());
          seal = null;
        }
        if (line.torn()) {
          torn(name, number, line, next);
          break;
        }
        if (!line(line, name, number, first ? boundary : null)) {
          break; // a file of another chain: reported once, not checked against this one
        }
        first = false;
      }
      if (seal != null) {
        findings.problem(name + ": the seal at " + seal.where() + " names offset " + seal.offset() + ", but the file"
            + " ends at " + lines.offset() + " — the file was cut, or the seal changed", links.verified());
      }
    } catch (IOException e) {
      findings.problem(name + ": cannot read: " + e, links.verified());
    }
  }

  private void torn(String name, long number, TrailLines.Line line, Head next) {
    String what = name + ":" + number + ": incomplete last line (no newline at the end) — a write was interrupted"
        + " (crash, full disk) or the file was truncated; it is not part of the chain";
    if (next == null) {
      findings.warning(what + ", and no seal accounts for it yet (the proxy seals it when it next starts)");
    } else if (!next.sealingWriter()) {
      findings.warning(what); // the next file was written by a proxy that did not seal yet
    } else {
      findings.problem(name + ":" + number + ": an incomplete line (" + line.length() + " bytes at offset "
          + line.offset() + ", no newline) that the next file does not seal — a record was cut, or the file was"
          + " edited after the proxy moved on", links.verified());
    }
  }

  /** Checks one complete line; false if it starts a file of another chain. */
  private boolean line(TrailLines.Line line, String name, long number, String boundary) {
    String where = name + ":" + number;
    if (line.bytes() == null) {
      links.problem(where + ": a line of " + line.length() + " bytes, longer than any record — the file was changed");
      links.unreadable();
      return true;
    }
    ObjectNode record;
    try {
      record = AuditRecords.parse(line.bytes());
    } catch (IOException e) {
      links.problem(where + ": not valid JSON — the record was changed or truncated");
      links.unreadable();
      return true;
    }
    JsonNode seqNode = record.get("seq");
    boolean seqValid = seqNode != null && seqNode.canConvertToExactIntegral() && seqNode.asLong() >= 1;
    String at = seqNode != null && seqNode.canConvertToExactIntegral() ? where + " (seq " + seqNode.asText() + ")"
        : where;
    JsonNode idNode = record.get("chain_id");
    if (idNode != null) {
      String id = idNode.asText();
      if (!id.equals(chainId)) {
        if (boundary != null || number == 1) {
          links.problem(name + ": the file holds records of chain " + id + ", not of this directory's chain "
              + (chainId.isEmpty() ? "(none)" : chainId) + " — a file from another replica was mixed in; its records"
              + " were not checked against this chain");
          files--;
          return false;
        }
        links.problem(at + ": a record of chain " + id + " inside chain " + chainId + "'s file — a record of another"
            + " replica was inserted");
        return true;
      }
      sawChainId = true;
    } else if (sawChainId && !warnedLegacy) {
      warnedLegacy = true;
      findings.warning(at + ": a record without chain_id after records of chain " + chainId + " — written by an"
          + " older version of the proxy (downgrade?)");
    }
    JsonNode hashNode = record.remove("hash");
    if (hashNode == null || !hashNode.isTextual()) {
      links.problem(at + ": no hash — the record was changed");
      links.unreadable();
      return true;
    }
    if (!AuditRecords.hash(record).equals(hashNode.asText())) {
      links.problem(at + ": hash mismatch — the record was changed");
      links.unreadable();
      return true;
    }
    JsonNode prevNode = record.get("prev_hash");
    if (!seqValid || prevNode == null || !prevNode.isTextual()) {
      links.problem(at + ": no valid seq or prev_hash — the record was changed");
      links.unreadable();
      return true;
    }
    accept(record, seqNode.asLong(), prevNode.asText(), hashNode.asText(), at, boundary);
    return true;
  }

  private void accept(ObjectNode record, long seq, String prevHash, String hash, String at, String boundary) {
    String type = record.path("type").asText(AuditEvent.EXCHANGE);
    ExternalCheckpoints.Anchor anchor = external.at(seq);
    if (anchor != null && !anchor.hash().equals(hash)) {
      links.problem(at + ": not the record the external checkpoint " + anchor.where() + " anchored — the trail was"
          + " rewritten after that checkpoint was copied out");
    }
    if (!started) {
      started = true;
      startSeq = seq;
      if (seq > 1 && seq != namedFirstSeq) {
        // Retention removes whole files: a trail that starts inside a file lost lines, whatever record it starts at.
        links.problem(at + ": the trail's first file is named for seq " + namedFirstSeq + " but starts at seq " + seq
            + " — records " + namedFirstSeq + ".." + (seq - 1) + " were removed from its start");
        links.startAt(seq, hash, at);
      } else if (seq > 1 && ("seal".equals(type) || "checkpoint".equals(type))) {
        links.startAt(seq, hash, at);
        startAwaitsCheckpoint = true;
      } else {
        links.link(seq, prevHash, hash, at, boundary);
      }
    } else {
      links.link(seq, prevHash, hash, at, boundary);
    }
    if (startAwaitsCheckpoint && !"seal".equals(type)) {
      startAwaitsCheckpoint = false;
      if ("checkpoint".equals(type)) {
        findings.note("records 1.." + (startSeq - 1) + " removed by retention; the trail starts at the signed"
            + " checkpoint of seq " + (seq - 1) + (check.hasKeys() ? "" : " (signature not checked: no --key)"));
      } else {
        links.problem(at + ": the trail starts at seq " + startSeq + " with seals but no checkpoint — records 1.."
            + (startSeq - 1) + " were removed (or moved)");
      }
    }
    if ("checkpoint".equals(type)) {
      CheckpointCheck.Signed signed = CheckpointCheck.statement(record, at, links::problem);
      boolean verified = signed != null && check.check(record, signed, chainId, at, links::problem);
      tail.checkpoint(seq, record.path("time").asText(), signed, verified);
    } else {
      if ("seal".equals(type)) {
        seal(record, at);
      }
      tail.record(record.path("time").asText());
    }
  }

  /** A seal's file must be the one before (then it was checked there) or gone (retention); not another file. */
  private void seal(ObjectNode record, String at) {
    Seal seal = SealCheck.statement(record, at);
    if (seal == null) {
      links.problem(at + ": a seal record without file, offset, bytes and sha256 — the record was forged");
    } else if (!names.contains(seal.file())) {
      findings.note(at + ": seals " + seal.bytes() + " bytes of " + seal.file() + ", which is no longer in the"
          + " directory (removed by retention)");
    }
  }

  private ChainReport report() {
    return new ChainReport(dir, chainId, findings.ok(), files, links.records(), links.firstSeq(), links.lastSeq(),
        links.lastHash() == null ? "unknown (a changed record)" : links.lastHash(), tail.checkpoints(),
        tail.verified(), tail.lastCheckpointSeq(), tail.lastCheckpointTime(), tail.unsigned(), tail.state(), sealed,
        findings.problems(), findings.warnings(), findings.notes(), findings.beforeFirstProblem());
  }
}
