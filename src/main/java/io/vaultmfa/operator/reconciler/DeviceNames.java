package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.Rules;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The names a binding's virtual MFA devices take. IAM wants a new device's name to differ from
 * every existing one, and rotation keeps the old device enabled until the new one is, so each
 * rotation takes the next generation: {@code <name>}, then {@code <name>-r1}, {@code <name>-r2},
 * ... (the spec's name is shortened when the suffix would pass IAM's 226 characters).
 */
final class DeviceNames {

  private static final Pattern ROTATED = Pattern.compile("^(.+)-r([1-9][0-9]{0,8})$");

  private DeviceNames() {}

  /** The device name of generation {@code gen} (0: the spec's name as it is). */
  static String name(String base, int gen) {
    if (gen == 0) {
      return base;
    }
    String suffix = "-r" + gen;
    int room = Rules.MFA_DEVICE_NAME_MAX - suffix.length();
    return (base.length() > room ? base.substring(0, room) : base) + suffix;
  }

  /**
   * The generation of a serial number {@code arn:...:mfa<path><name>} when it is one of this
   * binding's names at this path; empty when it is not.
   */
  static OptionalInt generation(String serial, String path, String base) {
    int mfa = serial == null ? -1 : serial.indexOf(":mfa/");
    if (mfa < 0) {
      return OptionalInt.empty();
    }
    String pathAndName = serial.substring(mfa + ":mfa".length());
    int slash = pathAndName.lastIndexOf('/');
    if (!pathAndName.substring(0, slash + 1).equals(path)) {
      return OptionalInt.empty();
    }
    String name = pathAndName.substring(slash + 1);
    if (name.equals(base)) {
      return OptionalInt.of(0);
    }
    Matcher m = ROTATED.matcher(name);
    if (m.matches()) {
      int gen = Integer.parseInt(m.group(2));
      if (name(base, gen).equals(name)) {
        return OptionalInt.of(gen);
      }
    }
    return OptionalInt.empty();
  }

  /** The device name part of a serial number. */
  static String nameOf(String serial) {
    return serial.substring(serial.lastIndexOf('/') + 1);
  }
}
