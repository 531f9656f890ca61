package io.vaultmfa.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.config.Setting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * README.md documents every setting (key and environment variable), every condition reason, and
 * starts with the two commands a user runs. Fails when the code gains one the README lacks.
 */
class ReadmeTest {

  private static final Pattern CODE_BLOCK =
      Pattern.compile("^```[^\\n]*\\n(.*?)^```", Pattern.MULTILINE | Pattern.DOTALL);

  private static String readme;

  @BeforeAll
  static void read() throws IOException {
    Path base = Paths.get(System.getProperty("basedir", System.getProperty("user.dir")));
    readme = Files.readString(base.resolve("README.md"));
  }

  @ParameterizedTest
  @EnumSource(Setting.class)
  void documentsEverySettingKeyAndEnvironmentVariable(Setting s) {
    assertThat(readme).as("README.md mentions the key of %s", s).contains("`" + s.key() + "`");
    assertThat(readme)
        .as("README.md mentions the environment variable of %s", s)
        .contains("`" + s.env() + "`");
  }

  @ParameterizedTest
  @EnumSource(Reason.class)
  void documentsEveryConditionReason(Reason r) {
    assertThat(readme).as("README.md documents reason %s", r).contains("`" + r.name() + "`");
  }

  @Test
  void firstCodeBlockHasTheTwoCommands() {
    Matcher m = CODE_BLOCK.matcher(readme);
    assertThat(m.find()).as("README.md has a fenced code block").isTrue();
    assertThat(m.group(1))
        .as("the first code block of README.md holds the two commands")
        .contains("scripts/run-local.sh")
        .contains("scripts/test.sh");
  }
}
