# syntax=docker/dockerfile:1
#
# vertex-proxy container image: docs/deployment.md explains how to build, run and deploy it.
#
#   docker build -t vertex-proxy:0.1.0 .
#   docker run --read-only --tmpfs /tmp:rw,exec,size=64m \
#     -v "$PWD/etc:/etc/vertex-proxy:ro" -v vertex-proxy-audit:/var/lib/vertex-proxy \
#     -p 8443:8443 vertex-proxy:0.1.0
#
# Base images are pinned by version and by digest. Fill in each `<digest>` before the first build (a build with the
# placeholder fails: an unpinned base never slips in), and again whenever you move to a newer version:
#   docker buildx imagetools inspect maven:3.9.9-eclipse-temurin-17 --format '{{json .Manifest.Digest}}'
#   docker buildx imagetools inspect eclipse-temurin:17.0.15_6-jre-noble --format '{{json .Manifest.Digest}}'
# (or `docker pull IMAGE` and read the `Digest:` line it prints).

# ---- build: the shaded jar, with the test suite skipped (CI runs it; ../shared is not needed without tests) ----
FROM maven:3.9.9-eclipse-temurin-17@sha256:<digest> AS build
# The commit `vertex-proxy --version` names: the context has no .git, so pass it in
# (docker build --build-arg REVISION=$(git rev-parse --short=12 HEAD) .)
ARG REVISION=unknown
WORKDIR /src
# Dependencies: a BuildKit cache mount keeps ~/.m2 across builds, so a source edit downloads nothing. Not a
# `dependency:go-offline` layer: that misses what Maven resolves only when a plugin runs, and a layer is thrown away
# on every pom edit, while the cache survives it.
COPY pom.xml ./
COPY policy/pom.xml policy/
COPY emulators/pom.xml emulators/
COPY proxy/pom.xml proxy/
COPY dist/pom.xml dist/
COPY bench/pom.xml bench/
COPY build-tools/ build-tools/
COPY policy/src/ policy/src/
COPY emulators/src/ emulators/src/
COPY proxy/src/ proxy/src/
COPY dist/src/ dist/src/
# dist compiles (and style-checks) the documented Java SDK example with its tests, so it is part of the build
COPY examples/java/ examples/java/
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -DskipTests -Dgit.commit.id.abbrev="${REVISION}" -pl dist -am package \
    && cp dist/target/vertex-proxy.jar /vertex-proxy.jar

# ---- runtime: a JRE, the jar, the example configuration; nothing else ----
FROM eclipse-temurin:17.0.15_6-jre-noble@sha256:<digest>
ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=unknown
LABEL org.opencontainers.image.title="vertex-proxy" \
      org.opencontainers.image.description="Least-privilege, keyless, audited access to Google Vertex AI" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# The audit volume's mount point, owned by the runtime user, so a fresh named volume starts out writable by it; the
# proxy creates audit/ inside it (owner-only). Nothing else in the image is writable by that user.
RUN install -d -o 65532 -g 65532 -m 0750 /var/lib/vertex-proxy
COPY --from=build /vertex-proxy.jar /opt/vertex-proxy/vertex-proxy.jar
# Example configuration (listens on 8443 with TLS from /etc/vertex-proxy/tls/, admin on 127.0.0.1:9090): mount your own.
COPY config/proxy.yaml config/policy.yaml /etc/vertex-proxy/
COPY LICENSE /opt/vertex-proxy/

USER 65532:65532
# a working directory nobody writes: the proxy writes only to the audit volume and /tmp
WORKDIR /opt/vertex-proxy

# JVM flags in three layers, the later winning:
#   JAVA_TOOL_OPTIONS (below)  tunable defaults; replace the variable to change them
#   JDK_JAVA_OPTIONS (unset)   per-deployment additions or overrides, e.g. -XX:MaxRAMPercentage=60
#   ENTRYPOINT                 what a read-only root filesystem needs, always applied
# Heap at half the container's memory limit leaves room for Netty's direct buffers (capped at the heap size by
# default), metaspace, threads and code cache. On an OutOfMemoryError the JVM exits and the orchestrator restarts it,
# rather than limping on with a half-working event loop.
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -XX:InitialRAMPercentage=25 -XX:+ExitOnOutOfMemoryError -Dfile.encoding=UTF-8"

EXPOSE 8443 9090
VOLUME ["/etc/vertex-proxy", "/var/lib/vertex-proxy"]

# Healthy means ready for traffic (issuer keys loaded, audit writable, not draining). The probe is a small JVM of its
# own: the image has no curl.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["java", "-XX:-UsePerfData", "-Djava.io.tmpdir=/tmp", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", \
       "-Xmx32m", "-Xss512k", "-jar", "/opt/vertex-proxy/vertex-proxy.jar", "healthcheck", "http://127.0.0.1:9090/readyz"]

# -XX:-UsePerfData: no hsperfdata file; -Djava.io.tmpdir=/tmp: the one scratch directory (Netty unpacks its epoll
# library there; without exec permission on /tmp it falls back to NIO).
ENTRYPOINT ["java", "-XX:-UsePerfData", "-Djava.io.tmpdir=/tmp", "-jar", "/opt/vertex-proxy/vertex-proxy.jar"]
CMD ["serve", "--config", "/etc/vertex-proxy/proxy.yaml"]
