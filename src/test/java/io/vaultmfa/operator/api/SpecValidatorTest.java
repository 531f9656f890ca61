package io.vaultmfa.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.vaultmfa.operator.testing.BadSpecs;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SpecValidatorTest {

  static AwsMfaBinding binding(String namespace, String name, String userName) {
    AwsMfaBinding b = new AwsMfaBinding();
    b.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
    AwsMfaBindingSpec spec = new AwsMfaBindingSpec();
    IamUserSpec user = new IamUserSpec();
    user.setName(userName);
    spec.setIamUser(user);
    b.setSpec(spec);
    return b;
  }

  static AwsMfaBinding validBinding() {
    return binding("team-a", "ci-deployer", "TOTP");
  }

  static AwsMfaBinding withKeyName(String keyName) {
    AwsMfaBinding b = validBinding();
    VaultSpec v = new VaultSpec();
    v.setKeyName(keyName);
    b.getSpec().setVault(v);
    return b;
  }

  static List<String> problems(AwsMfaBinding b) {
    return SpecValidator.problems(b);
  }

  /** The shared corpus: each bad spec is one problem that names the field and the rule. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.vaultmfa.operator.testing.BadSpecs#inJavaModel")
  void badSpecCorpusIsRefusedNamingTheFieldAndTheRule(BadSpecs.Bad bad) {
    assertThat(problems(bad.binding("team-a")))
        .singleElement()
        .asString()
        .startsWith(bad.field())
        .contains(bad.operatorSays());
  }

  @Test
  void aMinimalSpecIsValid() {
    assertThat(problems(validBinding())).isEmpty();
  }

  @Test
  void aSpecWithoutIamUserIsRefused() {
    AwsMfaBinding b = validBinding();
    b.getSpec().setIamUser(null);
    assertThat(problems(b)).containsExactly("spec.iamUser: is required");
  }

  /** K05: the names Vault's TOTP engine takes and refuses. */
  @Nested
  class VaultKeyName {

    @ParameterizedTest(name = "accepted: {0}")
    @ValueSource(
        strings = {"svc-user", "svc_user", "svc-user@example.com", "default.svc-user.mfa", "a"})
    void accepted(String key) {
      assertThat(problems(withKeyName(key))).isEmpty();
    }

    @ParameterizedTest(name = "refused: [{0}]")
    @ValueSource(
        strings = {"-svc", "svc-", "team/svc", "team:svc", "svc user", "svc+ops", "svc-user@"})
    void refused(String key) {
      assertThat(problems(withKeyName(key)))
          .singleElement()
          .asString()
          .startsWith("spec.vault.keyName: ");
    }

    @Test
    void atMost128Characters() {
      assertThat(problems(withKeyName("k".repeat(128)))).isEmpty();
      assertThat(problems(withKeyName("k".repeat(129))))
          .singleElement()
          .asString()
          .startsWith("spec.vault.keyName: must be at most 128");
    }
  }

  @Nested
  class DefaultKeyName {

    @ParameterizedTest(name = "{0}.{1}")
    @org.junit.jupiter.params.provider.CsvSource({
      "team-a, ci-deployer",
      "default, svc-user",
      "a, 0",
      "kube-system, break.glass.user",
      "team-1, 1-ci"
    })
    void builtFromOrdinaryKubernetesNamesIsValid(String namespace, String name) {
      assertThat(problems(binding(namespace, name, "TOTP"))).isEmpty();
    }

    @Test
    void ofExactly128CharactersIsValid() {
      // 63 + "." + 64 = 128
      assertThat(problems(binding("n".repeat(63), "m".repeat(64), "TOTP"))).isEmpty();
    }

    @Test
    void tooLongIsReportedAgainstKeyName() {
      // A namespace of 63 and a name of 120 characters make a 184-character default.
      List<String> p = problems(binding("n".repeat(63), "m".repeat(120), "TOTP"));
      assertThat(p)
          .singleElement()
          .asString()
          .startsWith("spec.vault.keyName")
          .contains("at most 128");
    }

    @Test
    void aGivenKeyNameReplacesTheTooLongDefault() {
      AwsMfaBinding b = withKeyName("svc-user");
      b.getMetadata().setNamespace("n".repeat(63));
      b.getMetadata().setName("m".repeat(120));
      assertThat(problems(b)).isEmpty();
    }
  }

  @Test
  void aNameTooLongForTheDefaultSecretNameIsReported() {
    assertThat(problems(binding("team-a", "m".repeat(250), "TOTP")))
        .anySatisfy(p -> assertThat(p).startsWith("spec.secretName"));
  }

  @Nested
  class IamUserName {

    @ParameterizedTest(name = "valid: {0}")
    @ValueSource(strings = {"TOTP", "svc+ops=a,b.c@d-e_f", "svc-user"})
    void valid(String name) {
      assertThat(problems(binding("team-a", "b", name))).isEmpty();
    }

    @Test
    void sixtyFourCharactersIsValid() {
      assertThat(problems(binding("team-a", "b", "u".repeat(64)))).isEmpty();
    }

    @ParameterizedTest(name = "invalid: [{0}]")
    @MethodSource("io.vaultmfa.operator.api.SpecValidatorTest#invalidIamNames")
    void invalid(String name) {
      assertThat(problems(binding("team-a", "b", name)))
          .singleElement()
          .asString()
          .startsWith("spec.iamUser.name: ");
    }

    @Test
    void nullIsRequired() {
      assertThat(problems(binding("team-a", "b", null)))
          .containsExactly("spec.iamUser.name: is required");
    }

    @Test
    void deviceNameFollowsTheSameCharacterRule() {
      AwsMfaBinding b = validBinding();
      MfaDeviceSpec d = new MfaDeviceSpec();
      d.setName("svc user");
      b.getSpec().setMfaDevice(d);
      assertThat(problems(b)).singleElement().asString().startsWith("spec.mfaDevice.name: ");
    }
  }

  static Stream<String> invalidIamNames() {
    return Stream.of(
        "",
        "u".repeat(65),
        "svc user",
        "team/svc",
        "svc\u0430", // Cyrillic a, looks like Latin a
        "\u0422OTP", // Cyrillic Te, looks like Latin T
        "svc\n",
        "svc:user",
        "svc*");
  }

  @Nested
  class Paths {

    @ParameterizedTest(name = "valid: {0}")
    @ValueSource(strings = {"/", "/ci/", "/k8s/team-a/", "/a~!/"})
    void valid(String path) {
      AwsMfaBinding b = validBinding();
      b.getSpec().getIamUser().setPath(path);
      assertThat(problems(b)).isEmpty();
    }

    @ParameterizedTest(name = "invalid: [{0}]")
    @MethodSource("io.vaultmfa.operator.api.SpecValidatorTest#invalidPaths")
    void invalidUserPath(String path) {
      AwsMfaBinding b = validBinding();
      b.getSpec().getIamUser().setPath(path);
      assertThat(problems(b)).singleElement().asString().startsWith("spec.iamUser.path: ");
    }

    @ParameterizedTest(name = "invalid: [{0}]")
    @MethodSource("io.vaultmfa.operator.api.SpecValidatorTest#invalidPaths")
    void invalidDevicePath(String path) {
      AwsMfaBinding b = validBinding();
      MfaDeviceSpec d = new MfaDeviceSpec();
      d.setPath(path);
      b.getSpec().setMfaDevice(d);
      assertThat(problems(b)).singleElement().asString().startsWith("spec.mfaDevice.path: ");
    }
  }

  static Stream<String> invalidPaths() {
    return Stream.of(
        "", "ci", "/ci", "ci/", "//", "/a b/", "/\u00e9/", "/" + "p".repeat(511) + "/");
  }

  @Nested
  class PolicyArns {

    @ParameterizedTest(name = "valid: {0}")
    @ValueSource(
        strings = {
          "arn:aws:iam::aws:policy/ReadOnlyAccess",
          "arn:aws:iam::123456789012:policy/team/deploy",
          "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
          "arn:aws-cn:iam::123456789012:policy/p"
        })
    void valid(String arn) {
      AwsMfaBinding b = validBinding();
      b.getSpec().getIamUser().setManagedPolicyArns(List.of(arn));
      assertThat(problems(b)).isEmpty();
    }

    @ParameterizedTest(name = "invalid: [{0}]")
    @ValueSource(
        strings = {
          "ReadOnlyAccess",
          "arn:aws:iam::123456789012:role/deployer",
          "arn:aws:iam::12345678901:policy/p",
          "arn:aws:iam::aws:policy/",
          "arn:aws:iam::aws:policy/a b",
          "arn:aws:s3:::bucket"
        })
    void invalid(String arn) {
      AwsMfaBinding b = validBinding();
      b.getSpec()
          .getIamUser()
          .setManagedPolicyArns(List.of("arn:aws:iam::aws:policy/ReadOnlyAccess", arn));
      assertThat(problems(b))
          .singleElement()
          .asString()
          .startsWith("spec.iamUser.managedPolicyArns[1]: ");
    }
  }

  @Test
  void reservedTagPrefixIsRefused() {
    AwsMfaBinding b = validBinding();
    b.getSpec().getIamUser().setTags(Map.of("vaultmfa.io/binding", "x"));
    assertThat(problems(b)).singleElement().asString().startsWith("spec.iamUser.tags[");
  }

  /**
   * The same strings are OpenAPI patterns in the CRD, where the API server evaluates them with Go's
   * RE2. Java-only syntax would compile here and break (or mean something else) there.
   */
  @Nested
  class RulesAreRe2Patterns {

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.vaultmfa.operator.api.SpecValidatorTest#rules")
    void compilesInJava(String field, String regex) {
      assertThatCode(() -> Pattern.compile(regex)).doesNotThrowAnyException();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.vaultmfa.operator.api.SpecValidatorTest#rules")
    void isAnchoredAtBothEnds(String field, String regex) {
      // OpenAPI patterns are unanchored searches; without ^ and $ a bad value passes.
      assertThat(regex).startsWith("^").endsWith("$");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.vaultmfa.operator.api.SpecValidatorTest#rules")
    void hasNoJavaOnlySyntax(String field, String regex) {
      assertThat(javaOnlySyntax(regex)).as("Java-only constructs in %s", field).isEmpty();
    }

    @ParameterizedTest(name = "flags [{0}]")
    @ValueSource(
        strings = {
          "^a(?=b)$",
          "^a(?!b)$",
          "^(?<=a)b$",
          "^(?<!a)b$",
          "^(?>ab)$",
          "^a*+$",
          "^a++$",
          "^a?+$",
          "^a{2}+$",
          "^\\p{Alpha}+$",
          "^\\P{L}$",
          "^(a)\\1$",
          "^[a-z&&[^e]]$",
          "^a\\Z",
          "^\\h$"
        })
    void theSyntaxCheckCatchesJavaOnlyConstructs(String regex) {
      assertThat(javaOnlySyntax(regex)).isNotEmpty();
    }

    @Test
    void theSyntaxCheckAllowsTheUnicodeCategoriesBothRead() {
      assertThat(javaOnlySyntax("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]*$")).isEmpty();
      assertThat(javaOnlySyntax("^\\p{Lu}$")).isNotEmpty();
    }

    @Test
    void theSyntaxCheckLeavesPlusInsideAClassAlone() {
      assertThat(javaOnlySyntax("^[A-Za-z0-9_+=,.@-]+$")).isEmpty();
    }
  }

  static Stream<Arguments> rules() throws IllegalAccessException {
    List<Arguments> out = new ArrayList<>();
    for (Field f : Rules.class.getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        out.add(Arguments.of(f.getName(), f.get(null)));
      }
    }
    assertThat(out).isNotEmpty();
    return out.stream();
  }

  /**
   * Constructs Java's regex engine accepts and RE2 does not (or reads differently): lookaround,
   * atomic groups, possessive quantifiers, {@code \p{..}} classes, back references, class
   * intersection and nested classes, and the escapes \Z \G \R \h \H \X \v \V.
   */
  private static final Pattern SHARED_CATEGORY = Pattern.compile("\\\\p\\{[LNZ]\\}");

  static List<String> javaOnlySyntax(String regex) {
    List<String> found = new ArrayList<>();
    boolean inClass = false;
    for (int i = 0; i < regex.length(); i++) {
      char c = regex.charAt(i);
      if (c == '\\' && i + 1 < regex.length()) {
        char e = regex.charAt(i + 1);
        if (e == 'p' && SHARED_CATEGORY.matcher(regex).region(i, regex.length()).lookingAt()) {
          // \p{L}, \p{N}, \p{Z}: Unicode general categories, read alike by RE2 and Java.
          i += 4;
          continue;
        }
        if (e == 'p' || e == 'P') {
          found.add("\\" + e + "{..} at " + i);
        } else if (!inClass && e >= '1' && e <= '9') {
          found.add("back reference at " + i);
        } else if (e == 'k') {
          found.add("named back reference at " + i);
        } else if ("ZGRhHXvV".indexOf(e) >= 0) {
          found.add("\\" + e + " at " + i);
        }
        i++;
        continue;
      }
      if (inClass) {
        if (c == ']') {
          inClass = false;
        } else if (c == '&' && i + 1 < regex.length() && regex.charAt(i + 1) == '&') {
          found.add("class intersection at " + i);
        } else if (c == '[' && !(i + 1 < regex.length() && regex.charAt(i + 1) == ':')) {
          found.add("nested class at " + i);
        }
        continue;
      }
      if (c == '[') {
        inClass = true;
        // A ] right after [ or [^ is a literal.
        if (i + 1 < regex.length() && regex.charAt(i + 1) == '^') {
          i++;
        }
        if (i + 1 < regex.length() && regex.charAt(i + 1) == ']') {
          i++;
        }
        continue;
      }
      if (c == '(' && regex.startsWith("(?", i)) {
        String rest = regex.substring(i + 2);
        if (rest.startsWith("=")
            || rest.startsWith("!")
            || rest.startsWith("<=")
            || rest.startsWith("<!")) {
          found.add("lookaround at " + i);
        } else if (rest.startsWith(">")) {
          found.add("atomic group at " + i);
        }
      }
      if ((c == '*' || c == '+' || c == '?' || c == '}')
          && i + 1 < regex.length()
          && regex.charAt(i + 1) == '+') {
        found.add("possessive quantifier at " + i);
      }
    }
    return found;
  }
}
