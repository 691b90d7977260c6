package dev.vertexproxy.policy;

import dev.vertexproxy.policy.catalog.MethodCatalog;
import dev.vertexproxy.policy.catalog.VertexMethod;
import java.util.Set;

/**
 * Which Vertex methods change something: every method the catalog serves with an HTTP method other than {@code GET},
 * except the {@code POST}s that only compute or read ({@link #READ_LIKE_VERBS}). Used by {@link PolicyLinter} to flag
 * broad grants of writes and writes any branch could make.
 *
 * <p>Stateless and thread-safe.
 */
public final class WriteMethods {
  /**
   * Verbs of {@code POST} methods that answer from the request and stored state without changing any resource, taken
   * from the discovery documents: prediction and generation ({@code predict}, {@code rawPredict},
   * {@code streamRawPredict}, {@code serverStreamingPredict}, {@code directPredict}, {@code directRawPredict},
   * {@code generateContent}, {@code streamGenerateContent}, {@code explain}, {@code embedContent}, the OpenAI-compatible
   * {@code completions} and {@code embeddings}), token counting ({@code countTokens}, {@code computeTokens}), evaluation
   * that returns its result ({@code evaluateInstances}, {@code generateInstanceRubrics}), grounding and retrieval
   * ({@code retrieveContexts}, {@code corroborateContent}, {@code augmentPrompt}), reads sent as POST
   * ({@code readIndexDatapoints}, {@code findNeighbors}, {@code readFeatureValues}, {@code streamingReadFeatureValues},
   * {@code fetchFeatureValues}, {@code streamingFetchFeatureValues}, {@code searchNearestEntities}, {@code search},
   * {@code lookup}, {@code fetchExamples}, {@code searchExamples}, {@code searchModelMonitoringStats},
   * {@code searchModelMonitoringAlerts}, {@code searchModelDeploymentMonitoringStatsAnomalies},
   * {@code fetchPredictOperation}), IAM reads ({@code getIamPolicy}, {@code testIamPermissions}) and waiting on an
   * operation ({@code wait}). Not here, so writes: anything that starts work or stores output ({@code predictLongRunning},
   * {@code batchReadFeatureValues}, {@code responses}, {@code query} of a reasoning engine, which runs its code).
   */
  public static final Set<String> READ_LIKE_VERBS = Set.of("predict", "rawPredict", "streamRawPredict",
      "serverStreamingPredict", "directPredict", "directRawPredict", "generateContent", "streamGenerateContent",
      "explain", "embedContent", "completions", "embeddings", "countTokens", "computeTokens", "evaluateInstances",
      "generateInstanceRubrics", "retrieveContexts", "corroborateContent", "augmentPrompt", "readIndexDatapoints",
      "findNeighbors", "readFeatureValues", "streamingReadFeatureValues", "fetchFeatureValues",
      "streamingFetchFeatureValues", "searchNearestEntities", "search", "lookup", "fetchExamples", "searchExamples",
      "searchModelMonitoringStats", "searchModelMonitoringAlerts", "searchModelDeploymentMonitoringStatsAnomalies",
      "fetchPredictOperation", "getIamPolicy", "testIamPermissions", "wait");

  private WriteMethods() {
  }

  /** Whether any shape of the method is served with a method other than GET and its verb is not read-like. */
  public static boolean isWrite(MethodCatalog catalog, String methodName) {
    String verb = methodName.substring(methodName.lastIndexOf('.') + 1);
    if (READ_LIKE_VERBS.contains(verb)) {
      return false;
    }
    for (VertexMethod m : catalog.byName(methodName)) {
      if (!"GET".equals(m.httpMethod())) {
        return true;
      }
    }
    return false;
  }
}
