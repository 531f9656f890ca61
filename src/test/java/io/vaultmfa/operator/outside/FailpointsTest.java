package io.vaultmfa.operator.outside;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FailpointsTest {

  @Test
  void unarmedInATestRun() {
    // Nothing sets vaultmfa.failpoints or VAULTMFA_FAILPOINTS here, as in production.
    assertThat(Failpoints.armed()).isFalse();
    Failpoints.after("iam", "CreateVirtualMFADevice"); // returns at once
  }

  @Test
  void aListOfNamesIsParsed() {
    assertThat(Failpoints.parse(" iam.CreateUser, ,vault.WriteKey,"))
        .containsExactlyInAnyOrder("iam.CreateUser", "vault.WriteKey");
    assertThat(Failpoints.parse("")).isEmpty();
  }

  @ParameterizedTest(name = "{0} {1} -> {3}")
  @CsvSource(
      delimiter = '|',
      nullValues = "-",
      value = {
        "POST|/api/v1/namespaces/team-a/secrets|{}|kubernetes.SecretWrite",
        "PATCH|/api/v1/namespaces/team-a/secrets/aws-mfa|{}|kubernetes.SecretWrite",
        "DELETE|/api/v1/namespaces/team-a/secrets/old-mfa|-|kubernetes.SecretWrite",
        "GET|/api/v1/namespaces/team-a/secrets/aws-mfa|-|-",
        "PATCH|/apis/vaultmfa.io/v1alpha1/namespaces/team-a/awsmfabindings/aws/status|{}"
            + "|kubernetes.StatusWrite",
        "PATCH|/apis/vaultmfa.io/v1alpha1/namespaces/team-a/awsmfabindings/aws"
            + "|[{\"op\":\"remove\",\"path\":\"/metadata/finalizers/0\"}]"
            + "|kubernetes.FinalizerRemoved",
        "PATCH|/apis/vaultmfa.io/v1alpha1/namespaces/team-a/awsmfabindings/aws"
            + "|{\"metadata\":{\"finalizers\":[\"vaultmfa.io/finalizer\"]}}|-",
        "POST|/api/v1/namespaces/team-a/events|{}|-"
      })
  void kubernetesWritesAreNamedByMethodPathAndBody(
      String method, String path, String body, String point) {
    assertThat(Failpoints.kubernetesPoint(method, path, body)).isEqualTo(point);
  }
}
