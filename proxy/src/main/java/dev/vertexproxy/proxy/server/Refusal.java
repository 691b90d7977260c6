package dev.vertexproxy.proxy.server;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Why an exchange ends without reaching Vertex, or fails on the way: one kebab-case reason that picks the HTTP status,
 * fills the audit record and tags the metric. The message is shown to the caller, so it never holds a token or secret.
 * "Refused" (the caller's 4xx) is kept apart from "could not decide or reach Google" (our 5xx) by the status alone.
 */
record Refusal(HttpResponseStatus status, String reason, String message) {

  static Refusal badRequest(String reason, String message) {
    return new Refusal(HttpResponseStatus.BAD_REQUEST, reason, message);
  }

  static Refusal unauthenticated(String reason, String message) {
    return new Refusal(HttpResponseStatus.UNAUTHORIZED, reason, message);
  }

  static Refusal denied(String reason, String message) {
    return new Refusal(HttpResponseStatus.FORBIDDEN, reason, message);
  }

  static Refusal notFound(String reason, String message) {
    return new Refusal(HttpResponseStatus.NOT_FOUND, reason, message);
  }

  static Refusal unavailable(String reason, String message) {
    return new Refusal(HttpResponseStatus.SERVICE_UNAVAILABLE, reason, message);
  }

  static Refusal badGateway(String reason, String message) {
    return new Refusal(HttpResponseStatus.BAD_GATEWAY, reason, message);
  }

  static Refusal gatewayTimeout(String reason, String message) {
    return new Refusal(HttpResponseStatus.GATEWAY_TIMEOUT, reason, message);
  }

  /** Google's canonical status name for an HTTP status, as its JSON errors carry it. */
  static String googleStatus(int code) {
    return switch (code) {
      case 400 -> "INVALID_ARGUMENT";
      case 401 -> "UNAUTHENTICATED";
      case 403 -> "PERMISSION_DENIED";
      case 404 -> "NOT_FOUND";
      case 405 -> "INVALID_ARGUMENT";
      case 408 -> "DEADLINE_EXCEEDED";
      case 409 -> "ABORTED";
      case 413 -> "INVALID_ARGUMENT";
      case 414 -> "INVALID_ARGUMENT";
      case 417 -> "INVALID_ARGUMENT";
      case 429 -> "RESOURCE_EXHAUSTED";
      case 431 -> "INVALID_ARGUMENT";
      case 499 -> "CANCELLED";
      case 501 -> "UNIMPLEMENTED";
      case 502 -> "UNAVAILABLE";
      case 503 -> "UNAVAILABLE";
      case 504 -> "DEADLINE_EXCEEDED";
      default -> code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    };
  }
}
