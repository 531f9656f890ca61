package io.vaultmfa.operator.testing;

import io.vaultmfa.operator.testing.IamPolicy.Request;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.CreateUserRequest;
import software.amazon.awssdk.services.iam.model.CreateVirtualMfaDeviceRequest;
import software.amazon.awssdk.services.iam.model.IamException;
import software.amazon.awssdk.services.iam.model.Tag;
import software.amazon.awssdk.services.sts.model.AssumeRoleRequest;

/**
 * Sits at the operator's IAM and STS boundary and writes down, for every call, what IAM authorizes
 * it by: the action, the resource ARN (the user, the MFA device, the role, or {@code *} for actions
 * without a resource type, as the Service Authorization Reference lists them) and the condition
 * keys: tags in the request ({@code aws:RequestTag/*}, {@code aws:TagKeys}), tags the resource
 * carries at that moment ({@code aws:ResourceTag/*}, read from the emulator just before the call)
 * and the tags of the operator's own principal. Creating a user or device with tags is also
 * authorized as {@code iam:TagUser} / {@code iam:TagMFADevice}, which IAM checks for tag-on-create.
 */
public final class IamAuthorizations implements ExecutionInterceptor {

  /** The operator's IAM principal is tagged with its cluster id, as the README says to do. */
  public static final String PRINCIPAL_CLUSTER_TAG = "vaultmfa.io/cluster-id";

  private final IamClient lookup;
  private final String account;
  private final Map<String, String> principalTags;
  private final List<Request> requests = new CopyOnWriteArrayList<>();

  public IamAuthorizations(IamClient lookup, String account, Map<String, String> principalTags) {
    this.lookup = lookup;
    this.account = account;
    this.principalTags = principalTags;
  }

  /** Every authorization the operator's calls needed so far, in order. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  @Override
  public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
    String service = attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME);
    String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    String prefix = service.equalsIgnoreCase("sts") ? "sts" : "iam";
    SdkRequest r = context.request();
    Map<String, List<String>> keys = new LinkedHashMap<>();
    principalTags.forEach((k, v) -> keys.put("aws:PrincipalTag/" + k, List.of(v)));
    String resource = resourceOf(operation, r, keys);
    requests.add(new Request(prefix + ":" + operation, resource, keys));
    List<Tag> created = createdTags(r);
    if (!created.isEmpty()) {
      String tagAction = r instanceof CreateUserRequest ? "iam:TagUser" : "iam:TagMFADevice";
      requests.add(new Request(tagAction, resource, keys));
    }
  }

  private String resourceOf(String operation, SdkRequest r, Map<String, List<String>> keys) {
    if (r instanceof AssumeRoleRequest a) {
      return a.roleArn();
    }
    if (r instanceof CreateUserRequest c) {
      requestTags(c.tags(), keys);
      return arn("user" + pathOr(c.path()) + c.userName());
    }
    if (r instanceof CreateVirtualMfaDeviceRequest c) {
      requestTags(c.tags(), keys);
      return arn("mfa" + pathOr(c.path()) + c.virtualMFADeviceName());
    }
    var user = r.getValueForField("UserName", String.class);
    if (user.isPresent()) {
      return userArn(user.get(), keys);
    }
    var serial = r.getValueForField("SerialNumber", String.class);
    if (serial.isPresent()) {
      deviceTags(serial.get(), keys);
      return serial.get();
    }
    // ListVirtualMFADevices, GetCallerIdentity: no resource type, authorized on "*".
    return "*";
  }

  private String userArn(String name, Map<String, List<String>> keys) {
    try {
      String arn = lookup.getUser(b -> b.userName(name)).user().arn();
      for (Tag t : lookup.listUserTags(b -> b.userName(name)).tags()) {
        keys.put("aws:ResourceTag/" + t.key(), List.of(t.value()));
        keys.put("iam:ResourceTag/" + t.key(), List.of(t.value()));
      }
      return arn;
    } catch (IamException e) {
      return arn("user/" + name);
    }
  }

  private void deviceTags(String serial, Map<String, List<String>> keys) {
    try {
      for (Tag t : lookup.listMFADeviceTags(b -> b.serialNumber(serial)).tags()) {
        keys.put("aws:ResourceTag/" + t.key(), List.of(t.value()));
      }
    } catch (IamException e) {
      // not there: no resource tags
    }
  }

  private static void requestTags(List<Tag> tags, Map<String, List<String>> keys) {
    List<String> names = new ArrayList<>();
    for (Tag t : tags) {
      keys.put("aws:RequestTag/" + t.key(), List.of(t.value()));
      names.add(t.key());
    }
    if (!names.isEmpty()) {
      keys.put("aws:TagKeys", names);
    }
  }

  private static List<Tag> createdTags(SdkRequest r) {
    if (r instanceof CreateUserRequest c) {
      return c.tags();
    }
    if (r instanceof CreateVirtualMfaDeviceRequest c) {
      return c.tags();
    }
    return List.of();
  }

  private String arn(String resource) {
    return "arn:aws:iam::" + account + ":" + resource;
  }

  private static String pathOr(String path) {
    return path == null || path.isEmpty() ? "/" : path;
  }
}
