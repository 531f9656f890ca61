# The operator's image: the runnable jar and its dependencies on a JRE, run as a non-root user,
# with nothing written outside /tmp (the Deployment mounts an emptyDir there and sets
# readOnlyRootFilesystem).
#
#   mvn -B package -DskipTests
#   docker build -t vault-mfa-operator:0.1.0 .
#
# Not built by the project's own tests: the machine they run on has no container engine and no
# access to an image registry (see README, "Container image").
FROM eclipse-temurin:17-jre

ARG VERSION=0.1.0-SNAPSHOT

WORKDIR /opt/vault-mfa-operator
# Dependencies first: they change less often than the operator, so their layer is reused.
COPY target/lib/ lib/
COPY target/vault-mfa-operator-${VERSION}.jar vault-mfa-operator.jar

# The uid and gid deploy/deployment.yaml runs as; no home directory, no shell login.
USER 65532:65532
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=50 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp"
EXPOSE 8080
ENTRYPOINT ["java", "-jar", "/opt/vault-mfa-operator/vault-mfa-operator.jar"]
