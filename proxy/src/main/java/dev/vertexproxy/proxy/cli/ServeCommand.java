package dev.vertexproxy.proxy.cli;

import dev.vertexproxy.proxy.config.ConfigLoader;
import dev.vertexproxy.proxy.config.ProxyConfig;
import dev.vertexproxy.proxy.credentials.GoogleTransports;
import dev.vertexproxy.proxy.server.ProxyServer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code vertex-proxy serve --config proxy.yaml}: runs the proxy until SIGTERM/SIGINT, then drains. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the proxy.")
final class ServeCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, description = "Path to proxy.yaml.")
  Path config;

  @Option(names = "--check", description = "Validate the configuration and policy, then exit.")
  boolean check;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    ProxyConfig cfg = new ConfigLoader().load(config);
    if (check) {
      ProxyServer.loadPolicy(cfg);
      spec.commandLine().getOut().println("configuration and policy are valid");
      spec.commandLine().getOut().flush();
      return 0;
    }
    ProxyServer server = ProxyServer.start(cfg, Clock.systemUTC(), GoogleTransports.forConfig(cfg.credentials()));
    UntilShutdown.await(server::close, "vertex-proxy-shutdown");
    return 0;
  }
}
