package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.audit.ChainReport.Verified;
import dev.vertexproxy.proxy.audit.Findings.Problem;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The seq/prev_hash linking of a chain's records, one record at a time, naming what an edit did rather than only where
 * the chain stopped: a gap (records removed, or a whole file), a duplicate (a copy of an earlier line), an insertion
 * (a second, different record with a seq already seen), a reordering (a record of an earlier gap turning up late), a
 * renumbered record ({@code prev_hash} not linking). After a problem it resynchronizes on the record at hand, so one
 * edit is one problem and the lines after it are still checked.
 *
 * <p>Memory is bounded: the last {@value #RECENT} hashes (to recognize a copy) and the last {@value #PENDING_GAPS} gaps
 * (to recognize records moved later). Single-threaded.
 */
final class ChainLinks {
  static final int RECENT = 256;
  static final int PENDING_GAPS = 16;

  /** A gap not yet final: its records might still turn up further on (then it was a reordering). */
  private static final class Gap {
    final long from;
    final long to;
    final String before;
    long outstanding;
    final Problem problem;

    Gap(long from, long to, String before, Problem problem) {
      this.from = from;
      this.to = to;
      this.before = before;
      this.outstanding = to - from + 1;
      this.problem = problem;
    }
  }

  private final Findings findings;
  private long records;
  private long goodRecords;
  private long firstSeq;
  private long lastSeq;
  /** Null after an unreadable or changed record: its successor's prev_hash cannot be checked. */
  private String lastHash = AuditRecords.GENESIS_HASH;
  private String lastWhere;
  /** The other record with seq {@link #lastSeq} after an insertion: the chain may continue from either. */
  private String otherHash;
  private final Map<String, String> recent = new LinkedHashMap<>(RECENT * 2, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
      return size() > RECENT;
    }
  };
  private final Deque<Gap> gaps = new ArrayDeque<>();

  ChainLinks(Findings findings) {
    this.findings = findings;
  }

  long records() {
    return records;
  }

  long firstSeq() {
    return firstSeq;
  }

  long lastSeq() {
    return lastSeq;
  }

  /** The hash of the record before the next one; null if that record was unreadable or changed. */
  String lastHash() {
    return lastHash;
  }

  /** The chain as it verified so far (for the problem about to be reported). */
  Verified verified() {
    return new Verified(goodRecords, lastSeq, lastHash == null ? "unknown (a changed record)" : lastHash);
  }

  void problem(String text) {
    findings.problem(text, verified());
  }

  /**
   * Starts a trail whose first records were deleted by retention at this record: no gap is reported (the caller has
   * checked that it is allowed to start here).
   */
  void startAt(long seq, String hash, String where) {
    records++;
    goodRecords++;
    firstSeq = seq;
    advance(seq, hash, where);
  }

  /** A line that is not a record, or a record whose hash does not recompute: it takes the next seq, unchecked. */
  void unreadable() {
    records++;
    if (firstSeq == 0) {
      firstSeq = lastSeq + 1;
    }
    lastSeq++;
    lastHash = null;
    otherHash = null;
  }

  /**
   * Links a record whose own hash verified.
   *
   * @param where    {@code file:line (seq N)}
   * @param boundary null, or — for the first record of a file — {@code "between A and B"} naming this file and the one
   *                 before, so that a gap there is named as a missing file
   * @return true if the record follows its predecessor cleanly (so "the record before" is known)
   */
  boolean link(long seq, String prevHash, String hash, String where, String boundary) {
    records++;
    if (firstSeq == 0) {
      firstSeq = seq;
    }
    long expected = lastSeq + 1;
    if (seq == expected) {
      boolean linked = lastHash == null || prevHash.equals(lastHash) || prevHash.equals(otherHash);
      if (!linked) {
        problem(where + ": prev_hash does not match "
            + (lastSeq == 0 ? "the start of the trail (64 zeros)" : "record " + lastSeq)
            + " — records were reordered or removed");
      } else {
        goodRecords++;
      }
      boolean known = lastHash != null;
      advance(seq, hash, where);
      return linked && known;
    }
    if (seq > expected) {
      String missing = seq == expected + 1 ? "record " + expected + " was" : "records " + expected + ".." + (seq - 1)
          + " were";
      String file = boundary == null ? "" : ": a whole file is missing " + boundary;
      findGap(expected, seq - 1, where, ": seq " + seq + " follows " + lastSeq + " — " + missing
          + " removed (or moved)" + file);
      advance(seq, hash, where);
      return false;
    }
    return behind(seq, hash, where);
  }

  /** A seq at or below one already seen. */
  private boolean behind(long seq, String hash, String where) {
    String copied = recent.get(hash);
    if (copied != null) {
      problem(where + ": a copy of " + copied + " — a record was duplicated");
      return false;
    }
    for (Iterator<Gap> it = gaps.iterator(); it.hasNext(); ) {
      Gap gap = it.next();
      if (seq >= gap.from && seq <= gap.to) {
        problem(where + ": seq " + seq + " follows " + lastSeq + " — record " + seq + " is out of order (it belongs before "
            + gap.before + ") — records were reordered");
        if (--gap.outstanding == 0) {
          findings.withdraw(gap.problem); // every record of that gap turned up: it was a move, not a removal
          it.remove();
        }
        remember(hash, where);
        return false;
      }
    }
    if (seq == lastSeq) {
      problem(where + ": a second, different record with seq " + seq + " (the other is " + lastWhere
          + ") — a record was inserted");
      otherHash = lastHash;
      lastHash = hash;
      remember(hash, where);
      return false;
    }
    problem(where + ": seq " + seq + " follows " + lastSeq + " — records were reordered or duplicated");
    remember(hash, where);
    return false;
  }

  private void findGap(long from, long to, String where, String what) {
    Problem problem = findings.problem(where + what, verified());
    if (problem != null) {
      gaps.addLast(new Gap(from, to, where, problem));
      if (gaps.size() > PENDING_GAPS) {
        gaps.removeFirst();
      }
    }
  }

  private void advance(long seq, String hash, String where) {
    lastSeq = seq;
    lastHash = hash;
    lastWhere = where;
    otherHash = null;
    remember(hash, where);
  }

  private void remember(String hash, String where) {
    recent.put(hash, where);
  }
}
