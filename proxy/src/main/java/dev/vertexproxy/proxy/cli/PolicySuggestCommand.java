package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.proxy.audit.AuditReader;
import dev.vertexproxy.proxy.cli.suggest.PolicySuggester;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vertex-proxy policy suggest}: writes the narrowest policy that still allows what the audit trail shows
 * ({@link PolicySuggester}), checks that it loads, and prints it or writes it to {@code --out}. Denials are granted only
 * when asked ({@code --include-denied}), by reason, and then need {@code --service-account}: a denied request acted as
 * no one. Exit codes: 0 a policy was written; 1 the trail held nothing to grant; 2 the input could not be used.
 *
 * <p>One instance per invocation; not shared between threads.
 */
@Command(name = "suggest", mixinStandardHelpOptions = true,
    description = "Write the narrowest policy that still allows the requests an audit trail recorded: one rule per"
        + " identity and service account, exactly the methods, projects, locations and models used.")
final class PolicySuggestCommand extends PolicyCommand.PolicyLoadingCommand {
  /** The default-deny reasons: a team may want to grant these; an explicit deny rule's denial it must lift itself. */
  static final List<String> GRANTABLE = List.of("identity-not-matched", "method-not-granted", "project-not-granted",
      "location-not-granted", "resource-not-granted", "model-not-granted", "issuer-not-trusted");

  @Option(names = "--audit", required = true, paramLabel = "DIR",
      description = "An audit directory (repeatable: one per replica; merged by time).")
  List<Path> dirs;

  @Option(names = "--out", paramLabel = "FILE", description = "Write the policy here instead of to standard output.")
  Path out;

  @Option(names = "--include-denied", arity = "0..1", split = ",", paramLabel = "REASON", fallbackValue = "default",
      description = "Also grant denied requests: all default denials (identity-not-matched, method-not-granted, "
          + "project-, location-, resource-, model-not-granted, issuer-not-trusted), or only those with the REASONs "
          + "given. Needs --service-account.")
  List<String> includeDenied;

  @Option(names = "--service-account", paramLabel = "EMAIL",
      description = "The account granted denied requests, and allowed ones that recorded no google_principal.")
  String serviceAccount;

  @Mixin
  AuditWindow window;

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    Set<String> reasons = deniedReasons();
    if (reasons != null && serviceAccount == null) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--include-denied needs --service-account EMAIL:"
          + " a denied request acted as no service account, so the suggestion cannot take one from the trail");
    }
    Set<String> names = new LinkedHashSet<>();
    Set<String> shared = new LinkedHashSet<>();
    if (issuers != null && !readIssuers(names, shared)) {
      return PolicyCommand.UNUSABLE;
    }
    MethodCatalog catalog = parent.catalog.get();
    PolicySuggester suggester = new PolicySuggester(new PolicySuggester.Options(catalog.names(), shared, serviceAccount));
    int seen = 0;
    try (Stream<AuditReader.Line> lines = AuditReader.merged(dirs, null)) {
      for (AuditReader.Line line : (Iterable<AuditReader.Line>) lines::iterator) {
        ObjectNode r = line.record();
        String type = r.path("type").asText("exchange");
        if (!(type.equals("exchange") || type.equals("decision")) || !window.contains(r)) {
          continue;
        }
        String decision = r.path("decision").asText("");
        if (decision.equals("allow")) {
          suggester.add(r, true);
          seen++;
        } else if (decision.equals("deny") && reasons != null && reasons.contains(r.path("reason").asText(""))) {
          suggester.add(r, false);
          seen++;
        }
      }
    } catch (IOException | UncheckedIOException e) {
      err.println("cannot read the audit trail: " + e.getMessage());
      return PolicyCommand.UNUSABLE;
    }
    String yaml = suggester.yaml(List.of(
        "Suggested by vertex-proxy policy suggest from " + dirs.size() + (dirs.size() == 1 ? " trail" : " trails")
            + (window.since == null ? "" : ", since " + window.since) + (window.until == null ? "" : ", until "
            + window.until) + ".",
        "Each rule grants exactly what its identity was seen doing; review it like any policy change.",
        "Deny rules are not suggested: carry over the ones your current policy has."));
    suggester.warnings().forEach(w -> err.println("warning: " + w));
    try {
      // the suggestion must load as it is; a value the writer got wrong is our bug, not the operator's to fix
      Policy.parse(yaml, "suggested policy", catalog, issuers == null ? null : names, shared);
    } catch (PolicyException e) {
      ProblemReport.print(err, "the suggested policy does not load (please report this)", e.problems());
      return PolicyCommand.UNUSABLE;
    }
    if (!write(yaml, err)) {
      return PolicyCommand.UNUSABLE;
    }
    err.println(suggester.rules() + (suggester.rules() == 1 ? " rule" : " rules") + " from " + suggester.requests()
        + " of " + seen + " requests" + (out == null ? "" : ", written to " + out));
    return suggester.rules() == 0 ? PolicyCommand.NEGATIVE : PolicyCommand.OK;
  }

  private Set<String> deniedReasons() {
    if (includeDenied == null) {
      return null;
    }
    Set<String> reasons = new LinkedHashSet<>();
    for (String r : includeDenied) {
      if (r.equals("default")) {
        reasons.addAll(GRANTABLE);
      } else if (r.equals("denied-by-rule") || GRANTABLE.contains(r)) {
        reasons.add(r);
      } else {
        throw new CommandLine.ParameterException(spec.commandLine(), "--include-denied " + r
            + ": expected one of " + String.join(", ", GRANTABLE) + ", denied-by-rule");
      }
    }
    return reasons;
  }

  private boolean write(String yaml, PrintWriter err) {
    if (out == null) {
      spec.commandLine().getOut().print(yaml);
      spec.commandLine().getOut().flush();
      return true;
    }
    try {
      Files.writeString(out, yaml, StandardCharsets.UTF_8);
      return true;
    } catch (IOException e) {
      err.println(out + ": cannot write: " + e.getClass().getSimpleName());
      return false;
    }
  }
}
