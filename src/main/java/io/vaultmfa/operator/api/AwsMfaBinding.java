package io.vaultmfa.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** One IAM user whose virtual MFA device is enrolled with its seed kept in Vault. */
@Group("vaultmfa.io")
@Version("v1alpha1")
@ShortNames({"mfab", "mfabinding"})
@AdditionalPrinterColumn(name = "User", jsonPath = ".spec.iamUser.name")
@AdditionalPrinterColumn(name = "Serial", jsonPath = ".status.serialNumber")
@AdditionalPrinterColumn(
    name = "Ready",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Reason",
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason")
@AdditionalPrinterColumn(
    name = "Age",
    jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class AwsMfaBinding extends CustomResource<AwsMfaBindingSpec, AwsMfaBindingStatus>
    implements Namespaced {

  @Override
  protected AwsMfaBindingStatus initStatus() {
    return new AwsMfaBindingStatus();
  }
}
