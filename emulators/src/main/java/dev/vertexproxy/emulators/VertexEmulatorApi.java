package dev.vertexproxy.emulators;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The emulated Vertex AI REST surface, free of any transport: an authenticated request (method, path, body) in, a
 * {@link VertexEmulatorReply} out. Covers the methods the proxy's tests and dev mode exercise (Gemini generate /
 * stream / count, predict, rawPredict, custom jobs, model upload and its operation); everything else is 404.
 *
 * <p>Deterministic on purpose: ids come from counters, times from the injected {@link Clock}, and answers are derived
 * from the request ("Echo: " + the last user text), so tests can assert exact values. Thread-safe: the stored jobs and
 * operations live in concurrent maps and each job's state advances under its own lock.
 */
final class VertexEmulatorApi {

  /** Express-mode paths carry no project or location; Google resolves them from the API key. */
  static final String EXPRESS_PROJECT = "express-mode-project";
  static final String EXPRESS_LOCATION = "global";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VERSIONED = Pattern.compile("^/(v1|v1beta1)/(.+)$");
  private static final Pattern SCOPED = Pattern.compile("^projects/([^/:]+)/locations/([^/:]+)/(.+)$");
  private static final Pattern PUBLISHER_MODEL_VERB =
      Pattern.compile("^publishers/([^/:]+)/models/([^/:]+):([A-Za-z]+)$");
  private static final Pattern ENDPOINT_VERB = Pattern.compile("^endpoints/([^/:]+):([A-Za-z]+)$");
  private static final Pattern CUSTOM_JOB = Pattern.compile("^customJobs/([^/:]+)$");
  private static final Pattern MODEL_OPERATION = Pattern.compile("^models/([^/:]+)/operations/([^/:]+)$");
  private static final Pattern OPERATION = Pattern.compile("^operations/([^/:]+)$");

  private final Clock clock;
  private final AtomicLong responseIds = new AtomicLong();
  private final AtomicLong customJobIds = new AtomicLong();
  private final AtomicLong modelIds = new AtomicLong();
  private final AtomicLong operationIds = new AtomicLong();
  private final Map<String, StoredJob> customJobs = new ConcurrentHashMap<>();
  private final Map<String, UploadOperation> operations = new ConcurrentHashMap<>();

  VertexEmulatorApi(Clock clock) {
    this.clock = clock;
  }

  /**
   * Answers one authenticated request.
   *
   * @param rawPath      the request path as received, without the query
   * @param sse          whether the query asked for {@code alt=sse}
   * @param streamChunks how many chunks a streamed answer is cut into (at least 1)
   */
  VertexEmulatorReply handle(String httpMethod, String rawPath, boolean sse, String contentType, byte[] body,
      int streamChunks) {
    try {
      return dispatch(httpMethod, rawPath, sse, contentType, body, streamChunks);
    } catch (ApiError e) {
      return VertexEmulatorReply.error(e.code, e.status, e.getMessage());
    }
  }

  private VertexEmulatorReply dispatch(String httpMethod, String rawPath, boolean sse, String contentType,
      byte[] body, int streamChunks) {
    Matcher versioned = VERSIONED.matcher(rawPath);
    if (!versioned.matches()) {
      throw notFound(rawPath);
    }
    String version = versioned.group(1);
    String rest = versioned.group(2);
    Matcher scoped = SCOPED.matcher(rest);
    Scope scope = scoped.matches()
        ? new Scope(version, scoped.group(1), scoped.group(2), true)
        : new Scope(version, EXPRESS_PROJECT, EXPRESS_LOCATION, false);
    String resource = scoped.matches() ? scoped.group(3) : rest;
    boolean post = httpMethod.equals("POST");
    boolean get = httpMethod.equals("GET");

    Matcher m;
    if (post && (m = PUBLISHER_MODEL_VERB.matcher(resource)).matches()) {
      String model = m.group(2);
      String modelName = "projects/" + scope.project + "/locations/" + scope.location + "/publishers/" + m.group(1)
          + "/models/" + model;
      return modelVerb(m.group(3), model, modelName, model, scope, sse, contentType, body, streamChunks, rawPath);
    }
    if (!scope.explicit) {
      // Express mode only reaches publisher models; every other resource needs its project and location.
      throw notFound(rawPath);
    }
    if (post && (m = ENDPOINT_VERB.matcher(resource)).matches()) {
      String endpoint = m.group(1);
      String modelName = "projects/" + scope.project + "/locations/" + scope.location + "/models/" + endpoint;
      return modelVerb(m.group(2), endpoint, modelName, "emulated-model-" + endpoint, scope, sse, contentType, body,
          streamChunks, rawPath);
    }
    if (post && resource.equals("customJobs")) {
      return createCustomJob(scope, parseObject(body));
    }
    if (get && (m = CUSTOM_JOB.matcher(resource)).matches()) {
      return getCustomJob(scope, m.group(1));
    }
    if (post && resource.equals("models:upload")) {
      return uploadModel(scope, parseObject(body));
    }
    if (get && (m = MODEL_OPERATION.matcher(resource)).matches()) {
      return getOperation(scope, m.group(1), m.group(2));
    }
    if (get && (m = OPERATION.matcher(resource)).matches()) {
      return getOperation(scope, null, m.group(1));
    }
    throw notFound(rawPath);
  }

  private VertexEmulatorReply modelVerb(String verb, String modelVersion, String modelName, String displayName,
      Scope scope, boolean sse, String contentType, byte[] body, int streamChunks, String rawPath) {
    return switch (verb) {
      case "generateContent" -> new VertexEmulatorReply.Json(200, generate(parseObject(body), modelVersion, 1).get(0));
      case "streamGenerateContent" ->
          new VertexEmulatorReply.Stream(sse, generate(parseObject(body), modelVersion, streamChunks));
      case "countTokens" -> new VertexEmulatorReply.Json(200, countTokens(parseObject(body)));
      case "computeTokens" -> new VertexEmulatorReply.Json(200, computeTokens(parseObject(body)));
      case "predict" -> new VertexEmulatorReply.Json(200, predict(parseObject(body), modelName, displayName));
      case "rawPredict" -> new VertexEmulatorReply.Raw(contentType == null ? "application/octet-stream" : contentType,
          body.clone());
      default -> throw notFound(rawPath);
    };
  }

  // ---- Gemini ---------------------------------------------------------------------------------------------------

  /**
   * The answer to a generate request, cut into {@code chunks} GenerateContentResponse objects; a non-streamed answer is
   * the single-chunk case. Only the last chunk carries {@code finishReason} and {@code usageMetadata}, as Vertex does.
   */
  private List<ObjectNode> generate(ObjectNode request, String modelVersion, int chunks) {
    JsonNode contents = request.get("contents");
    if (contents == null || !contents.isArray() || contents.isEmpty()) {
      throw invalidArgument("Unable to submit request because it must include at least one parts field, which "
          + "describes the prompt input.");
    }
    String answer = "Echo: " + lastUserText(contents);
    int promptTokens = tokens(promptTexts(request));
    int answerTokens = tokens(List.of(answer));
    String createTime = DateTimeFormatter.ISO_INSTANT.format(clock.instant());
    String responseId = "emu-response-" + responseIds.incrementAndGet();

    List<String> pieces = split(answer, chunks);
    List<ObjectNode> out = new ArrayList<>(pieces.size());
    for (int i = 0; i < pieces.size(); i++) {
      boolean last = i == pieces.size() - 1;
      ObjectNode chunk = JSON.createObjectNode();
      ObjectNode candidate = chunk.putArray("candidates").addObject();
      ObjectNode content = candidate.putObject("content");
      content.put("role", "model");
      content.putArray("parts").addObject().put("text", pieces.get(i));
      if (last) {
        candidate.put("finishReason", "STOP");
        if (chunks == 1) {
          candidate.put("avgLogprobs", -0.0421);
        }
        ObjectNode usage = chunk.putObject("usageMetadata");
        usage.put("promptTokenCount", promptTokens);
        usage.put("candidatesTokenCount", answerTokens);
        usage.put("totalTokenCount", promptTokens + answerTokens);
        usage.put("trafficType", "ON_DEMAND");
        usage.putArray("promptTokensDetails").addObject().put("modality", "TEXT").put("tokenCount", promptTokens);
        usage.putArray("candidatesTokensDetails").addObject().put("modality", "TEXT").put("tokenCount", answerTokens);
      }
      chunk.put("modelVersion", modelVersion);
      chunk.put("createTime", createTime);
      chunk.put("responseId", responseId);
      out.add(chunk);
    }
    return out;
  }

  private ObjectNode countTokens(ObjectNode request) {
    List<String> texts = promptTexts(request);
    if (texts.isEmpty() && !request.has("contents") && !request.has("instances")) {
      throw invalidArgument("contents must be set.");
    }
    ObjectNode out = JSON.createObjectNode();
    int tokens = tokens(texts);
    out.put("totalTokens", tokens);
    out.put("totalBillableCharacters", billableCharacters(texts));
    out.putArray("promptTokensDetails").addObject().put("modality", "TEXT").put("tokenCount", tokens);
    return out;
  }

  /** One token per whitespace-separated word: crude, but stable and easy to predict in tests. */
  private ObjectNode computeTokens(ObjectNode request) {
    ObjectNode out = JSON.createObjectNode();
    ArrayNode infos = out.putArray("tokensInfo");
    for (String text : promptTexts(request)) {
      ObjectNode info = infos.addObject();
      info.put("role", "user");
      ArrayNode ids = info.putArray("tokenIds");
      ArrayNode tokens = info.putArray("tokens");
      for (String word : text.trim().split("\\s+")) {
        if (!word.isEmpty()) {
          ids.add(String.valueOf(Math.abs(word.hashCode())));
          tokens.add(Base64.getEncoder().encodeToString(word.getBytes(StandardCharsets.UTF_8)));
        }
      }
    }
    return out;
  }

  private static String lastUserText(JsonNode contents) {
    for (int i = contents.size() - 1; i >= 0; i--) {
      JsonNode content = contents.get(i);
      String role = content.path("role").asText("user");
      if (role.isEmpty() || role.equals("user")) {
        StringBuilder text = new StringBuilder();
        for (JsonNode part : content.path("parts")) {
          if (part.path("text").isTextual()) {
            text.append(part.get("text").asText());
          }
        }
        return text.toString();
      }
    }
    return "";
  }

  /** Every text the prompt holds: system instruction, contents (or {@code instances[].prompt} for legacy models). */
  private static List<String> promptTexts(ObjectNode request) {
    List<String> texts = new ArrayList<>();
    for (JsonNode part : request.path("systemInstruction").path("parts")) {
      if (part.path("text").isTextual()) {
        texts.add(part.get("text").asText());
      }
    }
    for (JsonNode content : request.path("contents")) {
      for (JsonNode part : content.path("parts")) {
        if (part.path("text").isTextual()) {
          texts.add(part.get("text").asText());
        }
      }
    }
    for (JsonNode instance : request.path("instances")) {
      if (instance.path("prompt").isTextual()) {
        texts.add(instance.get("prompt").asText());
      } else if (instance.path("content").isTextual()) {
        texts.add(instance.get("content").asText());
      }
    }
    return texts;
  }

  /** Roughly what Gemini counts for English: one token per four characters, rounded up. */
  static int tokens(List<String> texts) {
    int total = 0;
    for (String text : texts) {
      total += (text.codePointCount(0, text.length()) + 3) / 4;
    }
    return total;
  }

  /** Vertex bills characters without whitespace. */
  static int billableCharacters(List<String> texts) {
    int total = 0;
    for (String text : texts) {
      total += (int) text.codePoints().filter(c -> !Character.isWhitespace(c)).count();
    }
    return total;
  }

  /** Cuts the text into {@code pieces} parts of near-equal length, never splitting a code point. */
  static List<String> split(String text, int pieces) {
    int[] codePoints = text.codePoints().toArray();
    List<String> out = new ArrayList<>(pieces);
    for (int i = 0; i < pieces; i++) {
      int from = (int) ((long) codePoints.length * i / pieces);
      int to = (int) ((long) codePoints.length * (i + 1) / pieces);
      out.add(new String(codePoints, from, to - from));
    }
    return out;
  }

  // ---- Prediction -----------------------------------------------------------------------------------------------

  private ObjectNode predict(ObjectNode request, String modelName, String displayName) {
    JsonNode instances = request.get("instances");
    if (instances == null || !instances.isArray() || instances.isEmpty()) {
      throw invalidArgument("instances must be a non-empty list.");
    }
    ObjectNode out = JSON.createObjectNode();
    ArrayNode predictions = out.putArray("predictions");
    for (int i = 0; i < instances.size(); i++) {
      ObjectNode prediction = predictions.addObject();
      prediction.put("index", i);
      prediction.set("instance", instances.get(i).deepCopy());
    }
    out.put("deployedModelId", "1");
    out.put("model", modelName);
    out.put("modelDisplayName", displayName);
    out.put("modelVersionId", "1");
    return out;
  }

  // ---- Custom jobs ----------------------------------------------------------------------------------------------

  private VertexEmulatorReply createCustomJob(Scope scope, ObjectNode request) {
    if (!request.path("displayName").isTextual() || request.get("displayName").asText().isBlank()) {
      throw invalidArgument("List of found errors:\t1.Field: custom_job.display_name; Message: Required field is not"
          + " set.\t");
    }
    String id = String.valueOf(customJobIds.incrementAndGet());
    String now = now();
    ObjectNode job = request.deepCopy();
    job.put("name", scope.parent() + "/customJobs/" + id);
    job.put("state", "JOB_STATE_PENDING");
    job.put("createTime", now);
    job.put("updateTime", now);
    StoredJob stored = new StoredJob(scope.project, scope.location, job);
    customJobs.put(id, stored);
    return new VertexEmulatorReply.Json(200, stored.snapshot());
  }

  private VertexEmulatorReply getCustomJob(Scope scope, String id) {
    StoredJob stored = customJobs.get(id);
    if (stored == null || !stored.project.equals(scope.project) || !stored.location.equals(scope.location)) {
      throw new ApiError(404, "NOT_FOUND", "The CustomJob does not exist.");
    }
    return new VertexEmulatorReply.Json(200, stored.advance(now()));
  }

  /** A job moves one state further on every read: PENDING, then RUNNING, then SUCCEEDED for good. */
  private static final class StoredJob {
    final String project;
    final String location;
    private final ObjectNode job;

    StoredJob(String project, String location, ObjectNode job) {
      this.project = project;
      this.location = location;
      this.job = job;
    }

    synchronized ObjectNode snapshot() {
      return job.deepCopy();
    }

    synchronized ObjectNode advance(String now) {
      switch (job.get("state").asText()) {
        case "JOB_STATE_PENDING" -> {
          job.put("state", "JOB_STATE_RUNNING");
          job.put("startTime", now);
          job.put("updateTime", now);
        }
        case "JOB_STATE_RUNNING" -> {
          job.put("state", "JOB_STATE_SUCCEEDED");
          job.put("endTime", now);
          job.put("updateTime", now);
        }
        default -> {
          // terminal: stays as it is
        }
      }
      return job.deepCopy();
    }
  }

  // ---- Model upload and its long-running operation ---------------------------------------------------------------

  private VertexEmulatorReply uploadModel(Scope scope, ObjectNode request) {
    if (!request.path("model").path("displayName").isTextual()) {
      throw invalidArgument("List of found errors:\t1.Field: model.display_name; Message: Required field is not set.\t");
    }
    String modelId = String.valueOf(modelIds.incrementAndGet());
    String operationId = String.valueOf(operationIds.incrementAndGet());
    UploadOperation operation = new UploadOperation(scope, modelId, operationId, now());
    operations.put(operationId, operation);
    return new VertexEmulatorReply.Json(200, operation.json(false));
  }

  private VertexEmulatorReply getOperation(Scope scope, String modelId, String operationId) {
    UploadOperation operation = operations.get(operationId);
    if (operation == null
        || !operation.scope.project.equals(scope.project)
        || !operation.scope.location.equals(scope.location)
        || (modelId != null && !operation.modelId.equals(modelId))) {
      throw new ApiError(404, "NOT_FOUND", "Operation does not exist.");
    }
    return new VertexEmulatorReply.Json(200, operation.json(true));
  }

  /** Model uploads finish at once: the operation reads {@code done: true} from its first poll. */
  private record UploadOperation(Scope scope, String modelId, String operationId, String createTime) {
    ObjectNode json(boolean done) {
      String model = scope.parent() + "/models/" + modelId;
      String typePrefix = "type.googleapis.com/google.cloud.aiplatform." + scope.version + ".";
      ObjectNode out = JSON.createObjectNode();
      out.put("name", model + "/operations/" + operationId);
      ObjectNode metadata = out.putObject("metadata");
      metadata.put("@type", typePrefix + "UploadModelOperationMetadata");
      ObjectNode generic = metadata.putObject("genericMetadata");
      generic.put("createTime", createTime);
      generic.put("updateTime", createTime);
      if (done) {
        out.put("done", true);
        ObjectNode response = out.putObject("response");
        response.put("@type", typePrefix + "UploadModelResponse");
        response.put("model", model);
      }
      return out;
    }
  }

  // ---- Plumbing -------------------------------------------------------------------------------------------------

  private record Scope(String version, String project, String location, boolean explicit) {
    String parent() {
      return "projects/" + project + "/locations/" + location;
    }
  }

  private String now() {
    return DateTimeFormatter.ISO_INSTANT.format(Instant.now(clock));
  }

  private static ObjectNode parseObject(byte[] body) {
    JsonNode node;
    try {
      node = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw invalidArgument("Invalid JSON payload received. " + e.getOriginalMessage());
    } catch (IOException e) {
      throw invalidArgument("Invalid JSON payload received.");
    }
    if (node == null || node.isMissingNode() || !node.isObject()) {
      throw invalidArgument("Invalid JSON payload received. Expected an object.");
    }
    return (ObjectNode) node;
  }

  private static ApiError invalidArgument(String message) {
    return new ApiError(400, "INVALID_ARGUMENT", message);
  }

  private static ApiError notFound(String rawPath) {
    return new ApiError(404, "NOT_FOUND", "The requested URL " + rawPath + " was not found on this server.");
  }

  /** A refusal on its way to Google's error shape; carries no stack trace (it is control flow, not a fault). */
  private static final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int code;
    final String status;

    ApiError(int code, String status, String message) {
      super(message, null, false, false);
      this.code = code;
      this.status = status;
    }
  }
}
