# Vault (or OpenBao) policy for the operator, for the TOTP engine at totp/.
#
# The operator writes a key (create; update when it enrols again under the same name), reads it
# to see whose seed it holds, deletes it when the binding goes, and reads the key's current code
# to check that Vault holds the seed IAM issued. Nothing else: no list, no other mount, no sudo.
# Workloads that only need codes get read on totp/code/<key> alone.
#
# Key names are spec.vault.keyName, by default <namespace>.<binding name>, so one operator per
# team can be held to its namespaces' keys, e.g. "totp/keys/team-a.*" and "totp/code/team-a.*".
# Bindings that set spec.vault.mount to another TOTP mount need the same two paths there.
# Token renewal and lookup (auth/token/renew-self, lookup-self) come from Vault's `default`
# policy, which Vault attaches to tokens unless the role sets token_no_default_policy.
path "totp/keys/*" {
  capabilities = ["create", "update", "read", "delete"]
}

path "totp/code/*" {
  capabilities = ["read"]
}
