package io.vaultmfa.operator.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.reconciler.AwsMfaBindingReconciler;
import io.vaultmfa.operator.reconciler.NaiveEnableCodes;
import io.vaultmfa.operator.testing.OperatorHarness;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * The benchmark of issue 6: time to Ready, outside calls per binding, throughput under an IAM rate
 * limit, and memory, on the local stack (OpenBao, moto, a real kube-apiserver). Prints a table and
 * writes {@code target/bench/results.json}. Run it with {@code scripts/bench.sh}; {@code --help}
 * lists the options.
 */
public final class Benchmark {

  static final PrintStream OUT = System.out;
  static final Path DIR = Path.of("target", "bench");

  /** What one run measures. */
  record Options(
      List<Integer> sizes,
      List<Integer> naiveSizes,
      int concurrency,
      int moreThreads,
      int callsN,
      int rateN,
      int rps,
      List<Integer> memory,
      List<String> parts,
      boolean jfr) {

    static Options parse(String[] args) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("sizes", "1,100,1000");
      m.put("naive-sizes", "1,100");
      m.put("concurrency", "4");
      m.put("more-threads", "16");
      m.put("calls-n", "100");
      m.put("rate-n", "1000");
      m.put("rps", "10");
      m.put("memory", "1000,10000");
      m.put("only", "latency,calls,rate,memory");
      m.put("jfr", "false");
      for (String a : args) {
        if (a.equals("--jfr")) {
          m.put("jfr", "true");
          continue;
        }
        if (a.equals("--quick")) {
          m.put("sizes", "1,20");
          m.put("naive-sizes", "1");
          m.put("calls-n", "20");
          m.put("rate-n", "50");
          m.put("memory", "50,100");
          continue;
        }
        if (!a.startsWith("--")
            || !a.contains("=")
            || !m.containsKey(a.substring(2, a.indexOf('=')))) {
          throw new IllegalArgumentException("unknown argument " + a + "; see --help");
        }
        m.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
      }
      return new Options(
          ints(m.get("sizes")),
          ints(m.get("naive-sizes")),
          Integer.parseInt(m.get("concurrency")),
          Integer.parseInt(m.get("more-threads")),
          Integer.parseInt(m.get("calls-n")),
          Integer.parseInt(m.get("rate-n")),
          Integer.parseInt(m.get("rps")),
          ints(m.get("memory")),
          Arrays.asList(m.get("only").split(",")),
          Boolean.parseBoolean(m.get("jfr")));
    }

    private static List<Integer> ints(String s) {
      return s.isBlank()
          ? List.of()
          : Arrays.stream(s.split(",")).map(String::trim).map(Integer::valueOf).toList();
    }
  }

  static void usage() {
    OUT.println("usage: scripts/bench.sh [--quick] [--only=latency,calls,rate,memory]");
    OUT.println("         [--sizes=1,100,1000] [--naive-sizes=1,100] [--concurrency=4]");
    OUT.println(
        "         [--more-threads=16] [--calls-n=100] [--rate-n=1000] [--rps=10] [--memory=1000,10000]");
    OUT.println("         [--jfr]");
    OUT.println("  --quick  small sizes, to check that it works (about 5 minutes)");
    OUT.println("  --jfr    record the operator process (memory part) with JFR and summarise it");
  }

  private final Options opt;
  private final Map<String, Object> json = new LinkedHashMap<>();
  private final List<String> notes = new ArrayList<>();
  private final List<String> missed = new ArrayList<>();
  private final Map<String, List<String>> missedByPart = new LinkedHashMap<>();
  private final Map<String, Object> measured = new LinkedHashMap<>();
  private String part = "";
  private final Map<Row, Map<String, Long>> timeSplit = new LinkedHashMap<>();
  private BenchStack stack;

  private Benchmark(Options opt) {
    this.opt = opt;
  }

  public static void main(String[] args) throws Exception {
    if (Arrays.asList(args).contains("--help")) {
      usage();
      return;
    }
    Benchmark b = new Benchmark(Options.parse(args));
    int rc = 0;
    try {
      b.run();
    } catch (RuntimeException e) {
      e.printStackTrace(System.err);
      rc = 1;
    } finally {
      b.stop();
    }
    System.exit(rc);
  }

  private void run() throws IOException {
    Files.createDirectories(DIR);
    json.put("machine", Machine.describe());
    json.put("options", opt);
    OUT.println("vault-mfa-operator benchmark, " + Machine.summary());
    OUT.println("starting OpenBao, moto and the Kubernetes control plane ...");
    long t = System.nanoTime();
    stack = BenchStack.start();
    OUT.printf("local stack up in %.1f s%n", secondsSince(t));

    Map<String, Object> latency = new LinkedHashMap<>();
    List<Row> latencyRows = new ArrayList<>();
    RunResult calls = null;
    if (opt.parts().contains("latency") || opt.parts().contains("rate")) {
      // The first enrolments in a fresh JVM load and compile the AWS SDK, fabric8 and the
      // operator; a long-running operator has done that long before. Reported, not tabled.
      RunResult warm = run("warmup", false, 5, opt.concurrency(), 0, false);
      json.put("warmUp", warm.json());
    }
    if (opt.parts().contains("latency") || opt.parts().contains("calls")) {
      List<Integer> sizes =
          new ArrayList<>(opt.parts().contains("latency") ? opt.sizes() : List.of());
      if (opt.parts().contains("calls") && !sizes.contains(opt.callsN())) {
        sizes.add(opt.callsN());
      }
      for (int n : sizes) {
        RunResult r =
            run(
                "ours-" + n,
                false,
                n,
                opt.concurrency(),
                0,
                n == opt.callsN() && opt.parts().contains("calls"));
        latencyRows.add(r.row);
        latency.put("ours-" + n, r.json());
        timeSplit.put(r.row, r.timePerBinding());
        if (n == opt.callsN()) {
          calls = r;
        }
        if (opt.parts().contains("latency") && opt.moreThreads() > 0 && n >= 100) {
          // The same with more reconcile threads: how far parallelism carries.
          String label = "ours-" + n + "-t" + opt.moreThreads();
          RunResult more = run(label, false, n, opt.moreThreads(), 0, false);
          latencyRows.add(more.row);
          latency.put(label, more.json());
          timeSplit.put(more.row, more.timePerBinding());
        }
      }
    }
    if (opt.parts().contains("latency")) {
      for (int n : opt.naiveSizes()) {
        // Each naive enrolment holds its reconcile thread for 30 to 60 s; one thread per binding
        // lets them wait side by side, which favours the naive way.
        RunResult r = run("naive-" + n, true, n, n, 0, false);
        latencyRows.add(r.row);
        latency.put("naive-" + n, r.json());
      }
      json.put("timeToReady", latency);
      part("latency");
      printLatency(latencyRows);
    }
    if (calls != null) {
      json.put("callsPerBinding", calls.callsJson());
      part("calls");
      printCalls(calls);
    }
    if (opt.parts().contains("rate")) {
      RunResult r =
          run("rate-" + opt.rateN(), false, opt.rateN(), opt.concurrency(), opt.rps(), false);
      part("rate");
      printRate(r, calls);
    }
    if (opt.parts().contains("memory")) {
      part("memory");
      memory();
    }
    json.put("targetsMissed", missedByPart);
    json.put("measured", measured);
    json.put("notes", notes);
    Path out = DIR.resolve("results.json");
    ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    keepPartsNotRun(mapper, out);
    mapper.writeValue(out.toFile(), json);
    OUT.println();
    OUT.println("targets missed: " + (missed.isEmpty() ? "none" : ""));
    missed.forEach(m -> OUT.println("  - " + m));
    notes.forEach(n -> OUT.println("note: " + n));
    OUT.println("results: " + out.toAbsolutePath());
  }

  /**
   * A run of some parts (--only) keeps the other parts of the previous results.json, each with the
   * machine and date it was measured at ("measured").
   */
  @SuppressWarnings("unchecked")
  private void keepPartsNotRun(ObjectMapper mapper, Path out) throws IOException {
    if (!Files.isRegularFile(out)) {
      return;
    }
    Map<String, Object> old = mapper.readValue(out.toFile(), Map.class);
    old.forEach(json::putIfAbsent);
    for (String key : List.of("targetsMissed", "measured")) {
      if (old.get(key) instanceof Map<?, ?> before) {
        Map<String, Object> merged = new LinkedHashMap<>((Map<String, Object>) before);
        merged.putAll((Map<String, Object>) json.get(key));
        json.put(key, merged);
      }
    }
  }

  private void stop() {
    if (stack != null) {
      OUT.println("stopping the local stack ...");
      stack.close();
    }
  }

  // ---- one run: N bindings applied at once, timed to Ready, calls counted

  /** The row of the time-to-Ready table. */
  record Row(
      String strategy,
      int n,
      int concurrency,
      int rps,
      int ready,
      double p50,
      double p95,
      double p99,
      double max,
      double total,
      Map<String, Integer> notReady) {}

  /** What a run measured. */
  static final class RunResult {
    Row row;
    Counts create;
    Counts resync;
    long resyncReconciles;
    Counts deletion;
    double deleteSeconds;
    long iamRequests;
    long iamRequestsUntilReady;
    double kubeWriteSeconds;
    double iamRate;
    int iamMostInOneSecond;

    Map<String, Object> json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("timeToReadySeconds", row);
      m.put("createCalls", create.json(row.ready()));
      m.put("timePerBindingMs", timePerBinding());
      return m;
    }

    /**
     * Where the reconcile threads' time went, per binding (ms): the threads' time (threads x wall
     * time / N), and within it the calls to IAM and STS, to Vault, and the Kubernetes writes
     * (including the status and finalizer patches java-operator-sdk makes after reconcile).
     */
    Map<String, Long> timePerBinding() {
      int n = Math.max(1, row.ready());
      double iam = 0;
      double vault = 0;
      for (var e : create.seconds().entrySet()) {
        if (e.getKey().startsWith("vault:")) {
          vault += e.getValue();
        } else {
          iam += e.getValue();
        }
      }
      Map<String, Long> m = new LinkedHashMap<>();
      m.put("threadTime", Math.round(row.concurrency() * row.total() * 1000 / n));
      m.put("awsCalls", Math.round(iam * 1000 / n));
      m.put("vaultCalls", Math.round(vault * 1000 / n));
      m.put("kubernetesWrites", Math.round(kubeWriteSeconds * 1000 / n));
      return m;
    }

    Map<String, Object> callsJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("create", create.json(row.ready()));
      if (resync != null) {
        Map<String, Object> r = resync.json(row.ready());
        r.put("reconciles", resyncReconciles);
        m.put("resync", r);
      }
      if (deletion != null) {
        Map<String, Object> d = deletion.json(row.ready());
        d.put("seconds", deleteSeconds);
        m.put("delete", d);
      }
      m.put("minimum", Minimum.json());
      return m;
    }
  }

  private RunResult run(
      String label, boolean naive, int n, int concurrency, int rps, boolean lifecycle) {
    String ns = "bench-" + label;
    stack.createNamespace(ns);
    OUT.println();
    OUT.printf(
        "%s: %d binding%s at once, %s enrolment, concurrency %d%s ...%n",
        label,
        n,
        n == 1 ? "" : "s",
        naive ? "naive" : "our",
        concurrency,
        rps > 0 ? ", IAM limited to " + rps + " requests/s" : "");
    AwsMfaBindingReconciler.Factory reconcilers =
        naive ? NaiveEnableCodes.reconcilers() : AwsMfaBindingReconciler::new;
    RunResult r = new RunResult();
    // A short resync for the run that measures one; otherwise the default, so that no resync
    // falls inside the create window.
    String resync = lifecycle ? "30s" : "10m";
    try (Tracker tracker = new Tracker(stack.client, ns);
        InProcessOperator op =
            new InProcessOperator(stack, ns, concurrency, rps, resync, reconcilers)) {
      List<String> names = naive ? namesInDistinctStripes(ns, n) : names(n);
      Map<String, Long> sent = createAll(ns, label, names);
      Duration timeout =
          naive
              ? Duration.ofSeconds(
                  120 + 70L * ((n + concurrency - 1) / concurrency) * ((n + 63) / 64))
              : Duration.ofSeconds(120 + (rps > 0 ? 3L * 20 * n / rps : n / 2));
      boolean all = Tracker.await(tracker.ready, names, timeout);
      long first = sent.values().stream().mapToLong(Long::longValue).min().orElseThrow();
      double[] lat =
          names.stream()
              .filter(tracker.ready::containsKey)
              .mapToDouble(x -> (tracker.ready.get(x) - sent.get(x)) / 1e9)
              .sorted()
              .toArray();
      double total =
          (tracker.ready.values().stream().mapToLong(Long::longValue).max().orElse(first) - first)
              / 1e9;
      Map<String, Integer> notReady = all ? Map.of() : tracker.notReadyReasons(names);
      r.row =
          new Row(
              naive ? "naive" : "ours",
              n,
              concurrency,
              rps,
              lat.length,
              pct(lat, 50),
              pct(lat, 95),
              pct(lat, 99),
              lat.length == 0 ? Double.NaN : lat[lat.length - 1],
              total,
              notReady);
      OUT.printf(
          "  %d/%d Ready; p50 %.2f s, p95 %.2f s, p99 %.2f s, all in %.1f s%s%n",
          lat.length,
          n,
          r.row.p50(),
          r.row.p95(),
          r.row.p99(),
          total,
          all ? "" : "; NOT READY: " + notReady);
      long lastReady = tracker.ready.values().stream().mapToLong(Long::longValue).max().orElse(0);
      awaitQuiet(op::activity, Duration.ofSeconds(3), Duration.ofSeconds(120));
      r.create = op.counts();
      r.kubeWriteSeconds = op.writes.seconds();
      r.iamRequestsUntilReady = op.attempts.iamRequestsBefore(lastReady);
      r.iamRequests = op.attempts.iamRequests();
      r.iamRate = op.attempts.iamRate();
      r.iamMostInOneSecond = op.attempts.iamMostInOneSecond();
      if (lifecycle && all) {
        resyncAndDelete(r, op, tracker, ns, names);
      }
    }
    return r;
  }

  private void resyncAndDelete(
      RunResult r, InProcessOperator op, Tracker tracker, String ns, List<String> names) {
    int n = names.size();
    OUT.println("  waiting for one resync of every Ready binding (resyncInterval 30s) ...");
    Counts before = op.counts();
    long reconciles = op.reconciles();
    long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
    while (op.reconciles() < reconciles + n && System.nanoTime() < deadline) {
      sleep(Duration.ofMillis(200));
    }
    awaitQuiet(op::activity, Duration.ofSeconds(3), Duration.ofSeconds(60));
    r.resync = op.counts().minus(before);
    r.resyncReconciles = op.reconciles() - reconciles;
    OUT.printf(
        "  %d reconciles in the resync; deleting the %d bindings ...%n", r.resyncReconciles, n);

    before = op.counts();
    long t = System.nanoTime();
    parallel(
        names,
        name ->
            stack.client.resources(AwsMfaBinding.class).inNamespace(ns).withName(name).delete());
    boolean gone = Tracker.await(tracker.gone, names, Duration.ofSeconds(120 + n));
    r.deleteSeconds = secondsSince(t);
    awaitQuiet(op::activity, Duration.ofSeconds(3), Duration.ofSeconds(60));
    r.deletion = op.counts().minus(before);
    OUT.printf(
        "  %s deleted in %.1f s%n", gone ? "all" : tracker.gone.size() + "/" + n, r.deleteSeconds);
  }

  /**
   * Names whose Vault keys fall into DeviceStep's 64 lock stripes as evenly as can be. DeviceStep
   * holds the stripe of {@code <mount>/<keyName>} for the whole enrolment, so two naive enrolments
   * in one stripe wait one after the other (60 to 120 s); spreading them keeps that artefact of our
   * locking out of the naive figures as far as it can (for N above 64 some stripes hold two).
   */
  static List<String> namesInDistinctStripes(String ns, int n) {
    int cap = (n + 63) / 64;
    int[] load = new int[64];
    List<String> names = new ArrayList<>();
    for (int i = 1; names.size() < n; i++) {
      String name = String.format(Locale.ROOT, "b-%05d", i);
      int stripe = Math.floorMod(("totp/" + ns + "." + name).hashCode(), 64);
      if (load[stripe] < cap) {
        load[stripe]++;
        names.add(name);
      }
    }
    return names;
  }

  static List<String> names(int n) {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      names.add(String.format(Locale.ROOT, "b-%05d", i));
    }
    return names;
  }

  /** Creates the bindings from 16 threads; returns when each create was sent (nanoTime). */
  private Map<String, Long> createAll(String ns, String label, List<String> names) {
    Map<String, Long> sent = new ConcurrentHashMap<>();
    parallel(
        names,
        name -> {
          AwsMfaBinding b =
              OperatorHarness.binding(ns, name, "bench-" + label + "-" + name.substring(2));
          sent.put(name, System.nanoTime());
          stack.client.resource(b).create();
        });
    return sent;
  }

  static void parallel(List<String> names, java.util.function.Consumer<String> task) {
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (String name : names) {
        fs.add(pool.submit(() -> task.accept(name)));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /** Waits until {@code activity} has not changed for {@code quiet}. */
  static void awaitQuiet(LongSupplier activity, Duration quiet, Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    long last = activity.getAsLong();
    long since = System.nanoTime();
    while (System.nanoTime() < deadline) {
      sleep(Duration.ofMillis(250));
      long now = activity.getAsLong();
      if (now != last) {
        last = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= quiet.toNanos()) {
        return;
      }
    }
  }

  /** Nearest-rank percentile of sorted values. */
  static double pct(double[] sorted, int p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  // ---- the tables

  private void printLatency(List<Row> rows) {
    OUT.println();
    OUT.println("1. Time from create to Ready (seconds; N bindings applied at once)");
    Table t = new Table("enrolment", "N", "threads", "Ready", "p50", "p95", "p99", "max", "total");
    for (Row r : rows) {
      t.row(
          r.strategy(),
          r.n(),
          r.concurrency(),
          r.ready(),
          f2(r.p50()),
          f2(r.p95()),
          f2(r.p99()),
          f2(r.max()),
          f1(r.total()));
    }
    t.print();
    Map<String, Object> ratios = new LinkedHashMap<>();
    for (Row naive : rows) {
      if (!naive.strategy().equals("naive")) {
        continue;
      }
      for (Row ours : rows) {
        if (ours.strategy().equals("ours") && ours.n() == naive.n()) {
          double p50 = naive.p50() / ours.p50();
          double total = naive.total() / ours.total();
          OUT.printf(
              "naive / ours at N=%d: p50 %.0fx, total %.0fx (naive with one thread per binding,"
                  + " ours with %d)%n",
              naive.n(), p50, total, ours.concurrency());
          ratios.put("N=" + naive.n(), Map.of("p50", p50, "total", total));
          target(p50 >= 20, "naive/ours p50 at N=" + naive.n() + " is " + f1(p50) + " (>= 20)");
        }
      }
    }
    json.put("naiveOverOurs", ratios);
    for (Row r : rows) {
      if (r.strategy().equals("ours") && r.n() == 100 && r.concurrency() == opt.concurrency()) {
        target(r.p50() < 1, "p50 at N=100 is " + f2(r.p50()) + " s (< 1 s)");
        target(r.p99() < 3, "p99 at N=100 is " + f2(r.p99()) + " s (< 3 s)");
      }
    }
    OUT.println(
        "where the reconcile threads' time goes, per binding (ms): threads x total / N, and the"
            + " waits on IAM, Vault and Kubernetes writes within it");
    timeSplit.forEach(
        (r, split) -> OUT.printf("  N=%d, %d threads: %s%n", r.n(), r.concurrency(), split));
    OUT.println(
        "naive: waits for the next 30 s window, reads Vault's code, waits for the window after,"
            + " reads it again, enables with the two (30-60 s per enrolment).");
  }

  private void printCalls(RunResult r) {
    int n = r.row.ready();
    OUT.println();
    OUT.printf("2. Outside calls per binding (N=%d, averaged)%n", n);
    Table t =
        new Table(
            "path",
            "",
            "IAM reads",
            "IAM writes",
            "STS",
            "Vault reads",
            "Vault writes",
            "K8s writes");
    phase(t, "create", r.create, n, Minimum.CREATE);
    if (r.resync != null) {
      phase(t, "resync", r.resync, n, Minimum.RESYNC);
    }
    if (r.deletion != null) {
      phase(t, "delete", r.deletion, n, Minimum.DELETE);
    }
    t.print();
    OUT.println(
        "minimum: what the lifecycle needs (README, \"Benchmark\"); ratio: measured / minimum.");
    OUT.println("by operation: " + DIR.resolve("results.json"));
    OUT.print("slowest outside calls on the create path (mean ms per call):");
    r.create.meanSeconds().entrySet().stream()
        .limit(6)
        .forEach(e -> OUT.printf(" %s %.0f", e.getKey(), e.getValue() * 1000));
    OUT.println();
    if (r.resync != null) {
      long[] c = r.resync.columns();
      double reads = (c[0] + c[2] + c[3]) / (double) n;
      double writes = (c[1] + c[4] + c[5]) / (double) n;
      target(writes == 0, "resync writes per binding " + f2(writes) + " (0)");
      target(reads <= 2, "resync outside reads per binding " + f2(reads) + " (<= 2)");
    }
  }

  private static void phase(Table t, String name, Counts c, int n, long[] min) {
    long[] v = c.columns();
    Object[] measured = new Object[8];
    Object[] minimum = new Object[8];
    Object[] ratio = new Object[8];
    measured[0] = name;
    measured[1] = "measured";
    minimum[0] = "";
    minimum[1] = "minimum";
    ratio[0] = "";
    ratio[1] = "ratio";
    for (int i = 0; i < 6; i++) {
      double per = v[i] / (double) n;
      measured[i + 2] = f2(per);
      minimum[i + 2] = min[i];
      ratio[i + 2] = min[i] == 0 ? (per == 0 ? "-" : "n/a (min 0)") : f1(per / min[i]);
    }
    t.row(measured);
    t.row(minimum);
    t.row(ratio);
  }

  private void printRate(RunResult r, RunResult unlimited) {
    long iam = r.iamRequestsUntilReady;
    double bound = iam / (double) opt.rps();
    double actual = r.row.total();
    double efficiency = bound / actual;
    OUT.println();
    OUT.printf("3. Throughput with aws.iamRequestsPerSecond=%d (N=%d)%n", opt.rps(), r.row.n());
    Table t =
        new Table(
            "N",
            "Ready",
            "IAM requests until Ready",
            "bound (s)",
            "measured (s)",
            "bound/measured",
            "bindings/s",
            "IAM req/s",
            "most in 1 s");
    t.row(
        r.row.n(),
        r.row.ready(),
        iam,
        f1(bound),
        f1(actual),
        pct(efficiency),
        f2(r.row.ready() / actual),
        f1(r.iamRate),
        r.iamMostInOneSecond);
    t.print();
    OUT.println(
        "bound: IAM requests (HTTP attempts) sent until the last binding was Ready / rate;"
            + " measured: first create to last Ready. "
            + r.iamRequests
            + " IAM requests in all, the rest from reconciles after Ready.");
    if (unlimited != null) {
      long[] c = unlimited.create.columns();
      double perBinding = (c[0] + c[1]) / (double) unlimited.row.ready();
      OUT.printf(
          "IAM calls per binding without a limit (N=%d): %.2f; %d bindings: %.0f s at %d/s%n",
          unlimited.row.ready(),
          perBinding,
          r.row.n(),
          perBinding * r.row.n() / opt.rps(),
          opt.rps());
    }
    target(
        efficiency >= 0.9,
        "throughput at " + opt.rps() + " rps is " + pct(efficiency) + " of the bound (>= 90 %)");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rps", opt.rps());
    m.put("n", r.row.n());
    m.put("ready", r.row.ready());
    m.put("iamRequestsUntilLastReady", iam);
    m.put("iamRequests", r.iamRequests);
    m.put("iamRequestsPerSecondAchieved", r.iamRate);
    m.put("iamMostRequestsInOneSecond", r.iamMostInOneSecond);
    m.put("boundSeconds", bound);
    m.put("measuredSeconds", actual);
    m.put("boundOverMeasured", efficiency);
    m.put("timeToReadySeconds", r.row);
    m.put("createCalls", r.create.json(r.row.ready()));
    json.put("rateLimited", m);
  }

  // ---- memory and start-up, with the operator as its own process

  private void memory() throws IOException {
    String ns = "bench-memory";
    stack.createNamespace(ns);
    OUT.println();
    OUT.println(
        "4. Memory and start-up: the operator as its own process (java "
            + String.join(" ", OperatorProcess.JVM_OPTIONS)
            + " io.vaultmfa.operator.Main)");
    List<Map<String, Object>> rows = new ArrayList<>();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("jvmOptions", OperatorProcess.JVM_OPTIONS);
    int maxN = opt.memory().stream().mapToInt(Integer::intValue).max().orElse(0);
    List<String> all = names(maxN);
    try (Tracker tracker = new Tracker(stack.client, ns)) {
      // One binding before the start, so that the first reconcile is visible (its finalizer).
      createAll(ns, "mem", all.subList(0, 1));
      Path jfr = DIR.resolve("operator-process.jfr").toAbsolutePath();
      OperatorProcess p =
          OperatorProcess.start(
              stack,
              ns,
              DIR,
              "operator-process",
              opt.jfr()
                  ? List.of("-XX:StartFlightRecording=settings=profile,filename=" + jfr)
                  : List.of());
      try {
        boolean touched =
            Tracker.await(tracker.touched, all.subList(0, 1), Duration.ofSeconds(120));
        double startup =
            touched ? (tracker.touched.get(all.get(0)) - p.spawnedAt) / 1e9 : Double.NaN;
        OUT.printf("  first reconcile %.2f s after the process was started%n", startup);
        m.put("firstReconcileSeconds", startup);
        target(startup <= 5, "first reconcile " + f2(startup) + " s after start (<= 5 s)");
        int have = 1;
        for (int n : opt.memory()) {
          List<String> more = all.subList(have, n);
          long t = System.nanoTime();
          createAll(ns, "mem", more);
          boolean ok =
              Tracker.await(tracker.ready, all.subList(0, n), Duration.ofSeconds(300 + n / 5));
          double secs = secondsSince(t);
          int ready = (int) all.subList(0, n).stream().filter(tracker.ready::containsKey).count();
          OUT.printf(
              "  %d Ready (%d enrolled in %.0f s, %.1f/s)%s; measuring ...%n",
              ready,
              more.size(),
              secs,
              more.size() / secs,
              ok ? "" : " NOT ALL READY: " + tracker.notReadyReasons(all.subList(0, n)));
          sleep(Duration.ofSeconds(10));
          rows.add(measure(p, "after enrolling", n, ready, more.size() / secs));
          have = n;
        }
        p.close();
        if (opt.jfr()) {
          JfrSummary.print(jfr, 15, OUT);
        }
        // A restart with every binding present: the start-up a rollout sees.
        OUT.printf("  restarting the operator with %d Ready bindings ...%n", have);
        // With Native Memory Tracking, to show where resident memory goes.
        p =
            OperatorProcess.start(
                stack,
                ns,
                DIR,
                "operator-process-restart",
                List.of("-XX:NativeMemoryTracking=summary"));
        double first = Double.NaN;
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
          if (p.metric("operator_sdk_reconciliations_started_total") > 0) {
            first = (System.nanoTime() - p.spawnedAt) / 1e9;
            break;
          }
          sleep(Duration.ofMillis(100));
        }
        double allSeconds = Double.NaN;
        deadline = System.nanoTime() + Duration.ofSeconds(600).toNanos();
        while (System.nanoTime() < deadline) {
          // "started" counts reconciliations handed to the executor, queued ones too; finished
          // ones are what "all reconciled" means.
          if (p.metric("operator_sdk_reconciliations_success_total")
                  + p.metric("operator_sdk_reconciliations_failed_total")
              >= have) {
            allSeconds = (System.nanoTime() - p.spawnedAt) / 1e9;
            break;
          }
          sleep(Duration.ofSeconds(2));
        }
        OUT.printf(
            "  after the restart: first reconcile at %.2f s, all %d reconciled at %.0f s%n",
            first, have, allSeconds);
        m.put("restartFirstReconcileSeconds", first);
        m.put("restartAllReconciledSeconds", allSeconds);
        target(
            first <= 5,
            "first reconcile after a restart with "
                + have
                + " bindings "
                + f2(first)
                + " s (<= 5 s)");
        sleep(Duration.ofSeconds(10));
        rows.add(measure(p, "after a restart (NMT on)", have, have, Double.NaN));
        Map<String, Long> nmt = p.nativeMemoryMiB();
        m.put("nativeMemoryAfterRestartMiB", nmt);
        OUT.println("  committed by category (MiB, Native Memory Tracking): " + nmt);
        p.close();
      } finally {
        p.close();
      }
    }
    m.put("rows", rows);
    json.put("memory", m);
    Table t =
        new Table(
            "operator",
            "bindings",
            "RSS MiB",
            "peak RSS MiB",
            "heap used MiB",
            "heap committed MiB",
            "RSS after GC MiB");
    for (Map<String, Object> r : rows) {
      t.row(
          r.get("state"),
          r.get("bindings"),
          r.get("rssMiB"),
          r.get("peakRssMiB"),
          r.get("heapUsedAfterGcMiB"),
          r.get("heapCommittedMiB"),
          r.get("rssAfterGcMiB"));
    }
    t.print();
    OUT.println(
        "heap used: live objects after a full GC (jcmd GC.run, GC.heap_info); RSS: /proc/<pid>/status.");
  }

  private Map<String, Object> measure(
      OperatorProcess p, String state, int n, int ready, double rate) {
    long[] rss = p.rssKiB();
    long[] heap = p.heapAfterGcKiB();
    long[] rssAfter = p.rssKiB();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("state", state);
    r.put("bindings", n);
    r.put("ready", ready);
    r.put("enrolledPerSecond", rate);
    r.put("rssMiB", rss[0] / 1024);
    r.put("peakRssMiB", rss[1] / 1024);
    r.put("heapUsedAfterGcMiB", heap[0] / 1024);
    r.put("heapCommittedMiB", heap[1] / 1024);
    r.put("rssAfterGcMiB", rssAfter[0] / 1024);
    List<String> histogram = p.histogram(12);
    r.put("heapHistogramTop", histogram);
    OUT.printf(
        "  %s, %d bindings: RSS %d MiB (peak %d), heap used after GC %d MiB of %d committed%n",
        state, n, rss[0] / 1024, rss[1] / 1024, heap[0] / 1024, heap[1] / 1024);
    OUT.println("  live heap by class (MiB, instances, class):");
    histogram.forEach(h -> OUT.println("    " + h));
    if (n >= 10000) {
      target(
          rss[0] / 1024 < 256,
          "RSS at " + n + " bindings (" + state + ") is " + rss[0] / 1024 + " MiB (< 256 MiB)");
    }
    return r;
  }

  // ---- helpers

  /** Starts a part: its targets and the machine it was measured on are recorded with it. */
  private void part(String name) {
    part = name;
    measured.put(name, Machine.describe());
    missedByPart.put(name, new ArrayList<>());
  }

  private void target(boolean met, String what) {
    if (!met) {
      missed.add(what);
      missedByPart.get(part).add(what);
    }
  }

  static double secondsSince(long nanoStart) {
    return (System.nanoTime() - nanoStart) / 1e9;
  }

  static String f1(double d) {
    return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.1f", d);
  }

  static String f2(double d) {
    return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.2f", d);
  }

  static String pct(double d) {
    return String.format(Locale.ROOT, "%.0f %%", d * 100);
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Left-aligned columns, two spaces apart. */
  static final class Table {
    private final List<List<String>> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(Arrays.asList(header));
    }

    void row(Object... cells) {
      rows.add(Arrays.stream(cells).map(String::valueOf).collect(Collectors.toList()));
    }

    void print() {
      int cols = rows.get(0).size();
      int[] w = new int[cols];
      for (List<String> r : rows) {
        for (int i = 0; i < cols; i++) {
          w[i] = Math.max(w[i], r.get(i).length());
        }
      }
      for (List<String> r : rows) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cols; i++) {
          b.append(String.format("%-" + (w[i] + 2) + "s", r.get(i)));
        }
        OUT.println(b.toString().stripTrailing());
      }
    }
  }

  /** When the run started, for the record. */
  static final Instant STARTED = Instant.now();
}
