package dev.vertexproxy.policy;

/**
 * How one rule fared against one request, for {@code policy explain}.
 *
 * @param rule    the rule name
 * @param effect  {@code allow} or {@code deny}
 * @param matched whether every criterion of the rule matched
 * @param failed  the first criterion that failed ({@code issuer}, {@code subject}, {@code claims.<name>},
 *                {@code methods}, {@code resources.projects}, {@code resources.locations}, {@code resources.names}),
 *                or {@code null} when matched
 * @param line    the rule's line in the policy file
 *
 * <p>Immutable and thread-safe.
 */
public record RuleTrace(String rule, String effect, boolean matched, String failed, int line) {
}
