package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.PolicyException;
import dev.vertexproxy.policy.PolicyLinter;
import dev.vertexproxy.policy.PolicyTestRunner;
import dev.vertexproxy.policy.RequestRouter;
import dev.vertexproxy.policy.RuleTrace;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.config.ConfigException;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy policy check|explain|test|lint|iam|replay|suggest}: works on a policy file (replay and suggest
 * also on audit trails) alone, without the proxy's config, so it runs in a merge-request pipeline ({@code --issuers}
 * may name the proxy.yaml to check issuers as {@code serve} does). Exit codes: 0 valid / allowed / all cases pass / no
 * warnings; 1 problems /
 * denied / a case failed / warnings; 2 the input could not be used (invalid policy or test file, bad arguments).
 *
 * <p>Each invocation builds its own objects; not shared between threads.
 */
@Command(name = "policy", mixinStandardHelpOptions = true,
    description = "Validate, explain, test and lint a policy file; print the IAM bindings it needs.",
    subcommands = {PolicyCommand.Check.class, PolicyCommand.Explain.class, PolicyCommand.Test.class,
        PolicyCommand.Lint.class, PolicyIamCommand.class, PolicyReplayCommand.class, PolicySuggestCommand.class})
public final class PolicyCommand implements Callable<Integer> {
  static final int OK = 0;
  static final int NEGATIVE = 1;
  static final int UNUSABLE = 2;
  /** {@code --issuers gitlab:shared}: the issuer is shared like gitlab.com. */
  private static final String SHARED_SUFFIX = ":shared";

  final Supplier<MethodCatalog> catalog;
  private final Function<MethodCatalog, RequestRouter> routerFactory;

  @Spec
  CommandSpec spec;

  /** The command as shipped: the bundled catalog and the catalog router. */
  public PolicyCommand() {
    this(MethodCatalog::bundled, PolicyCommand::catalogRouter);
  }

  /** For tests and embedding: the catalog to validate against and how to route requests over it. */
  public PolicyCommand(Supplier<MethodCatalog> catalog, Function<MethodCatalog, RequestRouter> routerFactory) {
    this.catalog = catalog;
    this.routerFactory = routerFactory;
  }

  private static RequestRouter catalogRouter(MethodCatalog catalog) {
    return new Router(catalog)::route;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return UNUSABLE;
  }

  private Policy load(Path file, Set<String> issuers, Set<String> shared, PrintWriter err) {
    try {
      return Policy.load(file, catalog.get(), issuers, shared);
    } catch (PolicyException e) {
      ProblemReport.print(err, "invalid policy", e.problems());
      return null;
    }
  }

  /** The {@code --issuers} option and loading a policy with it, for every subcommand that loads one. */
  abstract static class PolicyLoadingCommand implements Callable<Integer> {
    @ParentCommand
    PolicyCommand parent;

    @Spec
    CommandSpec spec;

    @Option(names = "--issuers", split = ",", paramLabel = "NAME[:shared]|PROXY_YAML",
        description = "The issuers configured in proxy.yaml, as names (NAME:shared marks an issuer shared like "
            + "gitlab.com, whose allow rules must pin a namespace or project) or as the proxy.yaml file itself; "
            + "rules naming any other issuer are errors.")
    List<String> issuers;

    /** Set when the proxy.yaml given to --issuers could not be used; the command then exits with 2. */
    boolean configUnusable;

    /** The proxy.yaml given to --issuers, once loaded; {@code null} when issuers were given by name or not at all. */
    ProxyConfig config;

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    PrintWriter err() {
      return spec.commandLine().getErr();
    }

    /** The policy, or null after printing why not ({@link #configUnusable} tells a bad proxy.yaml apart). */
    Policy load(Path file) {
      if (issuers == null) {
        return parent.load(file, null, Set.of(), err());
      }
      Set<String> names = new LinkedHashSet<>();
      Set<String> shared = new LinkedHashSet<>();
      if (!readIssuers(names, shared)) {
        return null;
      }
      return parent.load(file, names, shared, err());
    }

    /**
     * Reads {@code --issuers} (given) into the issuer names and those marked shared: names, or the proxy.yaml itself.
     * False after printing why the proxy.yaml could not be used ({@link #configUnusable} is set).
     */
    boolean readIssuers(Set<String> names, Set<String> shared) {
      if (issuers.size() == 1 && issuers.get(0).toLowerCase(Locale.ROOT).matches(".*\\.ya?ml")) {
        try {
          config = new ConfigLoader().load(Path.of(issuers.get(0)));
        } catch (ConfigException e) {
          ProblemReport.print(err(), "invalid configuration", e.problems());
          configUnusable = true;
          return false;
        }
        names.addAll(config.identity().issuerNames());
        shared.addAll(config.identity().sharedIssuerNames());
        return true;
      }
      for (String entry : issuers) {
        String name = entry.endsWith(SHARED_SUFFIX) ? entry.substring(0, entry.length() - SHARED_SUFFIX.length()) : entry;
        if (name.isEmpty() || name.indexOf(':') >= 0) {
          throw new CommandLine.ParameterException(spec.commandLine(),
              "--issuers " + entry + ": expected NAME, NAME:shared or the path of proxy.yaml");
        }
        names.add(name);
        if (name.length() != entry.length()) {
          shared.add(name);
        }
      }
      return true;
    }

    /** The catalog router, as {@code serve} routes. */
    RequestRouter router() {
      return parent.routerFactory.apply(parent.catalog.get());
    }
  }

  /** Options shared by the subcommands that take the policy file as their first parameter. */
  abstract static class PolicyFileCommand extends PolicyLoadingCommand {
    @Parameters(index = "0", paramLabel = "POLICY", description = "The policy file (policy.yaml).")
    Path file;

    Policy load() {
      return load(file);
    }
  }

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = "Validate a policy file; print every problem with file, line and column.")
  static final class Check extends PolicyFileCommand {
    @Override
    public Integer call() {
      Policy policy = load();
      if (policy == null) {
        return configUnusable ? UNUSABLE : NEGATIVE;
      }
      out().println(file + ": valid, " + policy.rules().size() + " rules, version " + policy.version());
      return OK;
    }
  }

  @Command(name = "explain", mixinStandardHelpOptions = true,
      description = "Decide one request for one identity and show how every rule fared.")
  static final class Explain extends PolicyFileCommand {
    @Option(names = "--issuer", required = true, paramLabel = "NAME", description = "The caller's issuer name.")
    String issuer;

    @Option(names = "--subject", paramLabel = "SUB", description = "The token's sub (default: the sub claim).")
    String subject;

    @Option(names = "--claims", paramLabel = "FILE", description = "A JSON file with the token's claims.")
    Path claimsFile;

    @Option(names = "--claim", paramLabel = "NAME=VALUE",
        description = "A claim (repeatable; repeating a name makes a list claim).")
    List<String> claimArgs = new ArrayList<>();

    @Option(names = "--request", required = true, paramLabel = "\"METHOD /PATH\"",
        description = "The HTTP request line, e.g. \"POST /v1/projects/p/locations/us-central1/customJobs\".")
    String request;

    @Override
    public Integer call() {
      Map<String, Object> claims = new LinkedHashMap<>();
      if (claimsFile != null) {
        try {
          claims.putAll(new ObjectMapper().readValue(claimsFile.toFile(), new TypeReference<Map<String, Object>>() { }));
        } catch (JsonProcessingException e) {
          // Jackson's own message quotes the input; a claims file may hold more than claims, so say only where.
          err().println(claimsFile + ":" + e.getLocation().getLineNr() + ":" + e.getLocation().getColumnNr()
              + ": expected a JSON object of claims");
          return UNUSABLE;
        } catch (IOException e) {
          err().println(claimsFile + ": cannot read: " + e.getClass().getSimpleName());
          return UNUSABLE;
        }
      }
      for (String arg : claimArgs) {
        int eq = arg.indexOf('=');
        if (eq <= 0) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--claim " + arg + ": expected NAME=VALUE");
        }
        addClaim(claims, arg.substring(0, eq), arg.substring(eq + 1));
      }
      String[] requestLine = request.trim().split("\\s+", 2);
      if (requestLine.length != 2 || !requestLine[1].startsWith("/")) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--request " + request + ": expected \"METHOD /PATH\"");
      }
      Policy policy = load();
      if (policy == null) {
        return UNUSABLE;
      }
      String sub = subject != null ? subject : String.valueOf(claims.getOrDefault("sub", ""));
      Caller caller = new Caller(issuer, sub, claims);
      PrintWriter out = out();
      Route route;
      try {
        route = parent.routerFactory.apply(parent.catalog.get()).route(requestLine[0], requestLine[1]);
      } catch (RouteException e) {
        out.println("decision: deny (" + e.reason() + ")");
        out.println("message:  " + e.getMessage());
        return NEGATIVE;
      }
      Decision d = policy.decide(caller, route);
      out.println("decision: " + (d.allowed() ? "allow" : "deny") + " (" + d.reason() + ")");
      out.println("rule:     " + (d.rule() == null ? "-" : d.rule()));
      if (d.allowed()) {
        out.println("acts as:  " + d.serviceAccount());
      }
      out.println("message:  " + d.message());
      out.println("request:  " + route.method().name() + " (" + route.method().id() + ", " + route.version() + ")");
      out.println("          resource " + route.resource() + ", project "
          + (route.project() == null ? "- (express mode)" : route.project()) + ", location " + route.location());
      out.println("          model " + modelOf(route));
      out.println("policy:   " + file + " " + policy.version());
      out.println("rules:");
      for (RuleTrace t : policy.explain(caller, route)) {
        out.printf("  %-8s %-5s %s (line %d)%s%n", t.matched() ? "MATCH" : "no", t.effect(), t.rule(), t.line(),
            t.matched() ? "" : ": " + t.failed() + " does not match");
      }
      return d.allowed() ? OK : NEGATIVE;
    }

    /**
     * The model as a {@code models:} entry names it (bare for Google's and a project's own, qualified for a partner's),
     * or why there is none: an endpoint or a method taking the model in its body names none in its path.
     */
    private static String modelOf(Route route) {
      if (route.model() == null) {
        return "- (the path names none; a models rule does not allow it)";
      }
      String publisher = route.publisher();
      return publisher == null || publisher.equals("google") ? route.model()
          : "publishers/" + publisher + "/models/" + route.model();
    }

    @SuppressWarnings("unchecked")
    private static void addClaim(Map<String, Object> claims, String name, String value) {
      Object existing = claims.get(name);
      if (existing == null) {
        claims.put(name, value);
      } else if (existing instanceof List<?> list) {
        List<Object> values = new ArrayList<>((List<Object>) list);
        values.add(value);
        claims.put(name, values);
      } else {
        claims.put(name, List.of(existing, value));
      }
    }
  }

  @Command(name = "test", mixinStandardHelpOptions = true,
      description = "Run a YAML file of cases (identity + request -> expected decision) against the policy.")
  static final class Test extends PolicyFileCommand {
    @Parameters(index = "1", paramLabel = "TESTS", description = "The test cases file.")
    Path tests;

    @Override
    public Integer call() {
      Policy policy = load();
      if (policy == null) {
        return UNUSABLE;
      }
      List<PolicyTestRunner.Result> results;
      try {
        results = new PolicyTestRunner(policy, parent.routerFactory.apply(parent.catalog.get())).run(tests);
      } catch (PolicyException e) {
        ProblemReport.print(err(), "invalid policy tests", e.problems());
        return UNUSABLE;
      }
      PrintWriter out = out();
      int failed = 0;
      for (PolicyTestRunner.Result r : results) {
        if (r.passed()) {
          out.println("PASS " + r.name());
        } else {
          failed++;
          out.println("FAIL " + r.name() + " (" + tests + ":" + r.line() + "): " + r.failure());
        }
      }
      out.println((results.size() - failed) + " passed, " + failed + " failed");
      return failed == 0 ? OK : NEGATIVE;
    }
  }

  @Command(name = "lint", mixinStandardHelpOptions = true,
      description = "Flag valid but dangerous rules (broad globs, writes any branch may make, rules that never match or"
          + " a deny always overrides, ...), each with its fix; --strict makes every finding an error.")
  static final class Lint extends PolicyFileCommand {
    @Option(names = "--strict", description = "Every finding is an error (the report says N errors); the exit code is"
        + " 1 on any finding either way.")
    boolean strict;

    @Option(names = "--json", description = "Print the findings as JSON: file, line, column, rule, code, severity,"
        + " message, fix.")
    boolean json;

    @Override
    public Integer call() {
      Policy policy = load();
      if (policy == null) {
        return UNUSABLE;
      }
      List<String> source;
      try {
        source = Files.readAllLines(file);
      } catch (IOException e) {
        err().println("cannot read " + file + ": " + e.getMessage());
        return UNUSABLE;
      }
      List<PolicyLinter.Warning> all = new ArrayList<>(PolicyLinter.lint(policy,
          LintReport.context(parent.catalog.get(), config)));
      if (config != null) {
        all.addAll(LintReport.credentialFindings(config, policy));
      }
      List<PolicyLinter.Warning> findings = PolicyLinter.withoutIgnored(all, policy, source);
      int ignored = all.size() - findings.size();
      if (strict) {
        findings = LintReport.strict(findings);
      }
      if (json) {
        LintReport.printJson(out(), file.toString(), findings, ignored);
      } else {
        LintReport.printText(out(), file.toString(), findings, ignored);
      }
      return findings.isEmpty() ? OK : NEGATIVE;
    }
  }
}
