package dev.vertexproxy.proxy.login.page;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HtmlTest {
  @Test
  void everyMarkupCharacterIsEscaped() {
    assertThat(Html.text("<script>alert('x')</script> & \"q\"")).isEqualTo(
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    assertThat(Html.text(null)).isEmpty();
    assertThat(Html.text("a\u0000b")).isEqualTo("a&#xFFFD;b");
  }

  @Test
  void theErrorPageEscapesItsMessageAndCarriesNoScript() {
    String page = Html.errorPage("Login failed", "<img src=x onerror=alert(1)>", "login-failed", "r-1");
    assertThat(page).contains("&lt;img src=x onerror=alert(1)&gt;").doesNotContain("<img").doesNotContain("<script");
  }

  @Test
  void theCspAllowsNoInlineScriptOrStyleAndNoFraming() {
    assertThat(Html.CSP).doesNotContain("unsafe-inline").doesNotContain("unsafe-eval")
        .contains("script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'");
  }
}
