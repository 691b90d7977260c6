package dev.vertexproxy.proxy.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium for the browser end-to-end tests: Debian's {@code chromium} driven through Debian's
 * {@code chromium-driver} (both installed by {@code .ci/run}), a fresh profile per instance, deleted on close.
 *
 * <p>Both paths are given to Selenium explicitly, so Selenium Manager never runs: it would try to download a driver
 * or a browser of its own, and this machine reaches no such host. The flags are the issue's: no sandbox (CI runs as
 * root), no GPU, and none of the background traffic (component updates, sync, safe-browsing lists) that would leave
 * the loopback range.
 */
public final class HeadlessChromium implements AutoCloseable {
  /** The flags every instance starts with. */
  public static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
      "--no-first-run", "--no-default-browser-check", "--window-size=1280,900");

  private final Path profile;
  private final ChromeDriverService service;
  private final ChromeDriver driver;

  private HeadlessChromium(Path profile, ChromeDriverService service, ChromeDriver driver) {
    this.profile = profile;
    this.service = service;
    this.driver = driver;
  }

  /**
   * Starts Chromium with a new, empty profile. Fails (rather than skipping) when the browser or its driver is
   * missing: {@code .ci/run} installs both, so a missing one is a broken setup, not a reason to test less.
   */
  public static HeadlessChromium start() throws IOException {
    File browser = firstExisting("VERTEX_CHROMIUM", "/usr/lib/chromium/chromium", "/usr/bin/chromium");
    File chromedriver = firstExisting("VERTEX_CHROMEDRIVER", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
    Path profile = Files.createTempDirectory("vertex-proxy-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(browser);
    options.addArguments(FLAGS);
    options.addArguments("--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL); // so a test can read the console (CSP violations, script errors)
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(chromedriver)
        .usingAnyFreePort()
        .build();
    try {
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
      return new HeadlessChromium(profile, service, driver);
    } catch (RuntimeException e) {
      service.stop();
      deleteTree(profile);
      throw e;
    }
  }

  private static File firstExisting(String override, String... candidates) {
    String fromEnv = System.getenv(override);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return new File(fromEnv);
    }
    for (String c : candidates) {
      File f = new File(c);
      if (f.canExecute()) {
        return f;
      }
    }
    throw new IllegalStateException("none of " + List.of(candidates) + " is executable (set " + override
        + "); .ci/run installs Debian's chromium and chromium-driver");
  }

  /** The Selenium driver, for what the helpers below do not cover. */
  public ChromeDriver driver() {
    return driver;
  }

  /** Loads {@code url} and waits for the document (after any redirects) to finish loading. */
  public void open(String url) {
    driver.get(url);
  }

  /** The address the browser is at now, after redirects. */
  public String currentUrl() {
    return driver.getCurrentUrl();
  }

  /** The visible text of the page body. */
  public String text() {
    return driver.findElement(By.tagName("body")).getText();
  }

  /** The element matching the CSS selector, waiting (bounded) for it to appear. */
  public WebElement await(String cssSelector) {
    return new WebDriverWait(driver, Duration.ofSeconds(15))
        .until(d -> d.findElements(By.cssSelector(cssSelector)).stream().findFirst().orElse(null));
  }

  /** Waits (bounded) until the browser's address starts with {@code prefix}. */
  public void awaitUrlStartingWith(String prefix) {
    new WebDriverWait(driver, Duration.ofSeconds(15)).until(d -> d.getCurrentUrl().startsWith(prefix));
  }

  /** The console entries since the last call (errors are level SEVERE: CSP violations, failed loads, script errors). */
  public List<LogEntry> browserLog() {
    return driver.manage().logs().get(LogType.BROWSER).getAll();
  }

  /** Saves what the browser shows now as a PNG (for a person looking into a failure). */
  public void screenshot(Path png) throws IOException {
    Files.write(png, driver.getScreenshotAs(OutputType.BYTES));
  }

  /** Ends the browser and its driver and deletes the profile. */
  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
      deleteTree(profile);
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not delete the Chromium profile " + root, e);
    }
  }
}
