package dev.vertexproxy.proxy.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditReaderTest {
  @TempDir
  Path dir;

  private void writeFile(String name, int records, int firstSeq) throws Exception {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < records; i++) {
      b.append("{\"time\":\"2026-05-01T12:00:00.000Z\",\"seq\":").append(firstSeq + i).append("}\n");
    }
    Files.writeString(dir.resolve(name), b.toString());
  }

  @Test
  void readingIsLazyAcrossAndWithinFiles() throws Exception {
    writeFile("audit-20260501T120000Z-1.jsonl", 10_000, 1);
    writeFile("audit-20260501T120000Z-10001.jsonl", 10_000, 10_001);
    AtomicInteger linesSeen = new AtomicInteger();
    try (Stream<AuditReader.Line> lines = AuditReader.lines(dir, 0, line -> linesSeen.incrementAndGet() > 0)) {
      Iterator<AuditReader.Line> it = lines.iterator();
      assertThat(it.next().record().get("seq").asLong()).isEqualTo(1);
      // a stream that buffered the file (Stream.flatMap does, through iterator()) would have seen all 10,000 lines
      assertThat(linesSeen.get()).isEqualTo(1);
      long count = 1;
      long lastSeq = 1;
      while (it.hasNext()) {
        lastSeq = it.next().record().get("seq").asLong();
        count++;
      }
      assertThat(count).isEqualTo(20_000);
      assertThat(lastSeq).isEqualTo(20_000);
    }
  }

  @Test
  void theSplitterKeepsLongLinesWholeAndMarksATornTail() throws Exception {
    String longLine = "y".repeat(200_000);
    byte[] input = ("a\n\n" + longLine + "\nlast-without-newline").getBytes(StandardCharsets.UTF_8);
    List<String> lines = new ArrayList<>();
    boolean torn;
    try (AuditReader.LineSplitter splitter = new AuditReader.LineSplitter(new ByteArrayInputStream(input))) {
      byte[] line;
      while ((line = splitter.next()) != null) {
        lines.add(new String(line, StandardCharsets.UTF_8));
      }
      torn = splitter.torn();
    }
    assertThat(lines).containsExactly("a", "", longLine, "last-without-newline");
    assertThat(torn).isTrue();
  }

  @Test
  void gzippedAndPlainFilesSortByTheirFirstSeq() throws Exception {
    writeFile("audit-20260501T120000Z-10.jsonl", 1, 10);
    writeFile("audit-20260501T120000Z-9.jsonl", 1, 9);
    Path plain = dir.resolve("audit-20260501T120000Z-1.jsonl");
    writeFile(plain.getFileName().toString(), 8, 1);
    Path gz = dir.resolve(plain.getFileName() + ".gz");
    try (var out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(Files.readAllBytes(plain));
    }
    Files.delete(plain);
    Files.writeString(dir.resolve("audit-notes.txt"), "not a trail file\n");
    assertThat(AuditFiles.list(dir)).extracting(p -> p.getFileName().toString()).containsExactly(
        "audit-20260501T120000Z-1.jsonl.gz", "audit-20260501T120000Z-9.jsonl", "audit-20260501T120000Z-10.jsonl");
    assertThat(AuditFiles.firstSeqOf(gz)).isEqualTo(1);
    try (Stream<ObjectNode> records = AuditReader.records(dir)) {
      assertThat(records.map(r -> r.get("seq").asLong())).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);
    }
  }
}
