package dev.vertexproxy.proxy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExitCode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code vertex-proxy audit verify|query|report DIR}: the compliance reviewer's tools over an audit directory.
 * Exit codes: 0 done (and, for verify/report, the chain is intact), 1 the chain is broken, 2 usage error or no such
 * directory. Output goes to the command line's {@code getOut()}/{@code getErr()} writers.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
    description = "Verify, search and summarize the hash-chained audit trail.",
    subcommands = {AuditVerifyCommand.class, AuditQueryCommand.class, AuditReportCommand.class, AuditKeygenCommand.class})
public final class AuditCommand implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  enum Decision { allow, deny }

  /** The values of a record's {@code outcome} (see {@link dev.vertexproxy.proxy.reason.Outcome}). */
  enum OutcomeOption { allowed, refused, unavailable, failed }

  enum Format { json, table }

  static boolean requireDirectory(Path dir, PrintWriter err) {
    if (!Files.isDirectory(dir)) {
      err.println(dir + ": no such directory");
      err.flush();
      return false;
    }
    return true;
  }

  /** Shell-style glob: {@code *} any run of characters (slashes included), {@code ?} one character. */
  static Pattern globPattern(String glob) {
    StringBuilder regex = new StringBuilder();
    Matcher parts = Pattern.compile("[*?]|[^*?]+").matcher(glob);
    while (parts.find()) {
      String part = parts.group();
      regex.append(part.equals("*") ? ".*" : part.equals("?") ? "." : Pattern.quote(part));
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }

  /** RFC 3339 instants, UTC dates, or ages like 30m/24h/7d counted back from now. */
  static final class TimeConverter implements CommandLine.ITypeConverter<Instant> {
    private static final Clock CLOCK = Clock.systemUTC();
    private static final Pattern AGE = Pattern.compile("(\\d+)([smhd])");

    @Override
    public Instant convert(String value) {
      Matcher age = AGE.matcher(value);
      if (age.matches()) {
        long amount = Long.parseLong(age.group(1));
        Duration duration = switch (age.group(2)) {
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          case "h" -> Duration.ofHours(amount);
          default -> Duration.ofDays(amount);
        };
        return CLOCK.instant().minus(duration);
      }
      try {
        return Instant.parse(value);
      } catch (DateTimeParseException notAnInstant) {
        try {
          return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException notADate) {
          throw new CommandLine.TypeConversionException(
              "'" + value + "' (expected: RFC 3339 like 2026-05-01T12:00:00Z, a date like 2026-05-01, or 24h/7d)");
        }
      }
    }
  }
}
