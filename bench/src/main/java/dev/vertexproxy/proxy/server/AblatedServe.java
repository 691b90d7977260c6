package dev.vertexproxy.proxy.server;

import dev.vertexproxy.proxy.cli.Main;
import dev.vertexproxy.proxy.cli.UntilShutdown;
import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTransports;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;

/**
 * The ablation ladder's proxy (scripts/bench): {@code serve} with pieces of the request path left out, to measure
 * what each costs. Lives in the bench module, in the server's package, because the product has no switch for this:
 * {@link Ablation} is package-private and no configuration reaches it.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.vertexproxy.proxy.server.AblatedServe RUNG proxy.yaml
 * </pre>
 *
 * RUNG: {@code passthrough} (route and forward; no identity, policy, Google token or audit record), {@code jwt}
 * (+ the caller's token verified), {@code policy} (+ the decision), {@code tokenswap} (+ the cached Google token);
 * none of them writes an audit record. The rungs above those are {@code serve} itself with each durability.
 */
public final class AblatedServe {
  private AblatedServe() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: AblatedServe passthrough|jwt|policy|tokenswap proxy.yaml");
      System.exit(2);
    }
    Main.processDefaults(); // as serve sets them (leak detection off), so the rungs compare like with like
    Ablation ablation = switch (args[0]) {
      case "passthrough" -> new Ablation(Set.of("identity", "policy", "credentials"), true);
      case "jwt" -> new Ablation(Set.of("policy", "credentials"), true);
      case "policy" -> new Ablation(Set.of("credentials"), true);
      case "tokenswap" -> new Ablation(Set.of(), true);
      default -> throw new IllegalArgumentException("unknown rung " + args[0]);
    };
    ProxyConfig config = new ConfigLoader().load(Path.of(args[1]));
    ProxyServer server = ProxyServer.start(config, Clock.systemUTC(), GoogleTransports.forConfig(config.credentials()),
        ablation);
    UntilShutdown.await(server::close, "ablated-serve-shutdown");
  }
}
