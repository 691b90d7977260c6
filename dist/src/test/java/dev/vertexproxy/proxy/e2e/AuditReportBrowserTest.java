package dev.vertexproxy.proxy.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vertexproxy.proxy.audit.AuditEvent;
import dev.vertexproxy.proxy.audit.AuditLog;
import dev.vertexproxy.proxy.cli.AuditCommand;
import dev.vertexproxy.proxy.config.AuditConfig;
import dev.vertexproxy.proxy.testing.HeadlessChromium;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.logging.LogEntry;
import picocli.CommandLine;

/**
 * {@code audit report --html} as a reviewer sees it: the page, opened from disk in headless Chromium, loads without a
 * console error under its own strict CSP, draws its three charts (with points and bars, in colour), and shows hostile
 * subjects as text: no markup a caller put in a subject becomes an element, and no handler in one runs.
 */
class AuditReportBrowserTest {
  private static final Instant T0 = Instant.parse("2026-05-01T08:00:00Z");
  private static final String SCRIPT = "<script>document.title='pwned-by-script'</script>";
  private static final String IMG = "<img src=x onerror=\"document.title='pwned-by-img'\">";

  @TempDir
  Path tmp;

  private static AuditEvent event(int minute, String subject, String decision, String reason, String outcome) {
    boolean allow = decision.equals("allow");
    String model = minute % 3 == 0 ? "gemini-2.5-pro" : "gemini-2.5-flash";
    String resource = "projects/acme-ml-prod/locations/us-central1/publishers/google/models/" + model;
    return new AuditEvent(T0.plusSeconds(60L * minute), "req-" + minute, "gitlab", subject,
        Map.of("project_path", "acme/ml/forecasting"), "10.0.0.9", "POST", "/v1/" + resource + ":generateContent", null,
        "publishers.models.generateContent", "v1", resource, "acme-ml-prod", "us-central1", decision,
        allow ? "ci-gemini" : null, reason, allow ? "ci@acme-ml-prod.iam.gserviceaccount.com" : null,
        allow ? outcome.equals("allowed") ? 200 : 503 : 403, 40, 100, 900, "sha256:p1", "python", outcome, null, null,
        model, null, null, false);
  }

  private Path trail() throws Exception {
    Path dir = tmp.resolve("audit");
    List<AuditEvent> events = new ArrayList<>();
    for (int m = 0; m < 240; m += 2) {
      String subject = m % 10 == 0 ? SCRIPT : m % 7 == 0 ? IMG : "project_path:acme/ml/p" + (m % 5) + ":ref_type:branch:ref:main";
      boolean deny = m % 9 == 0;
      events.add(event(m, subject, deny ? "deny" : "allow", deny ? ((m / 18) % 2 == 0 ? "identity-not-matched"
          : "method-not-granted") : m % 11 == 0 ? "credentials-unavailable" : "allowed",
          deny ? "refused" : m % 11 == 0 ? "unavailable" : "allowed"));
    }
    events.add(event(241, "project_path:acme/web/shop:ref_type:branch:ref:main", "deny", "model-not-granted", "refused"));
    try (AuditLog log = AuditLog.open(new AuditConfig(dir, AuditConfig.Durability.NONE, AuditConfig.OnFailure.REJECT),
        Clock.fixed(T0, ZoneOffset.UTC))) {
      List<CompletableFuture<?>> written = new ArrayList<>();
      events.forEach(e -> written.add(log.append(e)));
      for (CompletableFuture<?> f : written) {
        f.get(10, TimeUnit.SECONDS);
      }
    }
    return dir;
  }

  @Test
  void thePageRendersItsChartsAndShowsHostileSubjectsAsText() throws Exception {
    Path dir = trail();
    Path page = tmp.resolve("report.html");
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new AuditCommand());
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute("report", dir.toString(), "--html", page.toString())).as(err.toString()).isZero();

    try (HeadlessChromium chromium = HeadlessChromium.start()) {
      chromium.open(page.toUri().toString());
      chromium.await("#chart-denials");
      try {
        List<LogEntry> severe = chromium.browserLog().stream().filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
            .toList();
        assertThat(severe).as("console errors (CSP violations, failed loads)").isEmpty();
        assertThat(chromium.driver().getTitle()).isEqualTo("vertex-proxy audit report");
        assertThat(chromium.driver().findElements(By.cssSelector("body script, body img"))).isEmpty();
        assertThat(chromium.text()).contains(SCRIPT, IMG);

        WebElement calls = chart(chromium, "chart-calls", "circle.point", 60);
        WebElement identities = chart(chromium, "chart-identities", "rect.bar", 5);
        WebElement denials = chart(chromium, "chart-denials", "rect.bar", 3);
        assertThat(identities.findElements(By.tagName("text")).stream().map(WebElement::getText).toList())
            .anySatisfy(label -> assertThat(label).startsWith("gitlab <script>"));

        assertDrawnInColour(chromium, calls, 0x2563eb);
        assertDrawnInColour(chromium, identities, 0x0d9488);
        assertDrawnInColour(chromium, denials, 0xdc2626);
      } catch (AssertionError | RuntimeException e) {
        Path shot = Path.of("target", "AuditReportBrowserTest.png");
        chromium.screenshot(shot);
        e.addSuppressed(new IllegalStateException("screenshot " + shot.toAbsolutePath()));
        throw e;
      }
    }
  }

  /** The chart's SVG: present, drawn at a real size, with at least {@code min} marks. */
  private static WebElement chart(HeadlessChromium chromium, String id, String marks, int min) {
    WebElement svg = chromium.driver().findElement(By.id(id));
    assertThat(svg.getTagName()).isEqualTo("svg");
    assertThat(svg.getSize().getWidth()).as(id + " width").isGreaterThan(200);
    assertThat(svg.getSize().getHeight()).as(id + " height").isGreaterThan(50);
    List<WebElement> found = svg.findElements(By.cssSelector(marks));
    assertThat(found).as(id + " " + marks).hasSizeGreaterThanOrEqualTo(min);
    assertThat(found).allSatisfy(mark -> assertThat(mark.getSize().getWidth()).isPositive());
    return svg;
  }

  /** Scrolls the chart into view and checks the pixels: not blank, several colours, the series colour among them. */
  private static void assertDrawnInColour(HeadlessChromium chromium, WebElement svg, int seriesRgb) throws Exception {
    chromium.driver().executeScript("arguments[0].scrollIntoView({block: 'start'})", svg);
    @SuppressWarnings("unchecked")
    Map<String, Number> box = (Map<String, Number>) chromium.driver().executeScript(
        "const r = arguments[0].getBoundingClientRect(); const s = window.devicePixelRatio;"
            + " return {x: r.left * s, y: r.top * s, w: r.width * s, h: r.height * s};", svg);
    BufferedImage shot = ImageIO.read(new ByteArrayInputStream(chromium.driver().getScreenshotAs(OutputType.BYTES)));
    int x0 = Math.max(0, box.get("x").intValue());
    int y0 = Math.max(0, box.get("y").intValue());
    int x1 = Math.min(shot.getWidth(), x0 + box.get("w").intValue());
    int y1 = Math.min(shot.getHeight(), y0 + box.get("h").intValue());
    assertThat(x1 - x0).isGreaterThan(100);
    assertThat(y1 - y0).isGreaterThan(40);
    Set<Integer> colours = new HashSet<>();
    boolean series = false;
    for (int y = y0; y < y1; y++) {
      for (int x = x0; x < x1; x++) {
        int rgb = shot.getRGB(x, y) & 0xffffff;
        colours.add(rgb);
        series |= near(rgb, seriesRgb);
      }
    }
    assertThat(colours.size()).as("distinct colours in the chart").isGreaterThan(4);
    assertThat(series).as("the series colour %06x is drawn", seriesRgb).isTrue();
    Files.createDirectories(Path.of("target"));
    ImageIO.write(shot, "png", Path.of("target", "AuditReportBrowserTest-" + svg.getAttribute("id") + ".png").toFile());
  }

  private static boolean near(int rgb, int want) {
    for (int shift = 0; shift <= 16; shift += 8) {
      if (Math.abs(((rgb >> shift) & 0xff) - ((want >> shift) & 0xff)) > 6) {
        return false;
      }
    }
    return true;
  }
}
