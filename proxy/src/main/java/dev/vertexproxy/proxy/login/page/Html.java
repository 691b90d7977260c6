package dev.vertexproxy.proxy.login.page;

/**
 * The one way text gets into the proxy's HTML: every value is escaped here, claims, rule names and paths alike, so
 * nothing a token, a policy file or a request carries can become markup. Pages are built from string constants
 * (the markup) and {@link #text} (everything else). Stateless.
 */
public final class Html {
  /** The stylesheet and the script every page links, both served by the proxy itself. */
  static final String HEAD = "<meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      + "<meta name=\"referrer\" content=\"no-referrer\"><link rel=\"stylesheet\" href=\"/_proxy/static/page.css\">";

  /**
   * The policy for the proxy's HTML: only its own script and stylesheet, forms only to itself, never framed. No
   * {@code unsafe-inline} anywhere: the pages carry no inline script, style or event handler.
   */
  public static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
      + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

  private Html() {
  }

  /** {@code value} escaped for an HTML text node or a double-quoted attribute; {@code null} becomes empty. */
  public static String text(Object value) {
    if (value == null) {
      return "";
    }
    String s = value.toString();
    StringBuilder out = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> {
          if (c < 0x20 && c != '\n' && c != '\t') {
            out.append("&#xFFFD;");
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.toString();
  }

  /**
   * A whole page with {@code title} and {@code body} (markup already built with {@link #text}), plus the page
   * script when {@code script} is set.
   */
  public static String page(String title, String body, boolean script) {
    return "<!doctype html><html lang=\"en\"><head>" + HEAD + "<title>" + text(title) + "</title>"
        + (script ? "<script src=\"/_proxy/static/page.js\" defer></script>" : "") + "</head><body><header>"
        + "<a class=\"brand\" href=\"/_proxy/\">vertex-proxy</a></header><main>" + body + "</main></body></html>";
  }

  /**
   * The plain error page every HTML endpoint answers a refusal with: what went wrong, the reason code and request id
   * to quote to an operator, and a way to start over.
   */
  public static String errorPage(String heading, String message, String reason, String requestId) {
    return page(heading, "<section class=\"error\"><h1>" + text(heading) + "</h1><p id=\"message\">" + text(message)
        + "</p><p class=\"meta\">reason <code id=\"reason\">" + text(reason) + "</code> · request <code>" + text(requestId)
        + "</code></p><p><a href=\"/_proxy/login\">Log in again</a></p></section>", false);
  }
}
