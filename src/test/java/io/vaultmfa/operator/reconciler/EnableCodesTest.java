package io.vaultmfa.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.iam.Iam;
import io.vaultmfa.operator.metrics.OutsideCalls;
import io.vaultmfa.operator.testing.SettableClock;
import io.vaultmfa.operator.totp.Seed;
import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.EnableMfaDeviceRequest;
import software.amazon.awssdk.services.iam.model.EnableMfaDeviceResponse;
import software.amazon.awssdk.services.iam.model.IamException;
import software.amazon.awssdk.services.iam.model.ListMfaDevicesRequest;
import software.amazon.awssdk.services.iam.model.ListMfaDevicesResponse;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.paginators.ListMFADevicesIterable;

/**
 * Case K03: the two codes that enable a device. The emulator accepts any codes, so these tests put
 * a fake IAM client behind the real gateway that refuses as real IAM would.
 */
class EnableCodesTest {

  private static final String K03_SEED =
      "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
  private static final String K01_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

  private final List<String[]> sent = new ArrayList<>();
  private final SettableClock now = new SettableClock(Instant.EPOCH);
  private final List<Instant> slept = new ArrayList<>();
  private int refusals;
  private boolean answerLost;
  private boolean listFails;
  private String enabledSerial;

  @Test
  void sendsPreviousAndCurrentWindowCodes() {
    now.set(Instant.ofEpochSecond(1700000015));

    step()
        .enable(
            iam(),
            "svc-user",
            "arn:aws:iam::123456789012:mfa/svc-user",
            Seed.fromIamText(K03_SEED));

    assertThat(sent)
        .singleElement()
        .satisfies(codes -> assertThat(codes).containsExactly("023539", "674043"));
    assertThat(slept).isEmpty();
  }

  @Test
  void rfcSeedGivesTheK03Pair() {
    now.set(Instant.ofEpochSecond(1111111111));

    step().enable(iam(), "svc-user", "serial", Seed.fromIamText(K01_SEED));

    assertThat(sent)
        .singleElement()
        .satisfies(codes -> assertThat(codes).containsExactly("081804", "050471"));
  }

  @Test
  void afterRefusalWaitsForNextWindowAndSendsAFreshPair() {
    now.set(Instant.ofEpochSecond(1700000015));
    refusals = 1;

    step().enable(iam(), "svc-user", "serial", Seed.fromIamText(K03_SEED));

    assertThat(slept).containsExactly(Instant.ofEpochSecond(1700000040));
    assertThat(sent).hasSize(2);
    Seed seed = Seed.fromIamText(K03_SEED);
    assertThat(sent.get(1)).containsExactly(seed.codeAt(1700000010), seed.codeAt(1700000040));
    assertThat(sent.get(1)).isNotEqualTo(sent.get(0));
    assertThat(sent.get(1)[0]).isNotEqualTo(sent.get(1)[1]);
  }

  @Test
  void givesUpAfterTheSecondRefusal() {
    now.set(Instant.ofEpochSecond(1700000015));
    refusals = 2;

    assertThatThrownBy(() -> step().enable(iam(), "svc-user", "serial", Seed.fromIamText(K03_SEED)))
        .isInstanceOfSatisfying(
            StepFailure.class, f -> assertThat(f.reason()).isEqualTo(Reason.InvalidCodes));
    assertThat(sent).hasSize(2);
  }

  @Test
  void lostAnswerWithTheDeviceListedAsEnabledCountsAsEnabled() {
    now.set(Instant.ofEpochSecond(1700000015));
    answerLost = true;

    step().enable(iam(), "svc-user", "serial-1", Seed.fromIamText(K03_SEED));

    assertThat(sent).hasSize(1);
  }

  @Test
  void lostAnswerThatCannotBeCheckedIsUnknownNotAFailureToRollBack() {
    // Rolling back would delete the Vault key of a device IAM may have enabled (I1).
    now.set(Instant.ofEpochSecond(1700000015));
    answerLost = true;
    listFails = true;

    assertThatThrownBy(
            () -> step().enable(iam(), "svc-user", "serial-1", Seed.fromIamText(K03_SEED)))
        .isInstanceOf(DeviceStep.OutcomeUnknown.class);
  }

  private DeviceStep step() {
    return new DeviceStep(
        null,
        now,
        t -> {
          slept.add(t);
          now.set(t);
        });
  }

  @SuppressWarnings("unchecked")
  private static EnableMfaDeviceRequest asRequest(Object consumer) {
    EnableMfaDeviceRequest.Builder b = EnableMfaDeviceRequest.builder();
    ((java.util.function.Consumer<EnableMfaDeviceRequest.Builder>) consumer).accept(b);
    return b.build();
  }

  private Iam iam() {
    IamClient client =
        (IamClient)
            Proxy.newProxyInstance(
                IamClient.class.getClassLoader(),
                new Class<?>[] {IamClient.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("enableMFADevice")) {
                    EnableMfaDeviceRequest r =
                        args[0] instanceof EnableMfaDeviceRequest req ? req : asRequest(args[0]);
                    sent.add(new String[] {r.authenticationCode1(), r.authenticationCode2()});
                    if (refusals-- > 0) {
                      throw IamException.builder()
                          .statusCode(400)
                          .awsErrorDetails(
                              AwsErrorDetails.builder()
                                  .errorCode("InvalidAuthenticationCode")
                                  .errorMessage("Authentication code for device is not valid.")
                                  .build())
                          .build();
                    }
                    enabledSerial = r.serialNumber();
                    if (answerLost) {
                      throw SdkClientException.create("Read timed out");
                    }
                    return EnableMfaDeviceResponse.builder().build();
                  }
                  if (method.getName().equals("listMFADevicesPaginator")) {
                    if (listFails) {
                      throw SdkClientException.create("Read timed out");
                    }
                    return new ListMFADevicesIterable(
                        (IamClient) proxy, ListMfaDevicesRequest.builder().build());
                  }
                  if (method.getName().equals("listMFADevices")) {
                    return ListMfaDevicesResponse.builder()
                        .mfaDevices(
                            MFADevice.builder()
                                .serialNumber(enabledSerial)
                                .userName("svc-user")
                                .enableDate(Instant.now())
                                .build())
                        .isTruncated(false)
                        .build();
                  }
                  throw new UnsupportedOperationException(method.getName());
                });
    return new Iam(client, null, new OutsideCalls(new SimpleMeterRegistry()));
  }
}
