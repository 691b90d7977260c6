package dev.vertexproxy.proxy.doctor;

import java.util.List;

/**
 * One family of the doctor's checks (issuers, STS providers, service accounts, the audit directory): its rows, in the
 * order they were checked. Blocking; every network call it makes is bounded by the doctor's {@code --timeout}.
 */
interface Check {
  List<CheckResult> run() throws InterruptedException;
}
