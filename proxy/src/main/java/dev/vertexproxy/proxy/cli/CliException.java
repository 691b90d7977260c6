package dev.vertexproxy.proxy.cli;

/**
 * A failure of a person-facing command ({@code login}, {@code token}, {@code logout}) whose message is the whole story:
 * what went wrong and what to run next. The commands print it as one line and exit 1, with no stack trace, because the
 * person can act on the sentence and not on our code's line numbers. Messages never carry a token, code or verifier.
 */
final class CliException extends Exception {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }

  CliException(String message, Throwable cause) {
    super(message, cause);
  }
}
