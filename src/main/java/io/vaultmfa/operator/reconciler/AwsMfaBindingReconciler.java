package io.vaultmfa.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vaultmfa.operator.api.AwsMfaBinding;
import io.vaultmfa.operator.api.AwsMfaBindingStatus;
import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.api.SpecValidator;
import io.vaultmfa.operator.iam.IamProvider;
import io.vaultmfa.operator.metrics.BindingMetrics;
import io.vaultmfa.operator.outside.OutsideCallException;
import io.vaultmfa.operator.vault.TotpEngine;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sequences the lifecycle of DESIGN.md section 3 for one binding: validate, user, device and Vault
 * key, Secret, status. Each step lives in its own class; this one only orders them and turns their
 * outcome into conditions.
 */
@ControllerConfiguration(
    name = AwsMfaBindingReconciler.NAME,
    finalizerName = AwsMfaBindingReconciler.FINALIZER)
public class AwsMfaBindingReconciler implements Reconciler<AwsMfaBinding>, Cleaner<AwsMfaBinding> {

  public static final String NAME = "awsmfabinding";
  public static final String FINALIZER = "vaultmfa.io/finalizer";
  private static final Logger LOG = LoggerFactory.getLogger(AwsMfaBindingReconciler.class);

  /** What the reconciler needs from the operator's configuration. */
  public record Settings(
      String clusterId, String defaultMount, String publicVaultAddress, Duration resync) {}

  private final Settings settings;
  private final IamProvider iam;
  private final TotpEngine vault;
  private final Clock clock;
  private final UserStep userStep = new UserStep();
  private final DeviceStep deviceStep;
  private final Cleanup cleanup;
  private volatile EventRecorder events;
  private volatile SecretStep secretStep;
  private static final BindingMetrics UNCOUNTED = BindingMetrics.of(new SimpleMeterRegistry());
  private volatile BindingMetrics metrics = UNCOUNTED;

  /** Builds the reconciler from what {@code Main} wires; the benchmark passes its own. */
  @FunctionalInterface
  public interface Factory {
    AwsMfaBindingReconciler create(Settings settings, IamProvider iam, TotpEngine vault);
  }

  public AwsMfaBindingReconciler(
      Settings settings,
      IamProvider iam,
      TotpEngine vault,
      Clock clock,
      DeviceStep.Sleeper sleeper) {
    this(settings, iam, vault, clock, sleeper, null);
  }

  /** With another way of getting a new device's enable codes (null: ours); for the benchmark. */
  AwsMfaBindingReconciler(
      Settings settings,
      IamProvider iam,
      TotpEngine vault,
      Clock clock,
      DeviceStep.Sleeper sleeper,
      DeviceStep.EnableCodes enableCodes) {
    this.settings = settings;
    this.iam = iam;
    this.vault = vault;
    this.clock = clock;
    this.deviceStep = new DeviceStep(vault, clock, sleeper, enableCodes);
    this.cleanup = new Cleanup(vault);
  }

  public AwsMfaBindingReconciler(Settings settings, IamProvider iam, TotpEngine vault) {
    this(
        settings,
        iam,
        vault,
        Clock.systemUTC(),
        t -> {
          long ms = t.toEpochMilli() - System.currentTimeMillis();
          if (ms > 0) {
            Thread.sleep(ms);
          }
        });
  }

  /** Where binding, enrolment and time-to-Ready metrics go; Main passes the operator's. */
  public AwsMfaBindingReconciler withMetrics(BindingMetrics metrics) {
    this.metrics = metrics;
    return this;
  }

  @Override
  public List<EventSource<?, AwsMfaBinding>> prepareEventSources(
      EventSourceContext<AwsMfaBinding> context) {
    var secrets =
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Secret.class, AwsMfaBinding.class)
                .withLabelSelector(SecretStep.MANAGED_BY_LABEL + "=" + SecretStep.MANAGED_BY)
                .withItemStore(withoutManagedFields())
                .build(),
            context);
    return List.of(secrets);
  }

  /**
   * An informer cache that keeps each object without its {@code metadata.managedFields}: nothing
   * here reads them, and as nested maps they were the larger part of a cached binding. The operator
   * never writes a cached object back whole (server-side apply, or a fresh read to edit), and an
   * update without managedFields would leave the server's unchanged anyway.
   */
  public static <R extends HasMetadata> ItemStore<R> withoutManagedFields() {
    return new TransformingItemStore<>(
        r -> {
          r.getMetadata().setManagedFields(null);
          return r;
        });
  }

  @Override
  public UpdateControl<AwsMfaBinding> reconcile(
      AwsMfaBinding binding, Context<AwsMfaBinding> context) {
    init(context);
    String before = json(binding.getStatus());
    Run run = start(binding);
    List<String> problems = new java.util.ArrayList<>(SpecValidator.problems(binding));
    if (problems.isEmpty()) {
      problems.addAll(changedAfterEnrolment(run));
    }
    if (!problems.isEmpty()) {
      throw new StepFailure(ConditionType.Ready, Reason.InvalidSpec, String.join("; ", problems));
    }

    Optional<UserStep.Found> found = userStep.ensure(run);
    if (found.isEmpty()) {
      waitingForUser(run);
      return finish(run, before).rescheduleAfter(retryWhileWaiting());
    }

    Optional<Instant> rotation = deviceStep.ensure(run, found.get().user(), found.get().devices());

    secretStep.ensure(run, context.getSecondaryResources(Secret.class));

    UpdateControl<AwsMfaBinding> control = finish(run, before);
    if (run.status()
        .condition(ConditionType.Ready)
        .filter(c -> Conditions.TRUE.equals(c.getStatus()))
        .isPresent()) {
      userStep.ready(run);
    }
    if (rotation.isPresent()) {
      // Look again when the rotation interval comes due, if that is before the next resync.
      Duration until = Duration.between(Instant.now(clock), rotation.get());
      if (until.compareTo(settings.resync()) < 0) {
        control.rescheduleAfter(
            until.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : until);
      }
    }
    return control;
  }

  @Override
  public ErrorStatusUpdateControl<AwsMfaBinding> updateErrorStatus(
      AwsMfaBinding binding, Context<AwsMfaBinding> context, Exception e) {
    init(context);
    if (isConflict(e)) {
      // The binding changed while this reconcile worked on it (a spec edit, a rotation token): its
      // status write met a newer version. Nothing failed; the retry sees the newer version.
      LOG.debug("binding changed during the reconcile; looking again", e);
      return ErrorStatusUpdateControl.noStatusUpdate();
    }
    StepFailure f = asStepFailure(e);
    Run run = start(binding);
    userStep.forget(binding.getMetadata().getUid());
    if (f.reason() == Reason.InvalidSpec) {
      for (ConditionType t :
          List.of(
              ConditionType.UserReady,
              ConditionType.DeviceEnrolled,
              ConditionType.VaultKeyReady,
              ConditionType.SecretReady)) {
        run.conditions().pending(t, f.reason(), "nothing is done while the spec is invalid");
      }
      run.conditions().failed(ConditionType.Ready, f.reason(), f.getMessage());
    } else if (f.step() == ConditionType.Ready) {
      run.conditions().failed(ConditionType.Ready, f.reason(), f.getMessage());
    } else {
      run.conditions().failed(f.step(), f.reason(), f.getMessage());
      run.conditions().summarise();
    }
    binding.getStatus().setObservedGeneration(binding.getMetadata().getGeneration());
    LOG.info("{}: {} ({})", run.ref(), f.getMessage(), f.reason());
    run.events()
        .warning(
            binding,
            f.reason() == Reason.InvalidSpec
                ? EventReason.InvalidSpec
                : EventReason.ReconcileFailed,
            f.getMessage());
    ErrorStatusUpdateControl<AwsMfaBinding> control = ErrorStatusUpdateControl.patchStatus(binding);
    if (f.terminal()) {
      // Retrying cannot help until the spec changes; a resync still looks again later.
      return control.withNoRetry().rescheduleAfter(settings.resync());
    }
    return control;
  }

  @Override
  public DeleteControl cleanup(AwsMfaBinding binding, Context<AwsMfaBinding> context) {
    init(context);
    Run run = start(binding);
    var st = binding.getStatus();
    boolean recorded =
        st.getUserArn() != null || st.getSerialNumber() != null || st.getVaultCodePath() != null;
    if (!recorded && !SpecValidator.problems(binding).isEmpty()) {
      // Nothing was ever created for an invalid spec; an edited-to-invalid one that was enrolled
      // is cleaned up from the names in its status.
      LOG.info(
          "{}: spec is invalid and nothing was created outside; removing the finalizer", run.ref());
      return DeleteControl.defaultDelete();
    }
    try {
      cleanup.run(run);
    } catch (OutsideCallException e) {
      reportDeletionFailing(context, binding, e);
      throw e;
    }
    metrics.deleted(binding);
    deviceStep.forget(binding.getMetadata().getUid());
    userStep.forget(binding.getMetadata().getUid());
    return DeleteControl.defaultDelete();
  }

  /**
   * Says on the binding that its deletion is stuck: Ready turns False with reason Deleting and the
   * failure. The condition is written again only when the failing operation or its error code
   * changes (not for a new request id in the same error), because each status write is an event
   * that starts the cleanup once more ahead of its backoff; the latest failure of each attempt is a
   * CleanupFailed Event.
   */
  private void reportDeletionFailing(
      Context<AwsMfaBinding> context, AwsMfaBinding binding, OutsideCallException e) {
    String cause = "cannot " + e.operation() + (e.code().isBlank() ? "" : ": " + e.code());
    boolean said =
        binding.getStatus() != null
            && binding
                .getStatus()
                .condition(ConditionType.Ready)
                .filter(c -> Reason.Deleting.name().equals(c.getReason()))
                .filter(c -> c.getMessage() != null && c.getMessage().contains(cause))
                .isPresent();
    if (said) {
      return;
    }
    String message =
        "deletion failed and is retried with backoff (each failure is a CleanupFailed Event): "
            + e.getMessage();
    try {
      context
          .getClient()
          .resources(AwsMfaBinding.class)
          .inNamespace(binding.getMetadata().getNamespace())
          .withName(binding.getMetadata().getName())
          .editStatus(
              current -> {
                if (current.getStatus() == null) {
                  current.setStatus(new AwsMfaBindingStatus());
                }
                new Conditions(current.getStatus(), current.getMetadata().getGeneration(), clock)
                    .failed(ConditionType.Ready, Reason.Deleting, message);
                return current;
              });
    } catch (RuntimeException k) {
      // Gone already, or the API server is away: the Event and the retry still happen, and the
      // cleanup's own failure is what JOSDK sees.
      LOG.debug("could not write the Deleting condition", k);
    }
  }

  /**
   * The CRD's CEL rules make the names immutable; this catches the same change on API servers that
   * do not run them, before anything is created under a second name.
   */
  private static List<String> changedAfterEnrolment(Run run) {
    AwsMfaBindingStatus st = run.status();
    Desired d = run.desired();
    List<String> p = new java.util.ArrayList<>();
    if (st.getUserArn() != null && !st.getUserArn().endsWith("/" + d.userName())) {
      p.add("spec.iamUser.name: is immutable (enrolled as " + st.getUserArn() + ")");
    }
    if (st.getSerialNumber() != null
        && DeviceNames.generation(st.getSerialNumber(), d.devicePath(), d.deviceName()).isEmpty()) {
      p.add(
          "spec.mfaDevice: name and path are immutable (enrolled as " + st.getSerialNumber() + ")");
    }
    if (st.getVaultCodePath() != null && !st.getVaultCodePath().equals(d.codePath())) {
      p.add(
          "spec.vault: mount and keyName are immutable (enrolled at "
              + st.getVaultCodePath()
              + ")");
    }
    return p;
  }

  private Run start(AwsMfaBinding binding) {
    if (binding.getStatus() == null) {
      binding.setStatus(new AwsMfaBindingStatus());
    }
    Desired desired = Desired.of(binding, settings.defaultMount(), settings.clusterId());
    Conditions conditions =
        new Conditions(binding.getStatus(), binding.getMetadata().getGeneration(), clock);
    return new Run(
        binding,
        desired,
        iam.forRole(desired.roleArn()),
        conditions,
        events,
        metrics,
        binding.getStatus().getSerialNumber());
  }

  private void waitingForUser(Run run) {
    run.conditions()
        .pending(
            ConditionType.DeviceEnrolled,
            Reason.WaitingForUser,
            "waiting for IAM user " + run.desired().userName());
    run.conditions()
        .pending(
            ConditionType.VaultKeyReady, Reason.WaitingForDevice, "waiting for the MFA device");
    run.conditions()
        .pending(ConditionType.SecretReady, Reason.WaitingForDevice, "waiting for the MFA device");
  }

  private UpdateControl<AwsMfaBinding> finish(Run run, String before) {
    run.conditions().summarise();
    AwsMfaBinding binding = run.binding();
    binding.getStatus().setObservedGeneration(binding.getMetadata().getGeneration());
    metrics.reconciled(binding, before);
    if (json(binding.getStatus()).equals(before)) {
      return UpdateControl.noUpdate();
    }
    return UpdateControl.patchStatus(binding);
  }

  private Duration retryWhileWaiting() {
    Duration oneMinute = Duration.ofMinutes(1);
    return settings.resync().compareTo(oneMinute) < 0 ? settings.resync() : oneMinute;
  }

  private static boolean isConflict(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof io.fabric8.kubernetes.client.KubernetesClientException k) {
        return k.getCode() == 409;
      }
      if (t instanceof StepFailure || t instanceof OutsideCallException) {
        return false;
      }
    }
    return false;
  }

  private static StepFailure asStepFailure(Exception e) {
    // The framework hands the failure over wrapped in its own exception.
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StepFailure f) {
        return f;
      }
      if (t instanceof OutsideCallException o) {
        return StepFailure.of(ConditionType.Ready, o);
      }
      if (t instanceof io.fabric8.kubernetes.client.KubernetesClientException k) {
        return new StepFailure(
            ConditionType.Ready,
            Reason.KubernetesError,
            "cannot update the binding: HTTP " + k.getCode(),
            k);
      }
    }
    LOG.warn("unexpected failure", e);
    return new StepFailure(
        ConditionType.Ready,
        Reason.InternalError,
        "unexpected failure: " + e.getClass().getSimpleName(),
        e);
  }

  private static String json(AwsMfaBindingStatus s) {
    return s == null ? "" : Serialization.asJson(s);
  }

  private void init(Context<AwsMfaBinding> context) {
    if (events == null) {
      synchronized (this) {
        if (events == null) {
          secretStep = new SecretStep(context.getClient(), settings.publicVaultAddress());
          events = new EventRecorder(context.getClient(), clock, metrics);
        }
      }
    }
  }
}
