package dev.vertexproxy.bench.sidebyside;

import java.nio.file.Path;
import java.util.List;

/**
 * How P is started for one set of runs: how many policy rules, which audit durability, which rung of the ablation
 * ladder ({@code null}: the product as {@code serve} runs it).
 */
record ProxyVariant(String tag, int rules, String durability, String rung) {
  static ProxyVariant full(int rules) {
    return full(rules, "group_commit");
  }

  static ProxyVariant full(int rules, String durability) {
    return new ProxyVariant("full", rules, durability, null);
  }

  /** A rung of the ladder: an ablated proxy ({@code rung} set, no audit) or {@code serve} with a durability. */
  static ProxyVariant rung(String rung, String durability) {
    return new ProxyVariant("ladder", 100, durability, rung);
  }

  ProxyVariant tagged(String newTag) {
    return new ProxyVariant(newTag, rules, durability, rung);
  }

  /** Its own directory (and so its own audit trail: two processes never share one). */
  String slug() {
    return tag + "-" + (rung == null ? "serve" : rung) + "-" + rules + "-" + durability.replace('_', '-');
  }

  String describe() {
    return "vertex-proxy, " + (rung == null ? "identity + policy + token swap + audit" : "ablation " + rung) + ", "
        + rules + " rules, audit " + durability;
  }

  List<String> launch(Path root, Path proxyJar, Path config) {
    if (rung == null) {
      return List.of("-jar", proxyJar.toString(), "serve", "-c", config.toString());
    }
    return List.of("-cp", Stack.benchJar(root).toString(), "dev.vertexproxy.proxy.server.AblatedServe", rung,
        config.toString());
  }
}
