package dev.vertexproxy.policy.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogGeneratorTest {

  private static Path discoveryDir() {
    return Path.of(System.getProperty("vertex.discovery.dir", "../../shared/vertex"));
  }

  @Test
  void bundledCatalogIsWhatTheGeneratorWritesFromTheCurrentDocuments(@TempDir Path tmp) throws IOException {
    Path out = tmp.resolve("sub/vertex-methods.tsv");
    CatalogGenerator.main(new String[] {discoveryDir().toString(), out.toString()});

    String bundled;
    try (InputStream in = MethodCatalog.class.getResourceAsStream(MethodCatalog.RESOURCE)) {
      assertThat(in).as("bundled catalog resource").isNotNull();
      bundled = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(Files.readString(out)).as("run scripts/generate-catalog and commit the result").isEqualTo(bundled);
  }

  @Test
  void bundledCatalogHoldsEveryMethodOfBothVersions() {
    MethodCatalog catalog = MethodCatalog.bundled();
    assertThat(catalog.methods()).hasSize(2315);
    assertThat(catalog.methods()).filteredOn(m -> m.version().equals("v1")).hasSize(1108);
    assertThat(catalog.methods()).filteredOn(m -> m.version().equals("v1beta1")).hasSize(1207);
    assertThat(catalog.byName("publishers.models.generateContent"))
        .extracting(VertexMethod::version, VertexMethod::flatPath)
        .contains(Tuple.tuple("v1",
            "v1/projects/{projectsId}/locations/{locationsId}/publishers/{publishersId}/models/{modelsId}:generateContent"));
    assertThat(catalog.byName("media.upload")).extracting(VertexMethod::uploadPath).containsExactlyInAnyOrder(
        "/upload/v1/projects/{projectsId}/locations/{locationsId}/ragCorpora/{ragCorporaId}/ragFiles:upload",
        "/upload/v1beta1/projects/{projectsId}/locations/{locationsId}/ragCorpora/{ragCorporaId}/ragFiles:upload");
  }

  @Test
  void writtenCatalogParsesBackToTheSameMethodsWithRevisionsInTheHeader() throws IOException {
    JsonNode doc = new ObjectMapper().readTree(discoveryDir().resolve("aiplatform-v1-discovery.json").toFile());
    List<VertexMethod> methods = CatalogGenerator.methods(doc, "v1");
    StringBuilder tsv = new StringBuilder();
    CatalogGenerator.write(List.of("# aiplatform-v1-discovery.json revision " + doc.get("revision").asText()),
        methods, tsv);

    assertThat(tsv.toString()).contains("# aiplatform-v1-discovery.json revision " + doc.get("revision").asText());
    MethodCatalog parsed = MethodCatalog.parse(new ByteArrayInputStream(
        tsv.toString().getBytes(StandardCharsets.UTF_8)));
    assertThat(parsed.methods()).containsExactlyElementsOf(methods);
    List<VertexMethod> sorted = new ArrayList<>(methods);
    sorted.sort(CatalogGenerator.ORDER);
    assertThat(methods).as("deterministic order").containsExactlyElementsOf(sorted);
  }

  @Test
  void uploadPathIsFlattenedWithThePlaceholdersOfTheFlatPath() {
    assertThat(CatalogGenerator.flattenUploadPath("/upload/v1/{+parent}/ragFiles:upload",
        "v1/{+parent}/ragFiles:upload",
        "v1/projects/{projectsId}/locations/{locationsId}/ragCorpora/{ragCorporaId}/ragFiles:upload", "x"))
        .isEqualTo("/upload/v1/projects/{projectsId}/locations/{locationsId}/ragCorpora/{ragCorporaId}/ragFiles:upload");
    assertThat(CatalogGenerator.flattenUploadPath("/upload/v1/{+name}:import", "v1/{+name}:import",
        "v1/datasets/{datasetsId}:import", "x")).isEqualTo("/upload/v1/datasets/{datasetsId}:import");
    assertThatThrownBy(() -> CatalogGenerator.flattenUploadPath("/upload/v1/{+other}/x", "v1/{+parent}/x",
        "v1/projects/{projectsId}/x", "x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("other");
    assertThatThrownBy(() -> CatalogGenerator.flattenUploadPath("/upload/v1/{+parent}/x", "v1/{+parent}/x",
        "v1/projects/{projectsId}/y", "x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("align");
  }
}
