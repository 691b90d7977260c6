package dev.vertexproxy.proxy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** When {@code login} may try a browser at all, and that the URL is one argument to the launcher, never a shell line. */
class SystemBrowserTest {
  private static final URI URL = URI.create("https://proxy.example.com/_proxy/cli/authorize?a=1&b=$(touch%20x)");

  @Test
  void withoutADisplayOnLinuxThereIsNoBrowserToOpen() {
    SystemBrowser b = new SystemBrowser(Map.of("SSH_CONNECTION", "1 2 3 4"), "Linux");
    assertThat(b.command(URL)).isNull();
    assertThat(b.open(URL)).isFalse();
    assertThat(new SystemBrowser(Map.of("DISPLAY", " "), "Linux").command(URL)).isNull();
  }

  @Test
  void eachPlatformGetsItsOwnLauncherWithTheUrlAsOneArgument() {
    assertThat(new SystemBrowser(Map.of("DISPLAY", ":0"), "Linux").command(URL))
        .isEqualTo(List.of("xdg-open", URL.toString()));
    assertThat(new SystemBrowser(Map.of("WAYLAND_DISPLAY", "wayland-0"), "FreeBSD").command(URL))
        .isEqualTo(List.of("xdg-open", URL.toString()));
    assertThat(new SystemBrowser(Map.of(), "Mac OS X").command(URL)).isEqualTo(List.of("open", URL.toString()));
    assertThat(new SystemBrowser(Map.of(), "Windows 11").command(URL))
        .isEqualTo(List.of("rundll32", "url.dll,FileProtocolHandler", URL.toString()));
  }

  @Test
  void browserFromTheEnvironmentWinsEvenWithoutADisplay() {
    assertThat(new SystemBrowser(Map.of("BROWSER", "w3m:lynx"), "Linux").command(URL))
        .isEqualTo(List.of("w3m", URL.toString()));
    assertThat(new SystemBrowser(Map.of("BROWSER", "firefox --new-tab %s"), "Mac OS X").command(URL))
        .isEqualTo(List.of("firefox", "--new-tab", URL.toString()));
    assertThat(new SystemBrowser(Map.of("BROWSER", "/bin/false"), "Linux").open(URL)).as("a failing browser").isFalse();
    assertThat(new SystemBrowser(Map.of("BROWSER", "/bin/true"), "Linux").open(URL)).isTrue();
  }

  @Test
  void aLauncherThatIsNotInstalledMeansNoBrowser() {
    // a display, but a PATH with no xdg-open: ProcessBuilder fails to start it
    SystemBrowser b = new SystemBrowser(Map.of("DISPLAY", ":0"), "Linux") {
      @Override
      List<String> command(URI url) {
        return List.of("/nonexistent/xdg-open", url.toString());
      }
    };
    assertThat(b.open(URL)).isFalse();
  }
}
