package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.audit.AuditLog.AuditReceipt;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.config.AuditConfig.Durability;
import dev.vertexproxy.proxy.config.AuditConfig.OnFailure;
import java.util.concurrent.CompletableFuture;

/**
 * What the {@code audit} section asks of the request path (docs/audit.md, "Durability and failures"): whether an answer
 * waits for its record, whether a decision record goes first, what a failed record costs the caller, and what of a
 * request body is captured. Immutable and thread-safe; built once per start.
 *
 * @param durability {@code none}: answers never wait for a record; {@code group_commit}: the end of every answer waits
 *                   until its record is durable; {@code sync}: that, and a decision record is durable before the request
 *                   leaves for Vertex
 * @param onFailure  {@code reject}: an answer whose record failed is cut off, never completed; {@code continue}: it is
 *                   completed and the lost record counted
 * @param capture    what of a forwarded request's body goes into its record
 * @param records    false only in the benchmark's ablation ladder: no record is written at all
 */
record AuditPlan(Durability durability, OnFailure onFailure, BodyCapture.Plan capture, boolean records) {
  /** The receipt of a record that is not written ({@link Ablation#withoutAudit()}, benchmarks only). */
  static final CompletableFuture<AuditReceipt> NOT_RECORDED =
      CompletableFuture.completedFuture(new AuditReceipt(-1, "not-recorded"));

  /** The plan for {@code config}. */
  static AuditPlan of(AuditConfig config) {
    return of(config, Ablation.NONE);
  }

  static AuditPlan of(AuditConfig config, Ablation ablation) {
    return new AuditPlan(ablation.withoutAudit() ? Durability.NONE : config.durability(), config.onFailure(),
        BodyCapture.Plan.of(config.capture()), !ablation.withoutAudit());
  }

  /** Whether the end of an answer waits until its record is durable. */
  boolean answersAfterRecord() {
    return durability != Durability.NONE;
  }

  /** Whether a decision record must be durable before any byte of the request goes to Vertex. */
  boolean decisionFirst() {
    return durability == Durability.SYNC;
  }

  /** Whether a record that could not be written stops what it records (the answer, the forwarding). */
  boolean refusesWithoutRecord() {
    return onFailure == OnFailure.REJECT;
  }
}
