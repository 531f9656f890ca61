package io.vaultmfa.operator.iam;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The tags that mark an IAM user or MFA device as created by one binding of one cluster. The
 * operator changes only what carries both the binding's uid and its own cluster id.
 */
public record Ownership(String clusterId, String bindingUid, String bindingRef) {

  public static final String CLUSTER_TAG = "vaultmfa.io/cluster-id";
  public static final String UID_TAG = "vaultmfa.io/binding-uid";
  public static final String BINDING_TAG = "vaultmfa.io/binding";

  public Map<String, String> tags() {
    Map<String, String> t = new LinkedHashMap<>();
    t.put(CLUSTER_TAG, clusterId);
    t.put(UID_TAG, bindingUid);
    // Informational; IAM tag values hold at most 256 characters.
    t.put(BINDING_TAG, bindingRef.length() <= 256 ? bindingRef : bindingRef.substring(0, 256));
    return t;
  }

  public boolean owns(Map<String, String> tags) {
    return clusterId.equals(tags.get(CLUSTER_TAG)) && bindingUid.equals(tags.get(UID_TAG));
  }

  /** Tagged by some binding of the operator, this one or another. */
  public static boolean managed(Map<String, String> tags) {
    return tags.containsKey(UID_TAG);
  }
}
