package io.vaultmfa.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.api.model.apiextensions.v1.ValidationRule;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CRD in {@code crds/} is what users apply; the one in {@code target/classes} is what the Java
 * model generates. They must not drift, and the committed one must carry the API of DESIGN.md
 * section 2.
 */
class CrdDriftTest {

  static final String FILE = "awsmfabindings.vaultmfa.io-v1.yml";

  static Path basedir() {
    String b = System.getProperty("basedir");
    return Paths.get(b == null || b.isBlank() ? "" : b).toAbsolutePath();
  }

  static Path committed() {
    return basedir().resolve("crds").resolve(FILE);
  }

  static Path generated() {
    return basedir().resolve("target/classes/META-INF/fabric8").resolve(FILE);
  }

  static CustomResourceDefinition crd;
  static CustomResourceDefinitionVersion version;
  static JSONSchemaProps spec;

  @BeforeAll
  static void parseCommitted() throws IOException {
    try (InputStream in = Files.newInputStream(committed())) {
      crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
    version = crd.getSpec().getVersions().get(0);
    spec = version.getSchema().getOpenAPIV3Schema().getProperties().get("spec");
  }

  @Test
  void committedCrdEqualsGeneratedCrdByteForByte() throws IOException {
    Path gen = generated();
    if (!Files.exists(gen)) {
      fail(
          "generated CRD "
              + gen
              + " is missing: run `mvn process-classes` (the fabric8 "
              + "crd-generator-maven-plugin writes it) before this test");
    }
    byte[] want = Files.readAllBytes(gen);
    byte[] have = Files.readAllBytes(committed());
    if (!Arrays.equals(want, have)) {
      fail(
          "crds/"
              + FILE
              + " has drifted from the CRD generated from the Java model ("
              + firstDifference(have, want)
              + ").\nCopy the generated file and commit it:\n"
              + "  cp target/classes/META-INF/fabric8/"
              + FILE
              + " crds/"
              + FILE);
    }
  }

  private static String firstDifference(byte[] committed, byte[] generated) {
    String[] a = new String(committed, StandardCharsets.UTF_8).split("\n", -1);
    String[] b = new String(generated, StandardCharsets.UTF_8).split("\n", -1);
    for (int i = 0; i < Math.max(a.length, b.length); i++) {
      String x = i < a.length ? a[i] : "<end of file>";
      String y = i < b.length ? b[i] : "<end of file>";
      if (!x.equals(y)) {
        return "first difference at line "
            + (i + 1)
            + ": committed ["
            + x
            + "], generated ["
            + y
            + "]";
      }
    }
    return "same lines, different bytes";
  }

  @Test
  void groupAndKind() {
    assertThat(crd.getMetadata().getName()).isEqualTo("awsmfabindings.vaultmfa.io");
    assertThat(crd.getSpec().getGroup()).isEqualTo("vaultmfa.io");
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo("AwsMfaBinding");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
  }

  @Test
  void oneVersionV1alpha1ServedAndStored() {
    assertThat(crd.getSpec().getVersions()).hasSize(1);
    assertThat(version.getName()).isEqualTo("v1alpha1");
    assertThat(version.getServed()).isTrue();
    assertThat(version.getStorage()).isTrue();
  }

  @Test
  void statusIsASubresource() {
    assertThat(version.getSubresources()).isNotNull();
    assertThat(version.getSubresources().getStatus()).isNotNull();
  }

  @Test
  void shortNames() {
    assertThat(crd.getSpec().getNames().getShortNames())
        .containsExactlyInAnyOrder("mfab", "mfabinding");
  }

  @Test
  void thePrinterColumnsOfTheDesign() {
    assertThat(version.getAdditionalPrinterColumns())
        .extracting(CustomResourceColumnDefinition::getName)
        .containsExactlyInAnyOrder("User", "Serial", "Ready", "Reason", "Age");
  }

  @ParameterizedTest(name = "{0} shows {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "User   | .spec.iamUser.name",
        "Serial | .status.serialNumber",
        "Ready  | .status.conditions[?(@.type==\"Ready\")].status",
        "Reason | .status.conditions[?(@.type==\"Ready\")].reason",
        "Age    | .metadata.creationTimestamp"
      })
  void printerColumnPath(String name, String jsonPath) {
    assertThat(version.getAdditionalPrinterColumns())
        .filteredOn(c -> c.getName().equals(name))
        .singleElement()
        .extracting(CustomResourceColumnDefinition::getJsonPath)
        .isEqualTo(jsonPath);
  }

  @Test
  void iamUserNameIsImmutableByCel() {
    JSONSchemaProps name = property("iamUser", "name");
    assertThat(name.getXKubernetesValidations())
        .extracting(ValidationRule::getRule, ValidationRule::getMessage)
        .contains(
            org.assertj.core.groups.Tuple.tuple(
                "self == oldSelf", "spec.iamUser.name is immutable"));
  }

  @Test
  void mfaDeviceNameIsImmutableByASpecLevelCelRule() {
    // A rule on the optional field itself would not fire when the field is added or removed.
    assertThat(spec.getXKubernetesValidations())
        .filteredOn(r -> ".mfaDevice.name".equals(r.getFieldPath()))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getRule())
                  .contains("self.mfaDevice.name")
                  .contains("oldSelf.mfaDevice.name");
              assertThat(r.getMessage()).isEqualTo("spec.mfaDevice.name is immutable");
            });
  }

  @Test
  void iamUserNamePatternAndLength() {
    JSONSchemaProps name = property("iamUser", "name");
    assertThat(name.getPattern()).isEqualTo(Rules.IAM_NAME);
    assertThat(name.getMinLength()).isEqualTo(1L);
    assertThat(name.getMaxLength()).isEqualTo(64L);
  }

  @Test
  void vaultKeyNamePatternAndLength() {
    JSONSchemaProps key = property("vault", "keyName");
    assertThat(key.getPattern()).isEqualTo(Rules.VAULT_KEY_NAME);
    assertThat(key.getMaxLength()).isEqualTo((long) Rules.VAULT_KEY_NAME_MAX);
  }

  @Test
  void deletionPolicyIsDeleteOrRetain() {
    JSONSchemaProps p = spec.getProperties().get("deletionPolicy");
    assertThat(p.getEnum()).extracting(JsonNode::asText).containsExactly("Delete", "Retain");
  }

  @Test
  void iamUserIsRequired() {
    assertThat(spec.getRequired()).contains("iamUser");
    assertThat(spec.getProperties().get("iamUser").getRequired()).contains("name");
  }

  /** SpecValidatorTest checks the Rules constants for RE2 syntax; this makes sure they are all. */
  @Test
  void everyPatternInTheCrdIsARulesConstant() throws IllegalAccessException {
    Set<String> rules = new HashSet<>();
    for (Field f : Rules.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        rules.add((String) f.get(null));
      }
    }
    List<String> patterns = new ArrayList<>();
    collectPatterns(version.getSchema().getOpenAPIV3Schema(), patterns);
    assertThat(patterns).isNotEmpty().allSatisfy(p -> assertThat(rules).contains(p));
  }

  private static void collectPatterns(JSONSchemaProps s, List<String> out) {
    if (s == null) {
      return;
    }
    if (s.getPattern() != null) {
      out.add(s.getPattern());
    }
    if (s.getProperties() != null) {
      for (Map.Entry<String, JSONSchemaProps> e : s.getProperties().entrySet()) {
        collectPatterns(e.getValue(), out);
      }
    }
    if (s.getItems() != null) {
      collectPatterns(s.getItems().getSchema(), out);
    }
    if (s.getAdditionalProperties() != null) {
      collectPatterns(s.getAdditionalProperties().getSchema(), out);
    }
  }

  private static JSONSchemaProps property(String object, String field) {
    return spec.getProperties().get(object).getProperties().get(field);
  }
}
