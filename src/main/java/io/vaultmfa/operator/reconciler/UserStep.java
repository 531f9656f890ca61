package io.vaultmfa.operator.reconciler;

import io.vaultmfa.operator.api.ConditionType;
import io.vaultmfa.operator.api.Reason;
import io.vaultmfa.operator.iam.IamUser;
import io.vaultmfa.operator.iam.MfaDevice;
import io.vaultmfa.operator.metrics.BindingMetrics;
import io.vaultmfa.operator.outside.OutsideCallException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Step 2: the IAM user exists (created or adopted) and carries the listed policies. */
final class UserStep {

  /**
   * The user, with its enabled MFA devices when they were listed on the way; empty when the user is
   * missing and may not be created (the binding waits).
   */
  record Found(IamUser user, Optional<List<MfaDevice>> devices) {}

  /**
   * The user of each binding whose last reconcile ended Ready in this process, by uid: a reconcile
   * triggered by the binding's own Secret may see the binding from before its status was written.
   */
  private final Map<String, Seen> seen = new java.util.concurrent.ConcurrentHashMap<>();

  private record Seen(
      long generation, String userArn, String accountId, Reason reason, String message) {}

  void forget(String bindingUid) {
    seen.remove(bindingUid);
  }

  /** A reconcile of this generation ended Ready: remember the user it found. */
  void ready(Run run) {
    var st = run.status();
    Long generation = run.binding().getMetadata().getGeneration();
    var c = st.condition(ConditionType.UserReady);
    if (generation == null || st.getUserArn() == null || st.getAccountId() == null || c.isEmpty()) {
      return;
    }
    Reason reason;
    try {
      reason = Reason.valueOf(c.get().getReason());
    } catch (IllegalArgumentException e) {
      return;
    }
    seen.put(
        run.desired().ownership().bindingUid(),
        new Seen(generation, st.getUserArn(), st.getAccountId(), reason, c.get().getMessage()));
  }

  Optional<Found> ensure(Run run) {
    Seen s = seen.get(run.desired().ownership().bindingUid());
    Long generation = run.binding().getMetadata().getGeneration();
    boolean remembered =
        s != null
            && generation != null
            && s.generation() == generation
            && s.userArn().endsWith("/" + run.desired().userName());
    if (remembered) {
      run.status().setUserArn(s.userArn());
      run.status().setAccountId(s.accountId());
      run.conditions().ok(ConditionType.UserReady, s.reason(), s.message());
    }
    if (remembered || known(run)) {
      // Status says this generation found the user: ListMFADevices, which the device step needs
      // anyway, answers NoSuchEntity when the user is gone, so GetUser is not asked again (I5).
      Desired d = run.desired();
      Optional<List<MfaDevice>> devices;
      try {
        devices = run.iam().devicesOf(d.userName());
        if (devices.isPresent()) {
          reconcilePolicies(run, d.userName());
          return Optional.of(
              new Found(new IamUser(d.userName(), run.status().getUserArn(), Map.of()), devices));
        }
      } catch (OutsideCallException e) {
        throw StepFailure.of(ConditionType.UserReady, e);
      }
    }
    return lookUp(run).map(u -> new Found(u, Optional.empty()));
  }

  /**
   * The binding was Ready for this generation of the spec, as status records it. A binding that is
   * failing looks the user up on each attempt.
   */
  private static boolean known(Run run) {
    var st = run.status();
    Long generation = run.binding().getMetadata().getGeneration();
    return st.condition(ConditionType.Ready)
            .filter(c -> Conditions.TRUE.equals(c.getStatus()))
            .isPresent()
        && st.getUserArn() != null
        && st.getUserArn().endsWith("/" + run.desired().userName())
        && st.getAccountId() != null
        && generation != null
        && generation.equals(st.getObservedGeneration())
        && st.condition(ConditionType.UserReady)
            .filter(c -> Conditions.TRUE.equals(c.getStatus()))
            .isPresent();
  }

  private Optional<IamUser> lookUp(Run run) {
    Desired d = run.desired();
    IamUser user;
    String before = run.status().getUserArn();
    boolean wasThere = before != null && before.endsWith("/" + d.userName());
    try {
      Optional<IamUser> found = run.iam().findUser(d.userName());
      if (found.isEmpty() && !d.createUser()) {
        run.conditions()
            .failed(
                ConditionType.UserReady,
                Reason.UserNotFound,
                "IAM user "
                    + d.userName()
                    + " does not exist"
                    + (wasThere ? " (it was deleted outside the operator)" : "")
                    + " and spec.iamUser.create is false");
        seen.remove(d.ownership().bindingUid());
        return Optional.empty();
      }
      if (found.isEmpty()) {
        Map<String, String> tags = new LinkedHashMap<>(d.userTags());
        tags.putAll(d.ownership().tags());
        user = run.iam().createUser(d.userName(), d.userPath(), tags);
        if (wasThere) {
          run.metrics().driftRepaired(BindingMetrics.DriftKind.USER);
          run.events()
              .normal(
                  run.binding(),
                  EventReason.DriftRepaired,
                  "IAM user " + user.arn() + " was deleted outside the operator; created it again");
        } else {
          run.events()
              .normal(run.binding(), EventReason.UserCreated, "Created IAM user " + user.arn());
        }
      } else {
        user = found.get();
        if (!wasThere && !d.ownership().owns(user.tags())) {
          run.events().normal(run.binding(), EventReason.UserAdopted, adopted(user));
        }
      }
      run.status().setAccountId(run.iam().accountId());
      run.status().setUserArn(user.arn());
      reconcilePolicies(run, user.name());
    } catch (OutsideCallException e) {
      throw StepFailure.of(ConditionType.UserReady, e);
    }
    boolean created = d.ownership().owns(user.tags());
    Reason reason = created ? Reason.UserCreated : Reason.UserAdopted;
    String message =
        created ? "IAM user " + user.arn() + " created by this binding" : adopted(user);
    run.conditions().ok(ConditionType.UserReady, reason, message);
    return Optional.of(user);
  }

  private static String adopted(IamUser user) {
    return "IAM user " + user.arn() + " adopted; it is kept when the binding is deleted";
  }

  /**
   * Attaches the listed policies and detaches those this binding attached earlier and no longer
   * lists. Policies attached by anyone else are left alone.
   */
  private void reconcilePolicies(Run run, String user) {
    List<String> wanted = run.desired().policyArns();
    List<String> ours =
        run.status().getAttachedPolicyArns() == null
            ? new ArrayList<>()
            : new ArrayList<>(run.status().getAttachedPolicyArns());
    if (wanted.isEmpty() && ours.isEmpty()) {
      return;
    }
    List<String> current = run.iam().attachedPolicies(user);
    try {
      for (String arn : wanted) {
        if (!current.contains(arn)) {
          run.iam().attachPolicy(user, arn);
          if (!ours.contains(arn)) {
            ours.add(arn);
          }
          run.events()
              .normal(
                  run.binding(),
                  EventReason.PolicyAttached,
                  "Attached policy " + arn + " to IAM user " + user);
        }
      }
      for (String arn : List.copyOf(ours)) {
        if (!wanted.contains(arn)) {
          run.iam().detachPolicy(user, arn);
          ours.remove(arn);
          run.events()
              .normal(
                  run.binding(),
                  EventReason.PolicyDetached,
                  "Detached policy " + arn + " from IAM user " + user);
        }
      }
    } finally {
      run.status().setAttachedPolicyArns(ours.isEmpty() ? null : List.copyOf(ours));
    }
  }
}
