package dev.vertexproxy.dev;

import dev.vertexproxy.proxy.cli.UntilShutdown;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vertex-proxy dev}: the whole setup on loopback, and what to try next. */
@Command(name = "dev", mixinStandardHelpOptions = true,
    description = "Run a local OIDC issuer, Google STS/IAM and Vertex AI emulators, and the proxy in front, all on loopback.")
final class DevCommand implements Callable<Integer> {
  @Option(names = "--state-dir", defaultValue = ".vertex-proxy-dev",
      description = "Where dev.json, proxy.yaml, policy.yaml and audit/ go (default: ${DEFAULT-VALUE}).")
  Path stateDir;

  @Option(names = "--port", defaultValue = "8080",
      description = "Proxy port on 127.0.0.1 (default: ${DEFAULT-VALUE}; 0 picks a free one).")
  int port;

  @Option(names = "--tls-port", defaultValue = "8443",
      description = "HTTPS port (its CA is ca.pem in the state directory; for SDKs through `vertex-proxy adc`;"
          + " default: ${DEFAULT-VALUE}).")
  int tlsPort;

  @Option(names = "--admin-port", defaultValue = "9090",
      description = "Admin port (/metrics, /healthz, /readyz; default: ${DEFAULT-VALUE}).")
  int adminPort;

  @Option(names = "--policy", description = "Use this policy instead of the sample one.")
  Path policy;

  @Option(names = "--config", description = "Proxy settings merged over the dev defaults.")
  Path config;

  @Override
  public Integer call() throws Exception {
    DevMode dev = DevMode.start(new DevMode.Options(stateDir, "127.0.0.1", port, adminPort, policy, config, tlsPort));
    System.out.println(instructions(dev.info(), stateDir));
    System.out.flush();
    UntilShutdown.await(dev::close, "vertex-proxy-dev-shutdown");
    return 0;
  }

  static String instructions(Map<String, Object> i, Path stateDir) {
    String proxy = (String) i.get("proxy_url");
    String example = (String) i.get("example_path");
    String stream = example.replace(":generateContent", ":streamGenerateContent?alt=sse");
    String body = "'{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello, Vertex\"}]}]}'";
    return String.join("\n",
        "",
        "vertex-proxy dev is running (Ctrl-C stops it). Everything is on loopback; details in "
            + stateDir.resolve("dev.json") + ".",
        "",
        "  proxy          " + proxy,
        "  proxy (https)  " + i.get("proxy_tls_url") + "   (CA: " + i.get("ca_file") + "; token exchange: "
            + i.get("token_exchange_url") + ")",
        "  admin          " + i.get("admin_url") + "/metrics  /healthz  /readyz",
        "  OIDC issuer    " + i.get("issuer")
            + "   (policy name: " + i.get("issuer_name") + ", audience: " + i.get("audience") + ")",
        "  people's IdP   " + i.get("people_issuer") + "   (policy name: " + DevMode.PEOPLE_ISSUER_NAME + ")",
        "  Vertex emu     " + i.get("vertex_emulator_url"),
        "  Google emu     " + i.get("google_emulator_url") + "   (STS + IAM generateAccessToken)",
        "  policy         " + i.get("policy_file"),
        "  audit trail    " + i.get("audit_dir"),
        "",
        "1. Mint a GitLab-CI-like ID token (any claim can be overridden in the JSON):",
        "",
        "   TOKEN=$(curl -s -X POST " + i.get("mint_url") + " -d '{}' | sed -E 's/.*\"token\":\"([^\"]+)\".*/\\1/')",
        "",
        "2. Call Gemini through the proxy:",
        "",
        "   curl -s " + proxy + example + " \\",
        "     -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        "     -d " + body,
        "",
        "3. Stream it (server-sent events arrive one by one):",
        "",
        "   curl -sN '" + proxy + stream + "' \\",
        "     -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\",
        "     -d " + body,
        "",
        "4. See a denial (a claim no rule allows):",
        "",
        "   BAD=$(curl -s -X POST " + i.get("mint_url") + " -d '{\"project_path\":\"acme/other\"}'"
            + " | sed -E 's/.*\"token\":\"([^\"]+)\".*/\\1/')",
        "   curl -s " + proxy + example + " -H \"Authorization: Bearer $BAD\" -d " + body,
        "",
        "5. Log in as a person (the dev identity provider lets you be anyone; ml-team may prompt Gemini):",
        "",
        "   open " + i.get("people_url") + "   (who you are, what you may call, your token)",
        "   scripts/vertex-proxy login --proxy " + proxy + " --device",
        "   curl -s " + proxy + example + " -H \"Authorization: Bearer $(scripts/vertex-proxy token --proxy " + proxy
            + ")\" -d " + body,
        "",
        "6. Let unmodified SDK code use the proxy through Application Default Credentials (it prints what to",
        "   export; the SDK's process must trust " + i.get("ca_file") + "):",
        "",
        "   printf '%s' \"$TOKEN\" > " + stateDir.resolve("id-token"),
        "   scripts/vertex-proxy adc --proxy " + i.get("proxy_tls_url") + " --ca-file " + i.get("ca_file") + " \\",
        "     --token-file " + stateDir.resolve("id-token") + " --output " + stateDir.resolve("adc.json"),
        "",
        "7. Verify the audit trail and its signed checkpoints (one a minute):",
        "",
        "   scripts/vertex-proxy audit verify --key " + i.get("checkpoint_public_key") + " " + i.get("audit_dir"),
        "   scripts/vertex-proxy audit query " + i.get("audit_dir") + " --decision deny",
        "");
  }
}
