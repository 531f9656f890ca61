package io.vaultmfa.operator.iam;

import java.util.Map;

/** An IAM user as observed. */
public record IamUser(String name, String arn, Map<String, String> tags) {}
