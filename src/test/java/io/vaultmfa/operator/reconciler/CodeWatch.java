package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.testing.OperatorHarness;
import io.vaultmfa.operator.totp.Totp;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.iam.model.MFADevice;
import software.amazon.awssdk.services.iam.model.NoSuchEntityException;

/**
 * Watches what a workload would see during a rotation (invariant I6): reads the code Vault gives
 * and checks that it is the code of a device enabled on the user at that moment, that is, enabled
 * both just before and just after the read. It looks from a background thread, polling, and also at
 * every IAM call the operator makes (as an interceptor at its IAM boundary): between two IAM calls
 * IAM does not change, so a wrong order of steps is caught there every time, not only when the poll
 * happens to fall into the gap.
 *
 * <p>Seeds come from the harness' capture at the IAM boundary and from {@link #knowSeed} for
 * devices a test made itself. Findings name serial numbers and times, never a seed or a code.
 */
final class CodeWatch implements ExecutionInterceptor {

  private final OperatorHarness h;
  private final Map<String, Set<String>> extraSeeds = new ConcurrentHashMap<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final Set<String> seen = new CopyOnWriteArraySet<>();
  private final AtomicInteger checks = new AtomicInteger();
  private volatile String user;
  private volatile String codePath;
  private volatile Thread poller;

  CodeWatch(OperatorHarness h) {
    this.h = h;
  }

  /** A seed the test made itself (a person's device, or one arranged as a crash left it). */
  void knowSeed(String serial, String seed) {
    extraSeeds.computeIfAbsent(serial, k -> new CopyOnWriteArraySet<>()).add(seed);
  }

  /** Starts watching the codes at {@code mount/code/key} against the devices of {@code user}. */
  void start(String user, String mount, String key) {
    violations.clear();
    seen.clear();
    checks.set(0);
    this.user = user;
    this.codePath = mount + "/code/" + key;
    Thread t =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted() && this.user != null) {
                check("poll");
                try {
                  Thread.sleep(20);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "code-watch");
    t.setDaemon(true);
    poller = t;
    t.start();
  }

  void stop() throws InterruptedException {
    user = null;
    Thread t = poller;
    if (t != null) {
      t.interrupt();
      t.join(10_000);
    }
  }

  /** Each finding: when Vault's code belonged to no device enabled on the user. */
  List<String> violations() {
    return List.copyOf(violations);
  }

  /** Serial numbers of the devices whose codes Vault was seen to give. */
  Set<String> seen() {
    return Set.copyOf(seen);
  }

  int checks() {
    return checks.get();
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    check("before " + operation(context));
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    check("after " + operation(context));
  }

  private static String operation(Context.BeforeExecution context) {
    return context.request().getClass().getSimpleName().replace("Request", "");
  }

  private synchronized void check(String where) {
    String u = user;
    String path = codePath;
    if (u == null) {
      return;
    }
    Set<String> before = enabled(u);
    long t0 = Instant.now().getEpochSecond();
    Optional<String> code = h.vaultRead(path).map(n -> n.path("code").asText());
    long t1 = Instant.now().getEpochSecond();
    Set<String> after = enabled(u);
    if (user == null) {
      return;
    }
    checks.incrementAndGet();
    Set<String> throughout = new HashSet<>(before);
    throughout.retainAll(after);
    if (code.isEmpty()) {
      violations.add(where + " at " + Instant.now() + ": Vault gave no code at " + path);
      return;
    }
    Optional<String> owner =
        throughout.stream().filter(s -> isCodeOf(code.get(), s, t0, t1)).findFirst();
    if (owner.isPresent()) {
      seen.add(owner.get());
    } else {
      violations.add(
          where
              + " at "
              + Instant.now()
              + ": Vault's code at "
              + path
              + " is the code of no device enabled on "
              + u
              + " (enabled before the read: "
              + before
              + ", after: "
              + after
              + ")");
    }
  }

  private boolean isCodeOf(String code, String serial, long t0, long t1) {
    Set<String> seeds = new HashSet<>(extraSeeds.getOrDefault(serial, Set.of()));
    String captured = h.iamBoundary.seedOf(serial);
    if (captured != null) {
      seeds.add(captured);
    }
    return seeds.stream()
        .anyMatch(s -> code.equals(Totp.code(s, t0)) || code.equals(Totp.code(s, t1)));
  }

  private Set<String> enabled(String u) {
    try {
      return h.iam.listMFADevices(r -> r.userName(u)).mfaDevices().stream()
          .map(MFADevice::serialNumber)
          .collect(Collectors.toSet());
    } catch (NoSuchEntityException e) {
      return Set.of();
    }
  }
}
