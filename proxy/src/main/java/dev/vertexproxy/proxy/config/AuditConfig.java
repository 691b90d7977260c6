package dev.vertexproxy.proxy.config;

import java.nio.file.Path;

/**
 * The {@code audit} section of proxy.yaml.
 *
 * @param dir        directory of the audit files
 * @param durability {@code none} (OS buffers, flushed promptly), {@code group_commit} (default: records are
 *                   fsynced in batches and an append completes only once its batch is on disk) or {@code sync}
 *                   (fsync per record)
 * @param onFailure  {@code reject} (default: once a write fails, requests are refused with 503 until writes work
 *                   again) or {@code continue} (serve, count the loss in a metric, log it)
 */
public record AuditConfig(Path dir, Durability durability, OnFailure onFailure) {
  public enum Durability { NONE, GROUP_COMMIT, SYNC }

  public enum OnFailure { REJECT, CONTINUE }
}
