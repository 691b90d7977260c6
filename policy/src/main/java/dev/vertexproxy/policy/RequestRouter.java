package dev.vertexproxy.policy;

import dev.vertexproxy.policy.route.Route;
import dev.vertexproxy.policy.route.RouteException;

/**
 * Maps an HTTP request line to a {@link Route}: the seam through which {@link PolicyTestRunner} and the CLI use the
 * catalog router ({@code new Router(catalog)::route}) without this package depending on it.
 */
@FunctionalInterface
public interface RequestRouter {
  Route route(String httpMethod, String rawPathAndQuery) throws RouteException;
}
