package dev.vertexproxy.proxy.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class UpstreamHostsTest {
  private final UpstreamHosts google = new UpstreamHosts("https://{location}-aiplatform.googleapis.com");

  @Test
  void regionalGlobalAndMultiRegionHostsFollowGoogle() {
    assertThat(google.originFor("us-central1")).isEqualTo(new Origin(true, "us-central1-aiplatform.googleapis.com", 443));
    assertThat(google.originFor("global")).isEqualTo(new Origin(true, "aiplatform.googleapis.com", 443));
    assertThat(google.originFor("us")).isEqualTo(new Origin(true, "aiplatform.us.rep.googleapis.com", 443));
    assertThat(google.originFor("eu")).isEqualTo(new Origin(true, "aiplatform.eu.rep.googleapis.com", 443));
    assertThat(google.originFor("europe-west4").hostHeader()).isEqualTo("europe-west4-aiplatform.googleapis.com");
  }

  @Test
  void aCustomTemplateIsTakenAsWritten() {
    UpstreamHosts psc = new UpstreamHosts("http://127.0.0.1:8089");
    assertThat(psc.originFor("global")).isEqualTo(new Origin(false, "127.0.0.1", 8089));
    assertThat(psc.originFor("global").hostHeader()).isEqualTo("127.0.0.1:8089");
    UpstreamHosts perRegion = new UpstreamHosts("https://{location}-aiplatform.p.googleapis.com");
    assertThat(perRegion.originFor("us-east1").host()).isEqualTo("us-east1-aiplatform.p.googleapis.com");
  }

  @Test
  void locationsThatAreNotDnsLabelsCannotSteerTheHost() {
    for (String bad : new String[] {"evil.com#", "a.b", "US-CENTRAL1", "", "-x", "x/y", "x@evil.com", "a".repeat(64)}) {
      assertThat(UpstreamHosts.validLocation(bad)).as(bad).isFalse();
      assertThatThrownBy(() -> google.originFor(bad)).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void originsAreKeptPerValidLocationUpToABoundAndEveryOtherLocationIsStillChecked() {
    UpstreamHosts hosts = new UpstreamHosts("https://{location}-aiplatform.googleapis.com");
    Origin first = hosts.originFor("us-central1");
    assertThat(hosts.originFor("us-central1")).isSameAs(first);
    assertThatThrownBy(() -> hosts.originFor("evil.com#")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> hosts.originFor(null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(hosts.cachedLocations()).isEqualTo(1);
    for (int i = 0; i < UpstreamHosts.MAX_CACHED + 100; i++) {
      assertThat(hosts.originFor("r" + i).host()).isEqualTo("r" + i + "-aiplatform.googleapis.com");
    }
    assertThat(hosts.cachedLocations()).as("a caller inventing locations cannot grow it").isEqualTo(UpstreamHosts.MAX_CACHED);
    assertThatThrownBy(() -> hosts.originFor("a.b")).as("past the bound, still validated")
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(hosts.originFor("us-central1")).isSameAs(first);
  }
}
