package dev.vertexproxy.proxy.cli.suggest;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.vertexproxy.policy.Caller;
import dev.vertexproxy.policy.Decision;
import dev.vertexproxy.policy.Policy;
import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.route.RouteException;
import dev.vertexproxy.policy.route.Router;
import dev.vertexproxy.proxy.audit.AuditReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Re-decides recorded requests under a policy, as {@code policy replay} will: each request once (by request id), its
 * caller from the record's {@code caller}, its route from {@code http_method} and {@code path} through the real
 * {@link Router}. Until replay exists the suggest tests prove "replay changes nothing" with this; switching them to the
 * command is one call.
 */
public final class TrailReplay {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One recorded request and what the policy now decides for it. */
  public record Outcome(String requestId, String recordedDecision, String method, boolean allowed, String reason) {
  }

  private TrailReplay() {
  }

  /** Every request in {@code dirs} with a caller and a routable path, decided under {@code policy}. */
  public static List<Outcome> replay(Policy policy, MethodCatalog catalog, List<Path> dirs) throws Exception {
    Router router = new Router(catalog);
    List<Outcome> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    try (Stream<AuditReader.Line> lines = AuditReader.merged(dirs, null)) {
      for (AuditReader.Line line : (Iterable<AuditReader.Line>) lines::iterator) {
        ObjectNode r = line.record();
        String type = r.path("type").asText("exchange");
        JsonNode caller = r.path("caller");
        if (!List.of("exchange", "decision").contains(type) || !caller.has("issuer") || !r.has("path")
            || !seen.add(r.path("request_id").asText(line.toString()))) {
          continue;
        }
        Map<String, Object> claims = JSON.convertValue(caller.path("claims"), new TypeReference<Map<String, Object>>() { });
        Caller c = new Caller(caller.path("issuer").asText(), caller.path("subject").asText(""),
            claims == null ? Map.of() : claims);
        try {
          Decision d = policy.decide(c, router.route(r.path("http_method").asText(), r.path("path").asText()));
          out.add(new Outcome(r.path("request_id").asText(), r.path("decision").asText(), r.path("method").asText(),
              d.allowed(), d.reason()));
        } catch (RouteException e) {
          out.add(new Outcome(r.path("request_id").asText(), r.path("decision").asText(), null, false, e.reason()));
        }
      }
    }
    return out;
  }

  /** The requests recorded as allowed that {@code policy} would not allow: empty when replay changes nothing. */
  public static List<Outcome> newlyDenied(Policy policy, MethodCatalog catalog, List<Path> dirs) throws Exception {
    return replay(policy, catalog, dirs).stream().filter(o -> o.recordedDecision().equals("allow") && !o.allowed())
        .toList();
  }
}
