package io.vaultmfa.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile cannot be built here (no container engine, no registry); this keeps it in step
 * with the pom and with deploy/: the jar it copies is the one {@code mvn package} makes, and it
 * runs as the non-root user the Deployment expects.
 */
class DockerfileTest {

  static Path base;
  static String dockerfile;

  @BeforeAll
  static void read() throws IOException {
    base = Path.of(System.getProperty("basedir", "."));
    dockerfile = Files.readString(base.resolve("Dockerfile"));
  }

  @Test
  void copiesTheJarOfThePomsVersion() throws IOException {
    Matcher version =
        Pattern.compile("<artifactId>vault-mfa-operator</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(Files.readString(base.resolve("pom.xml")));
    assertThat(version.find()).isTrue();
    assertThat(dockerfile)
        .contains("ARG VERSION=" + version.group(1) + "\n")
        .contains("COPY target/vault-mfa-operator-${VERSION}.jar vault-mfa-operator.jar")
        .contains("COPY target/lib/ lib/");
  }

  @Test
  void runsAsTheNonRootUserOfTheDeployment() throws IOException {
    String deployment = Files.readString(base.resolve("deploy/deployment.yaml"));
    assertThat(deployment).contains("runAsUser: 65532").contains("runAsGroup: 65532");
    assertThat(dockerfile).contains("\nUSER 65532:65532\n");
    assertThat(dockerfile)
        .contains(
            "ENTRYPOINT [\"java\", \"-jar\", \"/opt/vault-mfa-operator/vault-mfa-operator.jar\"]");
  }
}
