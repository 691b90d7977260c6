package dev.vertexproxy.proxy.crash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What an audit directory holds, read line by line without the product's own reader, so a bug there cannot hide one
 * in the writer: every complete record by type, the request ids of exchange and decision records, and the torn
 * lines — a file that does not end in a newline (a crash mid-write), or a line in the middle that is not JSON.
 */
record Trail(int files, int records, Map<String, Integer> byType, Map<String, Integer> exchanges,
    Map<String, Integer> decisions, List<String> tornTails, List<String> brokenLines) {
  private static final ObjectMapper JSON = new ObjectMapper();

  static Trail read(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.getFileName().toString().matches("audit-.*\\.jsonl")).sorted().toList();
    }
    int records = 0;
    Map<String, Integer> byType = new HashMap<>();
    Map<String, Integer> exchanges = new HashMap<>();
    Map<String, Integer> decisions = new HashMap<>();
    List<String> torn = new ArrayList<>();
    List<String> broken = new ArrayList<>();
    for (Path file : files) {
      byte[] bytes = Files.readAllBytes(file);
      String content = new String(bytes, StandardCharsets.UTF_8);
      int complete = content.lastIndexOf('\n') + 1;
      if (complete < content.length()) {
        torn.add(file.getFileName() + " at byte " + complete + " (" + (content.length() - complete) + " chars)");
      }
      String[] lines = content.substring(0, complete).split("\n", -1);
      for (int i = 0; i < lines.length - 1; i++) {
        JsonNode record;
        try {
          record = JSON.readTree(lines[i]);
        } catch (IOException e) {
          broken.add(file.getFileName() + " line " + (i + 1));
          continue;
        }
        records++;
        String type = record.path("type").asText("exchange");
        byType.merge(type, 1, Integer::sum);
        String id = record.path("request_id").asText(null);
        if (id != null && type.equals("exchange")) {
          exchanges.merge(id, 1, Integer::sum);
        } else if (id != null && type.equals("decision")) {
          decisions.merge(id, 1, Integer::sum);
        }
      }
    }
    return new Trail(files.size(), records, byType, exchanges, decisions, torn, broken);
  }
}
