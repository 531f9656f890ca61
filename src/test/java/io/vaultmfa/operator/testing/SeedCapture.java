package io.vaultmfa.operator.testing;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.iam.model.CreateVirtualMfaDeviceResponse;

/**
 * Sits at the IAM boundary of the operator under test: keeps each seed IAM issues (by serial), so
 * tests can prove Vault holds it and that it leaks nowhere, and records every call made, in order.
 * Seeds stay in memory; nothing here prints them.
 */
public final class SeedCapture implements ExecutionInterceptor {

  private final Map<String, String> seeds = new ConcurrentHashMap<>();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    SdkRequest r = context.request();
    String op = r.getClass().getSimpleName().replace("Request", "");
    calls.add(op);
    counts.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    if (context.response() instanceof CreateVirtualMfaDeviceResponse r) {
      seeds.put(
          r.virtualMFADevice().serialNumber(),
          r.virtualMFADevice().base32StringSeed().asUtf8String());
    }
  }

  /** The seed IAM issued for this serial, or null. Never print it. */
  public String seedOf(String serial) {
    return seeds.get(serial);
  }

  public List<String> allSeeds() {
    return List.copyOf(seeds.values());
  }

  /** Every IAM and STS operation called so far, in order, e.g. {@code CreateUser}. */
  public List<String> calls() {
    return List.copyOf(calls);
  }

  public int count(String op) {
    AtomicInteger n = counts.get(op);
    return n == null ? 0 : n.get();
  }

  /** Calls whose name says they change something. */
  public long writes() {
    return calls.stream().filter(SeedCapture::isWrite).count();
  }

  public static boolean isWrite(String op) {
    String o = op.toLowerCase(Locale.ROOT);
    return !(o.startsWith("get") || o.startsWith("list"));
  }

  public void clearCalls() {
    calls.clear();
    counts.clear();
  }
}
