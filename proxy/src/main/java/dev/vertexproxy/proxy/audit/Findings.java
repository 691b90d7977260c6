package dev.vertexproxy.proxy.audit;

import dev.vertexproxy.proxy.audit.ChainReport.Verified;
import java.util.ArrayList;
import java.util.List;

/**
 * The problems, warnings and notes of one verification, in trail order. Each problem remembers how far the chain had
 * verified before it, so the first one can say so. Bounded: past {@link #MAX} of a list, further entries are only
 * counted, so a trail with a million damaged lines still takes constant memory. Single-threaded.
 */
final class Findings {
  static final int MAX = 200;

  /** One problem and the chain as it stood when it was found. */
  record Problem(String text, Verified before) {
  }

  private static final Verified NOTHING = new Verified(0, 0, AuditRecords.GENESIS_HASH);

  private final List<Problem> problems = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private long problemsLeftOff;
  private long warningsLeftOff;

  /**
   * Adds a problem ({@code before} null: found before any record was read); returns it, so a pending gap can later be
   * withdrawn, or null if it was only counted.
   */
  Problem problem(String text, Verified before) {
    if (problems.size() >= MAX) {
      problemsLeftOff++;
      return null;
    }
    Problem problem = new Problem(text, before == null ? NOTHING : before);
    problems.add(problem);
    return problem;
  }

  /** Withdraws a problem that later lines explained differently (a gap whose records turned up out of order). */
  void withdraw(Problem problem) {
    problems.remove(problem);
  }

  void warning(String text) {
    if (warnings.size() >= MAX) {
      warningsLeftOff++;
    } else {
      warnings.add(text);
    }
  }

  void note(String text) {
    if (notes.size() < MAX) {
      notes.add(text);
    }
  }

  boolean ok() {
    return problems.isEmpty() && problemsLeftOff == 0;
  }

  Verified beforeFirstProblem() {
    return problems.isEmpty() ? null : problems.get(0).before();
  }

  List<String> problems() {
    List<String> texts = new ArrayList<>(problems.size() + 1);
    problems.forEach(problem -> texts.add(problem.text()));
    if (problemsLeftOff > 0) {
      texts.add("… and " + problemsLeftOff + " more problems (only the first " + MAX + " are listed)");
    }
    return texts;
  }

  List<String> warnings() {
    List<String> texts = new ArrayList<>(warnings);
    if (warningsLeftOff > 0) {
      texts.add("… and " + warningsLeftOff + " more warnings");
    }
    return texts;
  }

  List<String> notes() {
    return List.copyOf(notes);
  }
}
