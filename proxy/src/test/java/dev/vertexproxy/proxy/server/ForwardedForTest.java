package dev.vertexproxy.proxy.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.vertexproxy.proxy.config.ProxyConfig.ForwardedHeader;
import dev.vertexproxy.proxy.config.TrustedProxies;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The forwarded-chain walk with what a caller can send: spoofed chains, garbage, IPv6, ports, floods. */
class ForwardedForTest {
  private static final TrustedProxies LB = TrustedProxies.of(List.of("10.0.0.0/8", "2001:db8::/32", "203.0.113.7"));
  private static final InetAddress BALANCER = addr("10.1.2.3");
  private static final InetAddress STRANGER = addr("198.51.100.9");

  private static InetAddress addr(String s) {
    try {
      return InetAddress.getByAddress(TrustedProxies.literal(s));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static String xff(InetAddress peer, TrustedProxies trusted, String... values) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (String v : values) {
      h.add("X-Forwarded-For", v);
    }
    return ForwardedFor.sourceIp(peer, h, trusted, ForwardedHeader.X_FORWARDED_FOR);
  }

  private static String fwd(InetAddress peer, String... values) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (String v : values) {
      h.add("Forwarded", v);
    }
    return ForwardedFor.sourceIp(peer, h, LB, ForwardedHeader.FORWARDED);
  }

  @Test
  void withoutTrustedProxiesTheHeaderChangesNothing() {
    assertThat(xff(BALANCER, TrustedProxies.none(), "192.0.2.1")).isEqualTo("10.1.2.3");
    assertThat(xff(STRANGER, TrustedProxies.none(), "192.0.2.1, 10.0.0.1")).isEqualTo("198.51.100.9");
  }

  @Test
  void fromAnUntrustedPeerTheHeaderIsIgnored() {
    assertThat(xff(STRANGER, LB, "192.0.2.1")).isEqualTo("198.51.100.9");
    assertThat(fwd(STRANGER, "for=192.0.2.1")).isEqualTo("198.51.100.9");
  }

  @Test
  void theRightmostUntrustedHopIsTheClient() {
    assertThat(xff(BALANCER, LB, "192.0.2.1")).isEqualTo("192.0.2.1");
    // the caller wrote "6.6.6.6, 192.0.2.1"? No: it wrote 6.6.6.6; the balancer appended the address it saw
    assertThat(xff(BALANCER, LB, "6.6.6.6, 192.0.2.1")).isEqualTo("192.0.2.1");
    assertThat(xff(BALANCER, LB, "6.6.6.6, 192.0.2.1, 10.9.9.9, 203.0.113.7")).isEqualTo("192.0.2.1");
  }

  @Test
  void aSpoofedTrustedAddressLeftOfTheClientDoesNotHelp() {
    assertThat(xff(BALANCER, LB, "10.0.0.1, 192.0.2.1")).isEqualTo("192.0.2.1");
  }

  @Test
  void allTrustedGivesTheLeftmost() {
    assertThat(xff(BALANCER, LB, "10.0.0.5, 10.0.0.6")).isEqualTo("10.0.0.5");
    assertThat(xff(BALANCER, LB)).isEqualTo("10.1.2.3");
  }

  @Test
  void everyInstanceCountsInOrder() {
    assertThat(xff(BALANCER, LB, "6.6.6.6", "192.0.2.1", "10.0.0.9")).isEqualTo("192.0.2.1");
  }

  @Test
  void aMalformedHopStopsTheWalkAtTheHopToItsRight() {
    assertThat(xff(BALANCER, LB, "192.0.2.1, garbage")).isEqualTo("10.1.2.3");
    assertThat(xff(BALANCER, LB, "192.0.2.1, evil.example.com, 10.0.0.7")).isEqualTo("10.0.0.7");
    assertThat(xff(BALANCER, LB, "192.0.2.1,,10.0.0.7")).isEqualTo("10.0.0.7");
    assertThat(xff(BALANCER, LB, "192.0.2.1, 010.0.0.1")).isEqualTo("10.1.2.3");
    assertThat(xff(BALANCER, LB, "192.0.2.1, 1.2.3.4:99999")).isEqualTo("10.1.2.3");
    assertThat(xff(BALANCER, LB, "192.0.2.1, fe80::1%eth0")).isEqualTo("10.1.2.3");
    assertThat(xff(BALANCER, LB, "192.0.2.1, 1.2.3.4 5.6.7.8")).isEqualTo("10.1.2.3");
    assertThat(xff(BALANCER, LB, "")).isEqualTo("10.1.2.3");
  }

  @Test
  void portsAndIpv6FormsAreUnderstood() {
    assertThat(xff(BALANCER, LB, "192.0.2.1:4711")).isEqualTo("192.0.2.1");
    assertThat(xff(BALANCER, LB, "2001:db9::1")).isEqualTo("2001:db9:0:0:0:0:0:1");
    assertThat(xff(BALANCER, LB, "[2001:db9::1]:4711")).isEqualTo("2001:db9:0:0:0:0:0:1");
    assertThat(xff(BALANCER, LB, "[2001:db9::1]")).isEqualTo("2001:db9:0:0:0:0:0:1");
    assertThat(xff(BALANCER, LB, "[2001:db9::1")).isEqualTo("10.1.2.3");
    assertThat(xff(BALANCER, LB, "[192.0.2.1]:80")).isEqualTo("10.1.2.3");
    // an IPv4-mapped address is the IPv4 address, in the trusted set too
    assertThat(xff(BALANCER, LB, "192.0.2.1, ::ffff:10.0.0.3")).isEqualTo("192.0.2.1");
    assertThat(xff(addr("2001:db8::5"), LB, "192.0.2.1, 2001:db8:1::1")).isEqualTo("192.0.2.1");
  }

  @Test
  void aFloodIsBoundedAndCannotPushPastTheLimit() {
    StringBuilder chain = new StringBuilder("192.0.2.1");
    for (int i = 0; i < 5000; i++) {
      chain.append(", 10.0.0.1");
    }
    // past MAX_HOPS trusted hops the walk stops on the last trusted one instead of believing text further left
    assertThat(xff(BALANCER, LB, chain.toString())).isEqualTo("10.0.0.1");
    String[] many = new String[2000];
    Arrays.fill(many, "garbage");
    many[many.length - 1] = "192.0.2.1";
    assertThat(xff(BALANCER, LB, many)).isEqualTo("192.0.2.1");
    assertThat(xff(BALANCER, LB, "9".repeat(30_000))).isEqualTo("10.1.2.3");
  }

  @Test
  void forwardedForNodes() {
    assertThat(fwd(BALANCER, "for=192.0.2.60;proto=http;by=203.0.113.43")).isEqualTo("192.0.2.60");
    assertThat(fwd(BALANCER, "For=\"[2001:db8:cafe::17]:4711\"")).isEqualTo("2001:db8:cafe:0:0:0:0:17");
    assertThat(fwd(BALANCER, "for=\"192.0.2.60:4711\"")).isEqualTo("192.0.2.60");
    assertThat(fwd(BALANCER, "for=\"192.0.2.60:_port\"")).isEqualTo("192.0.2.60");
    assertThat(fwd(BALANCER, "for=6.6.6.6, for=192.0.2.43", "for=10.0.0.2")).isEqualTo("192.0.2.43");
  }

  @Test
  void forwardedObfuscatedUnknownAndBrokenStopTheWalk() {
    assertThat(fwd(BALANCER, "for=192.0.2.1, for=unknown")).isEqualTo("10.1.2.3");
    assertThat(fwd(BALANCER, "for=192.0.2.1, for=_hidden, for=10.0.0.4")).isEqualTo("10.0.0.4");
    assertThat(fwd(BALANCER, "for=192.0.2.1, proto=https")).isEqualTo("10.1.2.3");
    assertThat(fwd(BALANCER, "for=192.0.2.1, for=\"10.0.0.1")).isEqualTo("10.1.2.3");
    assertThat(fwd(BALANCER, "for=192.0.2.1;for=6.6.6.6")).isEqualTo("10.1.2.3");
    // a comma inside a quoted value does not split the element, and the value is not an address
    assertThat(fwd(BALANCER, "for=192.0.2.1, for=\"6.6.6.6, 7.7.7.7\"")).isEqualTo("10.1.2.3");
    assertThat(fwd(BALANCER, "for=[2001:db8::1]")).isEqualTo("2001:db8:0:0:0:0:0:1");
  }

  @Test
  void theFamilyNotConfiguredIsNotRead() {
    HttpHeaders h = new DefaultHttpHeaders().add("Forwarded", "for=6.6.6.6").add("X-Forwarded-For", "192.0.2.1");
    assertThat(ForwardedFor.sourceIp(BALANCER, h, LB, ForwardedHeader.X_FORWARDED_FOR)).isEqualTo("192.0.2.1");
    assertThat(ForwardedFor.sourceIp(BALANCER, h, LB, ForwardedHeader.FORWARDED)).isEqualTo("6.6.6.6");
    HttpHeaders onlyOther = new DefaultHttpHeaders().add("Forwarded", "for=6.6.6.6");
    assertThat(ForwardedFor.sourceIp(BALANCER, onlyOther, LB, ForwardedHeader.X_FORWARDED_FOR)).isEqualTo("10.1.2.3");
  }

  @Test
  void trustedProxiesAcceptLiteralsOnly() {
    assertThat(TrustedProxies.problem("10.0.0.0/8")).isNull();
    assertThat(TrustedProxies.problem("2001:db8::/32")).isNull();
    assertThat(TrustedProxies.problem("203.0.113.7")).isNull();
    assertThat(TrustedProxies.problem("0.0.0.0/0")).isNull();
    assertThat(TrustedProxies.problem("lb.example.com")).contains("no host names");
    assertThat(TrustedProxies.problem("localhost")).contains("no host names");
    assertThat(TrustedProxies.problem("10.0.0.0/33")).contains("0..32");
    assertThat(TrustedProxies.problem("2001:db8::/129")).contains("0..128");
    assertThat(TrustedProxies.problem("10.0.0.0/-1")).contains("prefix");
    assertThat(TrustedProxies.problem("10.0.0.1/8")).contains("10.0.0.0/8");
    assertThat(TrustedProxies.problem("10.0.0/8")).isNotNull();
    assertThatThrownBy(() -> TrustedProxies.of(List.of("10.0.0.0/8", "nope"))).isInstanceOf(IllegalArgumentException.class);
    assertThat(TrustedProxies.of(List.of("10.0.0.0/8", "::/0")).trustsAnyPeer()).isTrue();
    assertThat(LB.trustsAnyPeer()).isFalse();
    TrustedProxies t = TrustedProxies.of(List.of("10.0.0.0/9"));
    assertThat(t.contains(TrustedProxies.literal("10.127.255.255"))).isTrue();
    assertThat(t.contains(TrustedProxies.literal("10.128.0.0"))).isFalse();
    assertThat(t.contains(TrustedProxies.literal("::ffff:10.1.1.1"))).isTrue();
  }
}
